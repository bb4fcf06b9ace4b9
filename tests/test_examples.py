"""Each example runs with the command the README gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> str:
    """Stdout and stderr together: what a reader sees in the terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_") or k == "ONERINGAI_REQUIRE_SERVICES"}
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HTTP Request:" not in result.stdout + result.stderr, "examples print no httpx request lines"
    return result.stdout


def test_custom_infrastructure():
    out = run("examples/custom_infrastructure.py")
    assert "[llama2] echo: Hello!" in out
    assert "plaintext token on disk? False" in out
    assert "cache hit for word_count" in out and "Rate limit exceeded" in out


def test_agent_with_tools():
    out = run("examples/agent_with_tools.py")
    assert '-> get_weather({"city": "Paris"})' in out
    assert "'total_cost': 0.1" in out  # the second call was a cache hit, never charged


def test_worker_production_profile():
    from tests.conftest import require_postgres, require_redis

    require_postgres()
    require_redis()
    out = run("examples/worker.py", "--profile", "production")
    assert "token storage: aws_secrets_manager" in out
    assert out.count('"status": "shipped"') == 3


@pytest.mark.parametrize("name", ["custom_infrastructure", "agent_with_tools", "worker"])
def test_examples_are_documented_in_readme(name):
    assert f"examples/{name}.py" in (ROOT / "README.md").read_text()


# --- the guide's remaining examples -------------------------------------------------------------
GUIDE_EXAMPLES = ["cohere_provider", "redis_token_storage", "postgres_token_storage", "mongo_token_storage"]


def test_cohere_provider():
    out = run("examples/cohere_provider.py")
    assert "generate: Cohere heard: Hello!" in out
    assert "stream:  Cohere heard: Stream this" in out
    assert "agent:    Cohere heard: What is Cohere?" in out


@pytest.mark.parametrize("name", ["redis_token_storage", "postgres_token_storage", "mongo_token_storage"])
def test_token_storage_examples_keep_refreshable_tokens(name):
    from tests.conftest import require_postgres, require_redis

    {"redis_token_storage": require_redis, "postgres_token_storage": require_postgres}.get(name, lambda: None)()
    out = run(f"examples/{name}.py")
    assert "expired but refreshable, kept: True" in out
    assert "expired, nothing to refresh with, gone: True" in out
    assert "plaintext in" in out and "? False" in out
    assert "keys: ['github:client:user123']" in out


@pytest.mark.parametrize("name", GUIDE_EXAMPLES)
def test_guide_examples_are_documented(name):
    assert f"examples/{name}.py" in (ROOT / "README.md").read_text()
    assert f"examples/{name}.py" in (ROOT / "docs/extensibility.md").read_text()


def test_the_console_example_prints_the_trace_of_an_agent_run():
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_")}
    result = subprocess.run([sys.executable, "examples/otel_console.py"], cwd=root, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    spans = [line for line in lines if line.startswith("span ")]
    assert sum(" invoke_agent weather-bot " in s for s in spans) == 1
    assert sum(" fallback resilient " in s and "served_by=local" in s for s in spans) == 2
    assert sum("oneringai.provider=down error.type=ProviderUnavailableError" in s for s in spans) == 2
    assert sum(" execute_tool get_weather " in s for s in spans) == 1
    assert "served by local" in result.stdout
    assert any(line.startswith("metric gen_ai.client.token.usage [{token}]") for line in lines)
