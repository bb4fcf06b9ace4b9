"""Valid JSON of the right shape whose values are not: usage counts that are negative or 400
digits long (a negative cost, or an ``OverflowError`` where the agent multiplies them by a
price). A ``ProviderResponseError`` for generate and stream, every vendor (found by the
adversarial review, issue #10 class 2)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from oneringai import ProviderResponseError
from tests.faults.providers_fixtures import (
    KINDS,
    VENDORS,
    FaultServer,
    collect,
    fault_server_fixture,  # noqa: F401 - provides the fault_server fixture
    options,
)

#: Where each vendor reports a usage count: in the body, and in its stream's events.
COUNT_FIELD = {"openai": "prompt_tokens", "ollama": "eval_count", "anthropic": "output_tokens"}
BAD_COUNTS = {"negative": "-5", "400-digits": "1" + "0" * 400, "past-2**53": str(2**53 + 1)}


def _replace_count(raw: str, kind: str, value: str) -> str:
    field = COUNT_FIELD[kind]
    replaced, count = re.subn(rf'("{field}": )\d+', rf"\g<1>{value}", raw)
    assert count, f"{kind}: no {field} to replace"
    return replaced


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", list(BAD_COUNTS), ids=list(BAD_COUNTS))
async def test_a_usage_count_that_is_no_count_in_a_body(fault_server: FaultServer, kind: str, value: str) -> None:
    vendor = VENDORS[kind]
    fault_server.answer(200, _replace_count(json.dumps(vendor.body()), kind, BAD_COUNTS[value]).encode())
    async with vendor.provider(fault_server.url) as provider:
        with pytest.raises(ProviderResponseError, match=COUNT_FIELD[kind]):
            await provider.generate(options())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", list(BAD_COUNTS), ids=list(BAD_COUNTS))
async def test_a_usage_count_that_is_no_count_in_a_stream(fault_server: FaultServer, kind: str, value: str) -> None:
    vendor = VENDORS[kind]
    events: list[Any] = vendor.events()
    framed = vendor.stream_body(events).decode()
    fault_server.answer(200, _replace_count(framed, kind, BAD_COUNTS[value]).encode(), vendor.stream_type)
    async with vendor.provider(fault_server.url) as provider:
        with pytest.raises(ProviderResponseError, match=COUNT_FIELD[kind]):
            await collect(provider)


@pytest.mark.parametrize("kind", KINDS)
async def test_the_largest_plausible_count_is_kept(fault_server: FaultServer, kind: str) -> None:
    vendor = VENDORS[kind]
    fault_server.answer(200, _replace_count(json.dumps(vendor.body()), kind, str(2**53)).encode())
    async with vendor.provider(fault_server.url) as provider:
        response = await provider.generate(options())
    assert 2**53 in (response.usage.input_tokens, response.usage.output_tokens)
