"""The guide's ``example:custom-infrastructure``, in Python, and it actually runs.

* ``MyOllamaProvider`` — a custom text provider extending ``BaseTextProvider``
  (the guide's Ollama-style provider over ``/api/generate``), registered as an instance;
* ``SQLiteTokenStorage`` — a custom ``IOAuthTokenStorage`` that encrypts at rest with
  the kit's key ring and passes the storage conformance kit;
* ``RateLimitedToolExecutor`` and ``CachingToolExecutor`` — the guide's two executors,
  done properly (window reset before counting, errors never cached);

all wired through the container and YAML. It starts the local server it talks to.

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

from oneringai import (
    BaseTextProvider,
    IOAuthTokenStorage,
    IToolExecutor,
    LLMResponse,
    Message,
    MessageRole,
    ModelCapabilities,
    OneRingAI,
    OutputTextContent,
    ProviderErrorMapper,
    ResponseCompleteEvent,
    StoredToken,
    StreamEvent,
    TextGenerateOptions,
    ToolCall,
    ToolExecutionContext,
    ToolResult,
    Usage,
    tool,
)
from oneringai.application.tools import DirectToolExecutor
from oneringai.infrastructure.providers.base import KeyValidationResult
from oneringai.infrastructure.token_storage.encryption import KeyRing, generate_key

sys.path.insert(0, str(Path(__file__).parent))
from _local_llm import serve


# --- 1. A custom text provider (Approach 1: extend BaseTextProvider) -------------------------
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
        data = response.json()
        return LLMResponse(
            model=options.model,
            output=[Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=data["response"])])],
            usage=Usage(input_tokens=data.get("prompt_eval_count", 0), output_tokens=data.get("eval_count", 0),
                        total_tokens=data.get("prompt_eval_count", 0) + data.get("eval_count", 0)),
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
            return await asyncio.to_thread(lambda: self._db.execute(sql, args).fetchall())

    async def store_token(self, key: str, token: StoredToken) -> None:
        expires = None if token.refresh_token else token.expires_at
        await self._run("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", key, self.key_ring.seal_token(key, token), expires)

    async def get_token(self, key: str) -> StoredToken | None:
        rows = await self._run("SELECT envelope FROM tokens WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", key, time.time())
        return self.key_ring.open_token(key, rows[0][0]) if rows else None

    async def delete_token(self, key: str) -> None:
        await self._run("DELETE FROM tokens WHERE key = ?", key)

    async def has_token(self, key: str) -> bool:
        rows = await self._run("SELECT 1 FROM tokens WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", key, time.time())
        return bool(rows)

    async def list_keys(self, prefix: str = "") -> list[str]:
        rows = await self._run("SELECT key FROM tokens WHERE substr(key, 1, length(?)) = ? ORDER BY key", prefix, prefix)
        return [r[0] for r in rows]

    # lets the conformance kit corrupt a record to prove tampering is detected
    async def _get(self, key: str) -> tuple[str, float | None]:
        rows = await self._run("SELECT envelope, expires_at FROM tokens WHERE key = ?", key)
        return rows[0][0], rows[0][1]

    async def _put(self, key: str, envelope: str, expires_at: float | None) -> None:
        await self._run("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", key, envelope, expires_at)


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
    def __init__(self, inner: IToolExecutor) -> None:
        self.inner = inner
        self.cache: dict[str, str] = {}

    async def execute_tool(self, tool_call: ToolCall, context: ToolExecutionContext) -> ToolResult:
        key = f"{tool_call.function.name}:{json.dumps(json.loads(tool_call.function.arguments or '{}'), sort_keys=True)}"
        if key in self.cache:
            print(f"   cache hit for {tool_call.function.name}")
            return ToolResult(tool_call_id=tool_call.id, output=self.cache[key])
        result = await self.inner.execute_tool(tool_call, context)
        if not result.is_error:  # never cache failures
            self.cache[key] = result.output
        return result


# --- a local Ollama-style server for the custom provider --------------------------------------
async def _generate(request: web.Request) -> web.Response:
    body = await request.json()
    return web.json_response({"model": body["model"], "response": f"[{body['model']}] echo: {body['prompt']}",
                              "done": True, "prompt_eval_count": 5, "eval_count": 7})


YAML = """
text:
  default: null
  providers: {}
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
    async with serve(app) as base_url:
        await demo(base_url)


async def demo(base_url: str) -> None:
    workdir = Path(tempfile.mkdtemp())
    config = workdir / "oneringai.yaml"
    config.write_text(YAML)
    provider = MyOllamaProvider({"base_url": base_url})
    async with OneRingAI.from_config(config, providers={"myai": provider}) as client:
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

        print("3. the guide's executors, stacked and bound in the container:")
        executor = CachingToolExecutor(RateLimitedToolExecutor(DirectToolExecutor(), max_calls_per_minute=2))
        client.container.tool_executor.override(providers.Object(executor))
        context = ToolExecutionContext(tools=[word_count])
        for text in ["one two three", "one two three", "a b", "c d e f"]:
            call = ToolCall.model_validate({"id": f"c{text}", "function": {"name": "word_count", "arguments": json.dumps({"text": text})}})
            result = await executor.execute_tool(call, context)
            print(f"   word_count({text!r}) -> {result.output}{' (error)' if result.is_error else ''}")
    await provider.destroy()  # the instance is yours (its HTTP client was the facade's)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
