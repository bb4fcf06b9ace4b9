"""Twenty varied prompts through the local profile, judged: the table of docs/local-model.md.

    .venv/bin/python -m tests.e2e.local_model_prompts                 # print the table
    .venv/bin/python -m tests.e2e.local_model_prompts --write docs/local-model.md

Each prompt goes the way ``oneringai chat --profile local`` sends it (streamed, through
``client.text``). An answer passes when it is not empty, does not say the prompt back,
holds no chat-template token, and is at least a short sentence: three words or numbers,
one of them a word ("2 + 2 equals 4." passes, "4" does not). The e2e suite runs a few
of these prompts with the same judge (``tests/e2e/test_local_model_answers.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

from oneringai import OneRingAI
from oneringai.infrastructure.providers.llamacpp_prompt import is_unusable

ROOT = Path(__file__).resolve().parents[2]

PROMPTS = (
    "Write one sentence about rings.",
    "What is the capital of France?",
    "Hello!",
    "What is 2 + 2?",
    "Name three colors.",
    "Tell me a joke.",
    "Translate 'thank you' into Spanish.",
    "Who wrote Romeo and Juliet?",
    "How are you today?",
    "What is 12 times 3?",
    "Give me a tip for staying healthy.",
    "What is the boiling point of water?",
    "Describe the sky in one sentence.",
    "What day comes after Monday?",
    "Summarize: The cat sat on the mat all day.",
    "Hi, who are you?",
    "List two fruits.",
    "Why is the ocean salty?",
    "Write a haiku about the moon.",
    "What is 10 minus 4?",
)

_TEMPLATE_MARK = re.compile(r"<\|[a-z_]+\|>|<(?:start|end)_of_(?:turn|image)>|</?s>|<[be]os>")
_WORD = re.compile(r"[A-Za-z]+|\d+")


def judge(prompt: str, answer: str) -> list[str]:
    """What is wrong with ``answer`` (empty list: it passes)."""
    problems = []
    if not answer.strip():
        return ["empty"]
    if is_unusable(answer, prompt):
        problems.append("echoes the prompt")
    if _TEMPLATE_MARK.search(answer):
        problems.append("template token")
    words = _WORD.findall(answer)
    if len(words) < 3 or not any(word.isalpha() for word in words):
        problems.append("not a sentence (fewer than three words or numbers, or no word)")
    return problems


async def ask_all(prompts: tuple[str, ...] = PROMPTS) -> list[tuple[str, str, float]]:
    """(prompt, answer, seconds) for each prompt, through the local profile."""
    rows = []
    async with OneRingAI.from_config(ROOT / "config/default.yaml", profile="local") as client:
        for prompt in prompts:
            started = time.perf_counter()
            answer = "".join([delta async for delta in client.text.stream_text(prompt)])
            rows.append((prompt, answer.strip(), time.perf_counter() - started))
    return rows


def markdown(rows: list[tuple[str, str, float]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| # | prompt | answer | s | result |", "|---|---|---|---|---|"]
    for number, (prompt, answer, seconds) in enumerate(rows, 1):
        problems = judge(prompt, answer)
        verdict = "pass" if not problems else "FAIL: " + ", ".join(problems)
        lines.append(f"| {number} | {cell(prompt)} | {cell(answer)} | {seconds:.1f} | {verdict} |")
    passed = sum(not judge(p, a) for p, a, _ in rows)
    lines.append("")
    lines.append(f"{passed}/{len(rows)} pass.")
    return "\n".join(lines)


def write_into(path: Path, table: str) -> None:
    """Replace the block between ``<!-- prompts:start -->`` and ``<!-- prompts:end -->``."""
    text = path.read_text()
    start, end = "<!-- prompts:start -->\n", "<!-- prompts:end -->"
    before, rest = text.split(start, 1)
    path.write_text(before + start + table + "\n" + end + rest.split(end, 1)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    args = parser.parse_args()
    rows = asyncio.run(ask_all())
    table = markdown(rows)
    print(table)
    if args.write:
        write_into(args.write, table)
    return 0 if all(not judge(p, a) for p, a, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
