"""How a small base model is asked: a few-shot question/answer frame, and what comes back cleaned.

The bundled Gemma 3 270M is a *base* model: its GGUF carries no chat template, and it was
never trained to follow chat turns. Sent through ``/v1/chat/completions`` (where
llama-server falls back to a ChatML template the model does not know) it echoes the
prompt, answers with nothing, or rambles on with ``<|im_end|>`` in the text. What such a
model does well is continue a document, so the ``completion`` prompt format writes one:
a line saying what follows, five short question/answer pairs, the conversation so far in
the same shape, and ``Q: <the question>\\nA:``. Stop sequences end the answer where the
next question would begin; template tokens that slip through are removed; an answer that
is empty or only repeats the question is asked again (``is_unusable``).
"""

from __future__ import annotations

import re

from oneringai.domain.content import (
    InputTextContent,
    Message,
    MessageRole,
    OutputTextContent,
    ToolResultContent,
    ToolUseContent,
)
from oneringai.domain.options import TextGenerateOptions

__all__ = [
    "FEW_SHOT",
    "FRAME_STOPS",
    "TEMPLATE_TOKENS",
    "clean",
    "is_unusable",
    "last_question",
    "render_prompt",
    "strip_template_tokens",
]

INTRO = "Below, a helpful assistant answers each question or request with one or two complete, true sentences."

#: Varied on purpose (a greeting, a fact, arithmetic, an instruction, a list) so the model
#: learns the shape "one complete sentence", not one topic.
FEW_SHOT: tuple[tuple[str, str], ...] = (
    ("Hi there!", "Hello! How can I help you today?"),
    ("What is the capital of Italy?", "The capital of Italy is Rome."),
    ("What is 7 + 5?", "7 + 5 equals 12."),
    ("Write one sentence about the sea.", "The sea covers most of our planet and is home to countless creatures."),
    ("Name two animals.", "Two animals are the dog and the cat."),
)

#: Where the answer ends: the next question of the frame, or a blank line.
FRAME_STOPS = ("\nQ:", "\n\n")

#: Special tokens of the common chat templates; a base model may print them as text.
TEMPLATE_TOKENS = (
    "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>", "<bos>", "<eos>",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|begin_of_text|>", "<|end_of_text|>", "</s>", "<s>",
)
_TEMPLATE_TOKEN = re.compile("|".join(re.escape(token) for token in TEMPLATE_TOKENS))
_ROLE_AFTER_TURN = re.compile(r"(?<=<start_of_turn>)(user|model)\b|(?<=<\|im_start\|>)(user|assistant|system)\b")
_WORD = re.compile(r"\w+")


def strip_template_tokens(text: str) -> str:
    """Remove template tokens (and a role name right after a turn marker) from ``text``."""
    if "<" not in text:
        return text
    return _TEMPLATE_TOKEN.sub("", _ROLE_AFTER_TURN.sub("", text))


def clean(text: str) -> str:
    """The answer as the user should see it: no template tokens, no surrounding blank space."""
    return strip_template_tokens(text).strip()


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def is_unusable(answer: str, question: str) -> bool:
    """Empty, or nothing but (a piece of) the question said back."""
    said = _words(answer)
    if not said:
        return True
    asked = _words(question)
    return bool(asked) and f" {said} " in f" {asked} "


def may_still_be_echo(partial: str, question: str) -> bool:
    """While streaming: could the answer so far still turn out to be only the question?"""
    said = _words(partial)
    return not said or said in _words(question)


def _text_of(item: Message) -> str:
    parts: list[str] = []
    for part in item.content:
        if isinstance(part, InputTextContent | OutputTextContent):
            parts.append(part.text)
        elif isinstance(part, ToolUseContent):
            parts.append(f"(calls {part.name} with {part.arguments})")
        elif isinstance(part, ToolResultContent):
            content = part.content if isinstance(part.content, str) else str(part.content)
            parts.append(f"(tool result: {part.error or content})")
    return " ".join(p.strip() for p in parts if p.strip())


def last_question(options: TextGenerateOptions) -> str:
    """The last user message: what an echo would repeat."""
    if isinstance(options.input, str):
        return options.input
    for item in reversed(options.input):
        if item.role is MessageRole.USER:
            return _text_of(item)
    return ""


def render_prompt(options: TextGenerateOptions, *, few_shot: tuple[tuple[str, str], ...] = FEW_SHOT) -> str:
    """The frame for ``/v1/completions``: instructions, examples, the conversation, ``A:``."""
    lines: list[str] = []
    items = [Message.user(options.input)] if isinstance(options.input, str) else list(options.input)
    notes = [options.instructions or ""]
    notes += [_text_of(i) for i in items if i.role is MessageRole.DEVELOPER]
    lines.append(" ".join(n.strip() for n in [INTRO, *notes] if n.strip()) + "\n\n")
    for question, answer in few_shot:
        lines.append(f"Q: {question}\nA: {answer}\n\n")
    pending_question = False
    for item in items:
        if item.role is MessageRole.DEVELOPER:
            continue
        text = " ".join(_text_of(item).split("\n\n"))
        if item.role is MessageRole.ASSISTANT:
            if not pending_question:
                lines.append("Q: (continue)\n")
            lines.append(f"A: {text}\n\n")
            pending_question = False
        else:
            if pending_question:  # two user turns in a row: one question
                lines[-1] = lines[-1].rstrip("\n") + f" {text}\n"
            else:
                lines.append(f"Q: {text}\n")
            pending_question = True
    if not pending_question:
        lines.append("Q: (continue)\n")
    lines.append("A:")
    return "".join(lines)
