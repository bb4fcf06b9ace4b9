"""Review of the day's merges (2026-11-30): findings in code from several branches."""

from __future__ import annotations

import asyncio

import pytest

from oneringai.application.tools import DirectToolExecutor
from oneringai.domain.errors import ToolExecutionError
from oneringai.domain.tools import ToolExecutionContext

SECRET = "pw-7f3a9c"


@pytest.mark.parametrize(
    "call, context",
    [
        ({"id": "c1", "function": {"name": "t", "arguments": {"pw": SECRET}}}, None),
        ({"id": "c1", "function": {"name": "t", "arguments": "{}"}}, {"user_id": {"pw": SECRET}}),
    ],
)
def test_a_call_or_context_literal_with_a_bad_field_never_quotes_it(call: object, context: object) -> None:
    """``execute_tool`` reading the guide's literals put pydantic's text in the
    ``ToolExecutionError``: it quotes the input (the arguments, the context's values)."""
    with pytest.raises(ToolExecutionError) as info:
        asyncio.run(DirectToolExecutor().execute_tool(call, context))  # type: ignore[arg-type]
    message = str(info.value)
    assert SECRET not in message and SECRET not in repr(info.value)
    assert "function.arguments" in message or "user_id" in message


def test_a_context_mapping_still_reads() -> None:
    result = asyncio.run(DirectToolExecutor().execute_tool(  # type: ignore[arg-type]
        {"id": "c1", "function": {"name": "t", "arguments": "{}"}}, ToolExecutionContext().model_dump()
    ))
    assert result.metadata["code"] == "unknown_tool"


@pytest.mark.parametrize("build", ["provider", "storage"])
def test_a_boolean_number_in_a_config_built_in_code_never_quotes_the_secrets_beside_it(build: str) -> None:
    """``ConfigModel``'s boolean check runs on the whole mapping: pydantic's error quoted it as
    ``input_value={'api_key': '...', 'max_retries': True}`` — the key in the message (and any
    log of it) of a config built in code. Config models now hide inputs in their errors."""
    from pydantic import ValidationError

    from oneringai.infrastructure.providers.config import OpenAITextProviderConfig
    from oneringai.infrastructure.token_storage.config import RedisStorageSettings

    with pytest.raises(ValidationError) as info:
        if build == "provider":
            OpenAITextProviderConfig(api_key=SECRET, max_retries=True)
        else:
            RedisStorageSettings(url=f"redis://:{SECRET}@h/0", timeout=True)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert "boolean" in str(info.value)


@pytest.mark.parametrize("request_id", [5, b"req-1", ["req-1"], 10**5000, ""], ids=["int", "bytes", "list", "huge", "empty"])
def test_a_provider_error_with_a_request_id_that_is_no_text(request_id: object) -> None:
    """``ProviderError(..., request_id=5)`` (a port of the guide building its own errors) was a
    raw ``TypeError`` from ``redact``; anything but text is now dropped."""
    import pickle

    from oneringai.domain.errors import ProviderRateLimitError

    error = ProviderRateLimitError("rate limited", provider="p", request_id=request_id)  # type: ignore[arg-type]
    assert error.request_id is None
    assert str(error) == "rate limited [provider=p]"
    assert pickle.loads(pickle.dumps(error)).request_id is None


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")

    __repr__ = __str__


@pytest.mark.parametrize(
    "body",
    [{"error": {"message": 10**5000}}, {"status": 10**5000}, {"error": [10**5000]}, 10**5000, _Unprintable(),
     {"error": {"message": _Unprintable()}}],
    ids=["message", "status", "list", "int", "object", "nested-object"],
)
def test_map_error_of_a_body_with_no_text_form_is_still_a_provider_error(body: object) -> None:
    """``ProviderErrorMapper.map_error`` takes any value a port hands it (the guide passes
    ``await response.json()``); a body holding an int beyond 4300 digits or an object whose
    ``__str__`` raises was the ``ValueError``/``RuntimeError`` of writing it into the message."""
    from oneringai.domain.errors import ProviderError
    from oneringai.infrastructure.providers.error_mapper import ProviderErrorMapper

    error = ProviderErrorMapper.map_error(body, "p")
    assert isinstance(error, ProviderError)
    assert len(str(error)) < 400
