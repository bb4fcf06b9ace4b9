"""Telemetry stays bounded whatever the model writes: a tool name of megabytes (the model picks
the name of the tool it calls) must not become a span name or attribute of megabytes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oneringai import OneRingAI
from tests.otel_support import Recorded, recording, write_config


@pytest.fixture
def telemetry() -> Iterator[Recorded]:
    yield from recording()


async def test_a_huge_tool_name_is_cut_on_the_span(tmp_path, telemetry):
    """Before: ``execute_tool nnnn…`` was a 2,000,013-character span name, and
    ``gen_ai.tool.name`` / ``gen_ai.tool.call.id`` as long as the model made them."""
    text = {"default": "v", "providers": {"v": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1",
                                              "api_key": "sk-test-0123456789"}}}
    async with OneRingAI.from_config(write_config(tmp_path, text)) as client:
        result = await client.tools.execute("n" * 2_000_000, {})
    assert result.is_error and result.metadata["code"] == "unknown_tool"
    span = telemetry.one("execute_tool ")
    assert len(span.name) < 400
    assert span.attributes["gen_ai.tool.name"].startswith("n" * 256)
    assert all(len(str(value)) < 400 for value in span.attributes.values())
    assert span.attributes["error.type"] == "unknown_tool"
