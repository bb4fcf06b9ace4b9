"""Property: whatever a server answers on ``/v1/completions``, the local provider's ``completion``
prompt format returns a clean response or raises a typed ``ProviderError`` — never a raw
KeyError/TypeError/ValueError/ValidationError — for generate and for stream.

Served through ``httpx.MockTransport`` (the bodies are the point, not the socket); the real
wire is covered by ``tests/unit/test_llamacpp_local.py`` and the opt-in e2e suite.
``ONERINGAI_FUZZ_EXAMPLES`` raises the example count (default 80).
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oneringai import ProviderError, TextGenerateOptions
from oneringai.infrastructure.providers.llamacpp import LlamaCppTextProvider
from oneringai.infrastructure.providers.llamacpp_prompt import TEMPLATE_TOKENS

FUZZ = settings(max_examples=int(os.environ.get("ONERINGAI_FUZZ_EXAMPLES", "80")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

SCALAR = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
          | st.text(max_size=10) | st.sampled_from(["stop", "length", "", "[DONE]", *TEMPLATE_TOKENS]))
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
BODY = {"id": "cmpl-1", "model": "gemma3-270m", "object": "text_completion",
        "choices": [{"text": " Paris is the capital.", "index": 0, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 6, "total_tokens": 56}}


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """BODY with one field (top level, a choice's, or usage's) replaced by any JSON value or removed."""
    doc = json.loads(json.dumps(BODY))
    where = draw(st.sampled_from(["top", "choice", "usage", "whole"]))
    if where == "whole":
        return draw(JSON)
    target = doc if where == "top" else doc["choices"][0] if where == "choice" else doc["usage"]
    key = draw(st.sampled_from([*target, "error"]))
    if draw(st.booleans()) and key in target:
        del target[key]
    else:
        target[key] = draw(JSON)
    return doc


def _provider(handler: Any) -> LlamaCppTextProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    config = {"base_url": "http://llama.test/v1", "prompt_format": "completion", "max_retries": 0}
    return LlamaCppTextProvider(config, http_client=client)


OPTIONS = TextGenerateOptions(model="gemma3-270m", input="What is the capital of France?")


@FUZZ
@given(body=mutated())
async def test_any_completion_body_is_a_response_or_a_provider_error(body):
    provider = _provider(lambda request: httpx.Response(200, json=body))
    try:
        response = await provider.generate(OPTIONS)
        assert not any(token in response.output_text for token in TEMPLATE_TOKENS)
    except ProviderError:
        pass
    finally:
        await provider.destroy()
        await provider.http.aclose()


@FUZZ
@given(chunks=st.lists(mutated(), min_size=1, max_size=4), done=st.booleans())
async def test_any_completion_stream_is_events_or_a_provider_error(chunks, done):
    stream = b"".join(f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks) + (b"data: [DONE]\n\n" if done else b"")
    provider = _provider(lambda request: httpx.Response(200, content=stream, headers={"content-type": "text/event-stream"}))
    try:
        events = [event async for event in provider.stream_generate(OPTIONS)]
        assert events[-1].type == "response.complete"
        assert not any(token in events[-1].response.output_text for token in TEMPLATE_TOKENS)
    except ProviderError:
        pass
    finally:
        await provider.destroy()
        await provider.http.aclose()
