"""Approach 1: extend BaseTextProvider (recommended)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from oneringai import (
    BaseTextProvider,
    KeyValidationResult,
    LLMResponse,
    Message,
    MessageRole,
    ModelCapabilities,
    OutputTextContent,
    ProviderCapabilities,
    ProviderErrorMapper,
    ResponseCompleteEvent,
    StreamEvent,
    TextGenerateOptions,
    Usage,
)


class MyAIProvider(BaseTextProvider):
    name = "myai"
    capabilities = ProviderCapabilities(text=True)
    api_key_env = "MYAI_API_KEY"  # used when no api_key is configured

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.api_key = self.get_api_key()  # ProviderAuthError naming what to set if missing
        self.base_url = (self.config.base_url or "https://api.myai.com/v1").rstrip("/")

    def validate_provider_specific_key_format(self, api_key: str) -> KeyValidationResult:
        if not api_key.startswith("myai_"):
            return KeyValidationResult(is_valid=False, warning="MyAI keys should start with myai_")
        return KeyValidationResult(is_valid=True)

    async def generate(self, options: TextGenerateOptions) -> LLMResponse:
        url = f"{self.base_url}/chat"
        try:
            response = await self.http.post(  # the container's shared client, or one we own
                url,
                headers={"authorization": f"Bearer {self.api_key}"},
                json={"model": options.model, "messages": self._convert(options), "temperature": options.temperature},
            )
        except Exception as exc:
            raise ProviderErrorMapper.map_error(exc, self.name, model=options.model, url=url) from exc
        if response.status_code >= 400:
            raise ProviderErrorMapper.from_http_response(
                response.status_code, response.content, response.headers, provider=self.name, model=options.model
            )
        data = response.json()
        return LLMResponse(
            model=options.model,
            output=[Message(role=MessageRole.ASSISTANT, content=[OutputTextContent(text=data["choices"][0]["message"]["content"])])],
            usage=Usage(
                input_tokens=data["usage"]["prompt_tokens"],
                output_tokens=data["usage"]["completion_tokens"],
                total_tokens=data["usage"]["total_tokens"],
            ),
            stop_reason="complete",
        )

    async def stream_generate(self, options: TextGenerateOptions) -> AsyncIterator[StreamEvent]:
        # No streaming API? One complete event keeps agents and client.text.stream working.
        yield ResponseCompleteEvent(response=await self.generate(options))

    def get_model_capabilities(self, model: str) -> ModelCapabilities:
        return ModelCapabilities(max_input_tokens=128_000, max_output_tokens=4096, supports_tools=True,
                                 supports_streaming=False)

    def _convert(self, options: TextGenerateOptions) -> list[dict[str, str]]:
        items = self.normalize_input_to_items(options.input)
        return [{"role": item.role.value, "content": item.text} for item in items]


async def demo() -> str:
    """Run against an in-process fake of the vendor API (httpx.MockTransport)."""
    import httpx

    from oneringai import OneRingAI

    def vendor(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={
            "choices": [{"message": {"content": "Hello from MyAI"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        })

    http = httpx.AsyncClient(transport=httpx.MockTransport(vendor))
    client = OneRingAI(providers={"myai": MyAIProvider({"api_key": "myai_secret_key"}, http_client=http)})
    text = await client.text.generate("Hello!", provider="myai", model="myai-large")
    await client.destroy()
    await http.aclose()
    return text
