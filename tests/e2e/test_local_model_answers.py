"""Opt-in (ONERINGAI_E2E=1): the local profile answers like a model, not like a parrot.

A few prompts of the 20 in docs/local-model.md, judged the same way (tests/e2e/local_model_prompts.py):
not empty, not the prompt said back, no template token, at least a short sentence.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.local_model_prompts import ROOT, ask_all, judge

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("ONERINGAI_E2E") != "1", reason="set ONERINGAI_E2E=1 (needs the local extra)"),
]


def test_readme_first_command_answers_with_a_sentence():
    """`oneringai chat --profile local "Write one sentence about rings."`, as the README runs it."""
    prompt = "Write one sentence about rings."
    result = subprocess.run([sys.executable, "-m", "oneringai.cli", "chat", "--profile", "local", prompt],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert judge(prompt, result.stdout) == [], result.stdout
    assert "preparing" not in result.stderr  # nothing to prepare: no progress line


async def test_questions_greetings_and_arithmetic():
    prompts = ("What is the capital of France?", "Hello!", "What is 2 + 2?", "Name three colors.")
    for prompt, answer, _ in await ask_all(prompts):
        assert judge(prompt, answer) == [], (prompt, answer)


def test_another_model_name_is_refused():
    result = subprocess.run([sys.executable, "-m", "oneringai.cli", "chat", "--profile", "local", "-m", "llama3.2", "Hi"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert "serves one model, 'gemma3-270m', not 'llama3.2'" in result.stderr
