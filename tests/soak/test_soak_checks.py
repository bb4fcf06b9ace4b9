"""The soak's own checkers can fail (these run always; the soak itself is opt-in)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))

from soak_agents import audit_of
from soak_common import Report, Sampler

from oneringai.domain.content import Message, MessageRole, ToolResultContent, ToolUseContent


def _history(*answers: tuple[str, str]) -> list[Message]:
    calls = Message(role=MessageRole.ASSISTANT, content=[
        ToolUseContent(id="a", name="lookup", arguments='{"key": "k1"}'),
        ToolUseContent(id="b", name="lookup", arguments='{"key": "k2"}'),
    ])
    results = Message(role=MessageRole.USER, content=[ToolResultContent(tool_use_id=i, content=c) for i, c in answers])
    return [calls, results]


def test_every_call_answered_once_passes():
    assert audit_of(_history(("a", "value-k1"), ("b", "value-k2"))) == (2, 2, 0, 0)


def test_lost_doubled_orphaned_and_wrong_results_are_counted():
    assert audit_of(_history(("a", "value-k1"))) == (2, 1, 1, 0)  # b lost
    assert audit_of(_history(("a", "value-k1"), ("a", "value-k1"), ("b", "value-k2"))) == (2, 1, 1, 0)  # a doubled
    assert audit_of(_history(("a", "value-k1"), ("b", "value-k2"), ("z", "x"))) == (2, 2, 1, 1)  # orphan z
    assert audit_of(_history(("a", "value-k2"), ("b", "value-k2"))) == (2, 2, 0, 1)  # a got b's value


def test_growth_is_measured_after_warm_up_and_a_failed_check_fails_the_report():
    sampler = Sampler()
    sampler.samples = [(t, 100 + (50 if t < 5 else 0) + max(0, t - 5) * 2**20, 10, 0, 10) for t in range(20)]
    assert sampler.growth(1, 5) == 10 * 2**20  # medians of t=15..19 and t=5..9; the warm-up bump ignored
    assert sampler.span(2, 5) == (10, 10)
    report = Report("x")
    report.check("ok", "0", "0", True)
    assert report.ok
    report.check("leak", "+9 MiB", "< 5 MiB", False)
    assert not report.ok and report.failures() == ["leak: +9 MiB (limit < 5 MiB)"] and "FAIL" in report.render()
