"""``client.text.stream`` hands the provider's iterator through; errors still surface on the
first ``__anext__``, never at the call, whether the provider was built already or not."""

from __future__ import annotations

import pytest

from oneringai import OneRingAI
from oneringai.config import Settings
from oneringai.domain.errors import ConfigError


async def test_errors_surface_on_first_anext_before_and_after_the_provider_is_built(vendor_server):
    settings = Settings.model_validate({
        "text": {"default": "o", "providers": {"o": {"kind": "ollama", "base_url": vendor_server.url}}},
        "oauth": {"storage": {"kind": "memory"}},
    })
    async with OneRingAI(settings=settings) as client:
        for built in (False, True):  # the first round opens lazily; the second hands the built provider's stream
            stream = client.text.stream("hi")  # no model and no default_model: refused
            assert (type(stream).__name__ != "_PassThroughStream") is built
            with pytest.raises(ValueError, match="no model given") as refused:
                await stream.__anext__()
            assert isinstance(refused.value, ConfigError) and refused.value.path.endswith(".default_model")
            bad_options = client.text.stream("hi", ["not", "a", "mapping"])  # type: ignore[arg-type]
            with pytest.raises(TypeError):
                await bad_options.__anext__()
            events = [event async for event in client.text.stream("hi", model="ok")]
            assert events[-1].type == "response.complete"
            assert "".join(e.delta for e in events if e.type == "response.output_text.delta")


async def test_a_stream_closed_early_can_be_closed_again(vendor_server):
    settings = Settings.model_validate({
        "text": {"default": "o", "providers": {"o": {"kind": "ollama", "base_url": vendor_server.url}}},
        "oauth": {"storage": {"kind": "memory"}},
    })
    async with OneRingAI(settings=settings) as client:
        stream = client.text.stream("hi", {"model": "ok"})  # an options mapping: the lazy path
        first = await stream.__anext__()
        assert first.type
        await stream.aclose()  # type: ignore[attr-defined]
        await stream.aclose()  # type: ignore[attr-defined]
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
