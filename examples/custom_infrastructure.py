"""The guide's ``example:custom-infrastructure``, in Python, and it actually runs.

* ``MyOllamaProvider`` — a custom text provider extending ``BaseTextProvider``
  (the guide's Ollama-style provider over ``/api/generate``), registered as an instance;
* ``SQLiteTokenStorage`` — a custom ``IOAuthTokenStorage`` that encrypts at rest with
  the kit's key ring and passes the storage conformance kit;
* ``RateLimitedToolExecutor`` and ``CachingToolExecutor`` — the guide's two executors,
  done properly (window reset before counting, errors and invalid JSON never cached,
  a bounded cache), bound in the container so that every agent's tool calls go through them.

It starts the local server it talks to (an Ollama-style ``/api/generate`` and an
OpenAI-compatible chat endpoint whose model calls the tools it is offered).
The guide's other examples: ``cohere_provider.py``, ``redis_token_storage.py``,
``postgres_token_storage.py``, ``mongo_token_storage.py``.

Run: .venv/bin/python examples/custom_infrastructure.py
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from dependency_injector import providers
from pydantic import BaseModel, ValidationError

from oneringai import (
    BaseTextProvider,
    IOAuthTokenStorage,
    IToolExecutor,
    KeyRing,
    KeyValidationResult,
    LLMResponse,
    Message,
    MessageRole,
    ModelCapabilities,
    OneRingAI,
    OutputTextContent,
    ProviderErrorMapper,
    ProviderResponseError,
    ResponseCompleteEvent,
    StoredToken,
    StreamEvent,
    TextGenerateOptions,
    TokenStorageError,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
    Usage,
    tool,
)
from oneringai.infrastructure.token_storage import generate_key

sys.path.insert(0, str(Path(__file__).parent))
from _local_llm import chat_completions, serve


# --- 1. A custom text provider (Approach 1: extend BaseTextProvider) -------------------------
class _GenerateAnswer(BaseModel):  # the part of Ollama's /api/generate answer we read
    response: str
    prompt_eval_count: int = 0
    eval_count: int = 0


class MyOllamaProvider(BaseTextProvider):
    name = "myai"
    requires_api_key = False

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.base_url = (self.config.base_url or "http://localhost:11434").rstrip("/")

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        if not api_key.startswith("myai_"):
            return KeyValidationResult(is_valid=False, warning="MyAI keys should start with myai_")
        return KeyValidationResult(is_valid=True)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        url = f"{self.base_url}/api/generate"
        try:
            response = await self.http.post(url, json={
                "model": options.model, "prompt": self.normalize_input_to_string(options.input), "stream": False,
            })
        except Exception as exc:
            raise ProviderErrorMapper.map_error(exc, self.name, model=options.model, url=url) from exc
        if response.status_code >= 400:
            raise ProviderErrorMapper.from_http_response(
                response.status_code, response.content, response.headers, provider=self.name, model=options.model
            )
        try:  # validated once: a surprising body is a ProviderResponseError, never a KeyError
            data = _GenerateAnswer.model_validate_json(response.content)
        except ValidationError as exc:
            raise ProviderResponseError(f"unexpected answer from {url}: {exc.errors()[0]['msg']}",
                                        provider=self.name, model=options.model) from None
        return LLMResponse(
            model=options.model,
            output=[Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=data.response)])],
            usage=Usage(input_tokens=data.prompt_eval_count, output_tokens=data.eval_count,
                        total_tokens=data.prompt_eval_count + data.eval_count),
            stop_reason="complete",
        )

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        # Allowed by the checklist: a provider without streaming may answer in one event.
        yield ResponseCompleteEvent(response=await self.generate(options))

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities(max_input_tokens=2048, max_output_tokens=2048, supports_tools=False,
                                 supports_streaming=False, supports_json=False)


# --- 2. A custom token storage (SQLite, encrypted with the kit's key ring) --------------------
class SQLiteTokenStorage(IOAuthTokenStorage):
    """Encrypts every token (AES-256-GCM, key bound to the record's key) before it hits disk."""

    def __init__(self, path: str, key_ring: KeyRing) -> None:
        self.key_ring = key_ring
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, envelope TEXT NOT NULL, expires_at REAL)")
        self._lock = asyncio.Lock()

    async def _run(self, sql: str, *args: Any) -> list[Any]:
        async with self._lock:  # one connection, one statement at a time
            try:
                return await asyncio.to_thread(lambda: self._db.execute(sql, args).fetchall())
            except sqlite3.Error as exc:  # our typed error, not sqlite3's
                raise TokenStorageError(f"{type(exc).__name__}: {exc}", backend="sqlite") from exc

    async def store_token(self, key: str, token: StoredToken) -> None:
        expires = None if token.refresh_token else token.expires_at
        await self._run("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", key, self.key_ring.seal(key, token), expires)

    async def get_token(self, key: str) -> StoredToken | None:
        rows = await self._run("SELECT envelope FROM tokens WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", key, time.time())
        return self.key_ring.open(key, rows[0][0]) if rows else None

    async def delete_token(self, key: str) -> None:
        await self._run("DELETE FROM tokens WHERE key = ?", key)

    async def has_token(self, key: str) -> bool:
        rows = await self._run("SELECT 1 FROM tokens WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", key, time.time())
        return bool(rows)

    async def list_keys(self, prefix: str = "") -> list[str]:
        rows = await self._run("SELECT key FROM tokens WHERE substr(key, 1, length(?)) = ? ORDER BY key", prefix, prefix)
        return [r[0] for r in rows]


# --- 3. The guide's two executors, done properly ----------------------------------------------
class RateLimitedToolExecutor(IToolExecutor):
    def __init__(self, inner: IToolExecutor, max_calls_per_minute: int = 10) -> None:
        self.inner = inner
        self.max_calls = max_calls_per_minute
        self.window_start = time.monotonic()
        self.counts: dict[str, int] = {}

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        if time.monotonic() - self.window_start > 60:  # reset *before* counting
            self.counts.clear()
            self.window_start = time.monotonic()
        name = tool_call.function.name
        if self.counts.get(name, 0) >= self.max_calls:
            return ToolResult.failure(tool_call, f"Rate limit exceeded: {self.max_calls} calls/minute", code="rate_limited")
        self.counts[name] = self.counts.get(name, 0) + 1
        return await self.inner.execute_tool(tool_call, context)


class CachingToolExecutor(IToolExecutor):
    def __init__(self, inner: IToolExecutor, max_entries: int = 1000) -> None:
        self.inner = inner
        self.max_entries = max_entries  # bounded: the guide's Map grows forever
        self.cache: dict[str, str] = {}

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        name = tool_call.function.name
        tool = context.find_tool(name)
        try:
            key = f"{name}:{json.dumps(tool_call.parsed_arguments(), sort_keys=True)}"
        except ValueError:  # the model wrote invalid JSON: the inner executor reports it
            return await self.inner.execute_tool(tool_call, context)
        if key in self.cache:
            print(f"   cache hit for {name}")
            return ToolResult(tool_call_id=tool_call.id, tool_name=name, output=self.cache[key])
        result = await self.inner.execute_tool(tool_call, context)
        if not result.is_error and tool is not None and tool.cacheable:  # never cache failures
            if len(self.cache) >= self.max_entries:
                self.cache.pop(next(iter(self.cache)))  # drop the oldest
            self.cache[key] = result.output
        return result


# --- a local Ollama-style server for the custom provider --------------------------------------
async def _generate(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"model": body["model"], "response": f"[{body['model']}] echo: {body['prompt']}",
                              "done": True, "prompt_eval_count": 5, "eval_count": 7})


YAML = """
text:
  default: local
  providers:  # a built-in kind beside the instance: an OpenAI-compatible model that calls tools
    local: {kind: openai, base_url: "${LOCAL_LLM_URL}", api_key: "local-key-1234", default_model: local}
oauth:
  storage: {kind: memory}
  connections:
    demo: {flow: static_token, access_token: "${DEMO_TOKEN:-static-demo-token}"}
tools:
  executor:
    - {kind: audit}
"""


@tool
def word_count(text: str) -> int:
    """Count words."""
    return len(text.split())


async def main() -> None:
    app = web.Application()
    app.router.add_post("/api/generate", _generate)
    app.router.add_post("/v1/chat/completions", chat_completions)
    async with serve(app) as base_url:
        await demo(base_url)


async def demo(base_url: str) -> None:
    workdir = Path(tempfile.mkdtemp())
    config = workdir / "oneringai.yaml"
    config.write_text(YAML)
    provider = MyOllamaProvider({"base_url": base_url})
    env = {"LOCAL_LLM_URL": f"{base_url}/v1"}
    async with OneRingAI.from_config(config, providers={"myai": provider}, env=env) as client:
        print("1. custom provider registered as an instance:")
        print("  ", await client.text.generate("Hello!", provider="myai", model="llama2"))

        print("2. custom SQLite token storage bound in the container:")
        storage = SQLiteTokenStorage(str(workdir / "tokens.db"), KeyRing.from_strings([generate_key()]))
        client.container.token_storage.override(providers.Object(storage))
        await client.token_storage.store_token("github:client:user123", StoredToken(access_token="gho_example", expires_in=3600))
        await client.token_storage.store_token("github:client:user456", StoredToken(access_token="gho_other", expires_in=3600))
        print("   stored keys:", await client.token_storage.list_keys("github:"))
        raw = (workdir / "tokens.db").read_bytes()
        print("   plaintext token on disk?", b"gho_example" in raw)
        print("   static-token connection:", await client.oauth("demo").get_token())

        print("3. the guide's executors, bound in the container for every agent:")
        # Replaces the YAML stack (tools.executor) for every agent and client.tools call made
        # while the override is in place (managers resolve the binding on each use).
        stack = CachingToolExecutor(RateLimitedToolExecutor(client.container.direct_tool_executor(), max_calls_per_minute=2))
        client.container.tool_executor.override(providers.Object(stack))
        for city in ["Paris", "Paris", "Rome", "Oslo"]:  # Paris twice: the second is a cache hit
            agent = client.agents.create(model="local", tools=[word_count])
            answer = await agent.run(f"How many words are in {city}?")
            print(f"   {city}: {answer.output_text}")
    await provider.destroy()  # the instance is yours (its HTTP client was the facade's)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
