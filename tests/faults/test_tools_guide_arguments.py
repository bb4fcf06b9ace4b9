"""The guide hands tools the model's raw JSON text (``tool.execute(toolCall.function.arguments)``);
``client.tools.execute(name, '{"a": 1}')`` takes it too — parsed, bounded and validated by the
executor stack like a model's arguments. Before, any text was refused with "dictionary update
sequence element…" (found by the adversarial review, issue #10 class 5)."""

from __future__ import annotations

import json

import pytest

from oneringai import OneRingAI, tool
from oneringai.testing import ScriptedTextProvider


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


CASES = {
    "JSON text": ('{"a": 1, "b": 2}', None),
    "JSON bytes": (b'{"a": 1, "b": 2}', None),
    "JSON array": ("[1, 2]", "invalid_arguments"),
    "not JSON": ("not json", "invalid_arguments"),
    "missing field": ('{"a": 1}', "invalid_arguments"),
    "nested 5000 deep": ("[" * 5000 + "]" * 5000, "invalid_arguments"),
    "5000-digit integer": ('{"a": 1' + "0" * 5000 + ', "b": 1}', "invalid_arguments"),
    "2 MB of text": ('{"a": 1, "b": 2, "pad": "' + "x" * 2_000_000 + '"}', "invalid_arguments"),
    "invalid UTF-8 bytes": (b'{"a": "\xff"}', "invalid_arguments"),
    "lone surrogate": ('{"a": "\ud800", "b": 1}', "invalid_arguments"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_raw_json_arguments_are_a_result_or_an_error_result(case: str) -> None:
    arguments, code = CASES[case]
    async with OneRingAI(providers={"f": ScriptedTextProvider(["unused"])}) as client:
        client.tools.register(add)
        result = await client.tools.execute("add", arguments)
    if code is None:
        assert result.error is None and json.loads(result.output) == 3
    else:
        assert result.error and result.metadata["code"] == code
