"""Opt-in: a real llama.cpp server started and owned by the llamacpp provider.

    .venv/bin/python scripts/install_local.py    # builds llama-server once (see docs/local-model.md)
    ONERINGAI_E2E=1 .venv/bin/python -m pytest tests/e2e -q
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio

from oneringai import Message, TextGenerateOptions

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("ONERINGAI_E2E") != "1", reason="set ONERINGAI_E2E=1 (needs the local extra)"),
]


@pytest.fixture(scope="module", autouse=True)
def no_log_left_behind():
    """Every server started here removes its log when it stops (or its next start does)."""
    from oneringai.infrastructure.providers.llamacpp_server import log_directory

    before = set(log_directory().glob("llama-server-*.log"))
    yield
    left = set(log_directory().glob("llama-server-*.log")) - before
    assert left == set(), left


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def provider():
    from oneringai.infrastructure.providers.llamacpp import LlamaCppTextProvider

    instance = LlamaCppTextProvider({"threads": 2, "context_size": 4096, "timeout": 300})
    yield instance
    await instance.destroy()
    assert instance.server is not None and instance.server.process is None


@pytest.mark.asyncio(loop_scope="module")
async def test_generate_stream_and_connection_survives(provider):
    response = await provider.generate(TextGenerateOptions(model="gemma3-270m", input="The capital of France is", max_output_tokens=16))
    assert response.usage.output_tokens > 0 and response.stop_reason in ("complete", "max_tokens")
    for _ in range(3):  # after a stream the next request on a kept-alive connection must still work
        events = [e async for e in provider.stream_generate(TextGenerateOptions(model="gemma3-270m", input="Count: 1, 2,", max_output_tokens=8))]
        assert events[-1].type == "response.complete"
        again = await provider.generate(TextGenerateOptions(model="gemma3-270m", input="Hello", max_output_tokens=4))
        assert again.usage.output_tokens > 0


@pytest.mark.asyncio(loop_scope="module")
async def test_few_shot_tool_call_stops_at_the_tag(provider):
    """A base model needs few-shot examples for a tool call; the stop sequence ends it."""
    shots = [
        Message.user('Call tools as <tool_call>{"name": ..., "arguments": {...}}</tool_call>.\nQ: weather in Oslo?'),
        Message.assistant('<tool_call>{"name": "get_weather", "arguments": {"city": "Oslo"}}</tool_call>'),
        Message.user("Q: weather in Paris?"),
    ]
    response = await provider.generate(
        TextGenerateOptions(model="gemma3-270m", input=shots, stop=["</tool_call>"], max_output_tokens=40)
    )
    assert response.output_text.strip()
    assert "</tool_call>" not in response.output_text


def _servers() -> set[str]:
    found = subprocess.run(["pgrep", "-f", "llama-server"], capture_output=True, text=True).stdout
    return set(found.split())


def test_no_orphan_server_after_cli_run():
    before = _servers()
    env = {**os.environ, "ONERINGAI_LOG_LEVEL": "ERROR"}
    result = subprocess.run([sys.executable, "-m", "oneringai.cli", "chat", "--profile", "local", "--max-tokens", "8", "Hello"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert _servers() - before == set()


def test_no_orphan_server_when_parent_is_killed():
    """SIGKILL the parent while its llama-server runs: the child dies too (PR_SET_PDEATHSIG)."""
    import signal
    import time

    before = _servers()
    script = (
        "import asyncio\n"
        "from oneringai.infrastructure.providers.llamacpp_server import LlamaCppServer\n"
        "async def main():\n"
        "    await LlamaCppServer(threads=1).start()\n"
        "    print('up', flush=True)\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "up"
    assert _servers() - before
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while _servers() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _servers() - before == set()
    from oneringai.infrastructure.providers.llamacpp_server import log_directory, remove_stale_logs

    orphans = list(log_directory().glob(f"llama-server-{proc.pid}-*.log"))
    assert orphans  # the killed parent could not clean up ...
    assert set(orphans) <= set(remove_stale_logs())  # ... so the next start (or this) removes its log


@pytest.mark.asyncio(loop_scope="module")
async def test_failed_start_names_its_log_and_the_next_start_cleans_it(tmp_path):
    from oneringai.domain.errors import ProviderUnavailableError
    from oneringai.infrastructure.providers.llamacpp_server import LlamaCppServer

    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"GGUF but not really")
    server = LlamaCppServer(model_path=str(bad), config_path="text.providers.local", provider="local")
    with pytest.raises(ProviderUnavailableError) as caught:
        await server.start()
    message = str(caught.value)
    assert "failed to load model" in message and "base_url" not in message
    named = re.search(r"full log: (\S+\.log)", message)
    assert named is not None, message
    log = Path(named[1])
    assert log.exists()  # kept for the user to read ...
    assert server.log_path is None  # ... and theirs now: a later stop (destroy) leaves it
    log.unlink()


@pytest.mark.asyncio(loop_scope="module")
async def test_chat_format_output_has_no_template_tokens(provider):
    from oneringai.infrastructure.providers.llamacpp import LlamaCppTextProvider

    assert await provider.list_models() == ["gemma3-270m"]  # started: base_url is known
    chat = LlamaCppTextProvider({"base_url": provider.base_url, "prompt_format": "chat"})
    try:
        response = await chat.generate(TextGenerateOptions(model="gemma3-270m", input="Hello!", max_output_tokens=24))
        assert "<|im_end|>" not in response.output_text and "<end_of_turn>" not in response.output_text
    finally:
        await chat.destroy()
