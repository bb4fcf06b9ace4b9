"""The guide's Cohere provider, finished: Cohere's chat API (``POST /v1/chat``) with streaming,
per-model capabilities, and every failure a typed ``ProviderError``.

The guide leaves the call, the response mapping and streaming as comments; here they are
real. What changed on the way to Python: ``generate`` and ``stream_generate`` are ``async``
(the stream is an ``async def`` generator), the vendor's answer is validated once by a
pydantic model (a surprising body is a ``ProviderResponseError``, never a ``KeyError``), and
HTTP goes through the kit's shared client (``self.http``) with its retries.

Run: .venv/bin/python examples/cohere_provider.py
It talks to a local stand-in of Cohere's API (``_cohere_stub.py``); for the real service give
``base_url="https://api.cohere.com"`` and your key (or set ``COHERE_API_KEY``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from oneringai import (
    BaseTextProvider,
    LLMResponse,
    Message,
    MessageRole,
    ModelCapabilities,
    OneRingAI,
    OutputTextDeltaEvent,
    ProviderErrorMapper,
    ProviderResponseError,
    ProviderUnavailableError,
    ResponseCompleteEvent,
    ResponseCreatedEvent,
    StreamEvent,
    TextGenerateOptions,
    Usage,
)
from oneringai.infrastructure.http.streams import iter_lines


# --- Cohere's answer, validated once at the boundary -----------------------------------------
class _Tokens(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class _Meta(BaseModel):
    tokens: _Tokens = _Tokens()


class CohereChatResponse(BaseModel):
    text: str
    generation_id: str = ""
    finish_reason: str = "COMPLETE"
    meta: _Meta = _Meta()


class CohereStreamEvent(BaseModel):
    event_type: str
    text: str = ""
    response: CohereChatResponse | None = None


_STOP_REASONS = {"COMPLETE": "complete", "MAX_TOKENS": "max_tokens", "STOP_SEQUENCE": "stop_sequence",
                 "ERROR_TOXIC": "content_filter"}

_COMMAND_R = ModelCapabilities(max_input_tokens=128_000, max_output_tokens=4096, supports_tools=False,
                               supports_vision=False, supports_streaming=True, supports_json=True)
# supports_tools=False: this port maps text only (Cohere's tool calls have their own shape).
_MODELS = {"command-r-plus": _COMMAND_R, "command-r": _COMMAND_R}


class CohereProvider(BaseTextProvider):
    name = "cohere"
    api_key_env = "COHERE_API_KEY"  # used when the config has no api_key

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.api_key = self.get_api_key()  # ProviderAuthError saying what to set when missing
        self.base_url = (self.config.base_url or "https://api.cohere.com").rstrip("/")

    # --- our options -> Cohere's request ---------------------------------------------------
    def _request(self, options: TextGenerateOptions, *, stream: bool) -> dict[str, Any]:
        if options.tools:
            raise ProviderResponseError("this Cohere port does not map tools", provider=self.name)
        *history, last = self.normalize_input_to_items(options.input)
        body: dict[str, Any] = {
            "model": options.model,
            "message": self.normalize_input_to_string([last]),  # the guide's extractMessage
            "chat_history": [{"role": "CHATBOT" if item.role is MessageRole.ASSISTANT else "USER",
                              "message": self.normalize_input_to_string([item])} for item in history],
            "stream": stream,
        }
        if options.instructions:
            body["preamble"] = options.instructions
        if options.temperature is not None:
            body["temperature"] = options.temperature
        if options.max_output_tokens is not None:
            body["max_tokens"] = options.max_output_tokens
        return body

    # --- Cohere's answer -> our LLMResponse ---------------------------------------------------
    def _response(self, data: CohereChatResponse, model: str) -> LLMResponse:
        tokens = data.meta.tokens
        return LLMResponse(
            id=data.generation_id,
            model=model,
            output=[Message.assistant(data.text)],
            usage=Usage(input_tokens=tokens.input_tokens, output_tokens=tokens.output_tokens,
                        total_tokens=tokens.input_tokens + tokens.output_tokens),
            stop_reason=_STOP_REASONS.get(data.finish_reason, "complete"),
            raw_stop_reason=data.finish_reason,
        )

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.api_key}", "accept": "application/json"}

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        url = f"{self.base_url}/v1/chat"

        async def call() -> CohereChatResponse:
            try:
                response = await self.http.post(url, headers=self._headers(), timeout=self.request_timeout(),
                                                json=self._request(options, stream=False))
            except Exception as exc:  # connection refused, timeout, ...: a typed ProviderError
                raise self.map_error(exc, model=options.model, url=url) from exc
            if response.status_code >= 400:  # 401 -> ProviderAuthError, 429 -> ProviderRateLimitError, ...
                raise ProviderErrorMapper.from_http_response(
                    response.status_code, response.content, response.headers,
                    provider=self.name, model=options.model, secrets=[self.api_key])
            try:
                return CohereChatResponse.model_validate_json(response.content)
            except ValidationError as exc:
                raise ProviderResponseError(f"unexpected answer from {url}: {exc.errors()[0]['msg']}",
                                            provider=self.name, model=options.model) from None

        data = await self.with_retries(call, model=options.model)  # retries 429/5xx, honours Retry-After
        return self._response(data, options.model)

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        url = f"{self.base_url}/v1/chat"
        try:
            async with self.http.stream("POST", url, headers=self._headers(), timeout=self.request_timeout(),
                                        json=self._request(options, stream=True)) as response:
                if response.status_code >= 400:
                    raise ProviderErrorMapper.from_http_response(
                        response.status_code, await response.aread(), response.headers,
                        provider=self.name, model=options.model, secrets=[self.api_key])
                yield ResponseCreatedEvent(model=options.model)
                async for line in iter_lines(response.aiter_bytes()):  # NDJSON: one event a line
                    event = CohereStreamEvent.model_validate_json(line)
                    if event.event_type == "text-generation":
                        yield OutputTextDeltaEvent(delta=event.text)
                    elif event.event_type == "stream-end" and event.response is not None:
                        yield ResponseCompleteEvent(response=self._response(event.response, options.model))
                        return
        except Exception as exc:  # ProviderErrors pass through map_error unchanged
            raise self.map_error(exc, model=options.model, url=url) from exc
        raise ProviderUnavailableError("stream ended before stream-end", provider=self.name, model=options.model)

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return _MODELS.get(model, _MODELS["command-r"])


async def demo(base_url: str, api_key: str) -> None:
    async with OneRingAI(providers={"cohere": CohereProvider({"api_key": api_key, "base_url": base_url})}) as client:
        print("generate:", await client.text.generate("Hello!", provider="cohere", model="command-r"))
        print("stream:  ", end="")
        async for delta in client.text.stream_text("Stream this", provider="cohere", model="command-r-plus"):
            print(delta, end="", flush=True)
        print()
        agent = client.agents.create(provider="cohere", model="command-r", instructions="Be brief.")
        print("agent:   ", (await agent.run("What is Cohere?")).output_text)


async def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from _cohere_stub import cohere_stub

    async with cohere_stub() as (base_url, stub):
        await demo(base_url, stub.api_key)


if __name__ == "__main__":
    asyncio.run(main())
