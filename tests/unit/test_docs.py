"""Docs cannot drift: generated config reference, snippet blocks, DESIGN.md YAML (README: test_readme.py)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = re.compile(r"<!-- snippet: (?P<path>[^ ]+) -->\n```python\n(?P<code>.*?)\n```", re.S)


def test_configuration_reference_matches_schema():
    from oneringai.config.reference import configuration_markdown

    assert (ROOT / "docs/configuration.md").read_text() == configuration_markdown(), (
        "docs/configuration.md is stale: run `oneringai config docs > docs/configuration.md`"
    )


def test_every_schema_key_is_documented():
    text = (ROOT / "docs/configuration.md").read_text()
    for key in ["http.transport", "oauth.storage.postgres.dsn", "tools.executor[].ttl", "agents.max_iterations",
                "text.providers.<name>.base_url", "oauth.connections.<name>.flow"]:
        assert f"`{key}`" in text, key


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_snippet_blocks_match_their_files(page):
    for match in SNIPPET.finditer((ROOT / "docs" / page).read_text()):
        source = (ROOT / match["path"]).read_text()
        assert match["code"] in source, f"{page}: block from {match['path']} no longer matches the file"


@pytest.mark.parametrize("snippet", sorted(p.name for p in (ROOT / "docs/snippets").glob("*.py")))
async def test_snippets_run(snippet):
    spec = importlib.util.spec_from_file_location(f"snippet_{snippet[:-3]}", ROOT / "docs/snippets" / snippet)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = await module.demo()
    expected = {"my_ai_provider.py": "Hello from MyAI", "simple_provider.py": "SHOUT THIS",
                "audit_to_list_executor.py": {"double": 3}, "override_in_tests.py": ["Hi there!", "hello"],
                "conformance_kit_usage.py": [
                    "test_concurrent_writers_lose_nothing", "test_delete_and_has", "test_expired_token_without_refresh_is_gone",
                    "test_list_keys_by_prefix", "test_missing_key", "test_overwrite", "test_round_trip",
                    "test_tampering_is_detected", "test_unicode_keys_and_users_are_isolated", "test_wrong_key_is_detected"]}
    assert result == expected[snippet]


#: The YAML of DESIGN.md §4, copied verbatim: the names it fixes must keep loading.
DESIGN_YAML_SHAPE = """\
http: {transport: aiohttp, timeout: 60, max_connections: 100}   # transport: aiohttp | httpx
text:
  default: ollama
  providers:                      # any number, each with its own kind
    ollama: {kind: ollama, base_url: "${OLLAMA_HOST:-http://localhost:11434}"}
    openai: {kind: openai, api_key: "${OPENAI_API_KEY}"}            # base_url optional
    claude: {kind: anthropic, api_key: "${ANTHROPIC_API_KEY}"}
images:
  default: openai
  providers: {openai: {kind: openai, api_key: "${OPENAI_API_KEY}"}}
oauth:
  encryption_keys: ["${ONERINGAI_TOKEN_KEY}"]   # key ring, newest first
  storage:
    kind: file                    # memory | file | postgres | aws_secrets_manager | redis
    file: {directory: ~/.local/share/oneringai/tokens}
    postgres: {dsn: "${DATABASE_URL}", table: oauth_tokens}
    aws_secrets_manager: {region: us-east-1, prefix: oneringai/, endpoint_url: null}
    redis: {url: "redis://localhost:6379/0", prefix: "oneringai:tokens:"}
  connections:
    github:
      flow: authorization_code    # authorization_code | client_credentials | jwt_bearer | static_token
      client_id: abc
      client_secret: "${GITHUB_CLIENT_SECRET}"
      authorization_url: https://github.com/login/oauth/authorize
      token_url: https://github.com/login/oauth/access_token
      redirect_uri: http://127.0.0.1:8765/callback
      scopes: [repo]
tools:
  executor:                       # outermost first
    - {kind: audit}
    - {kind: permissions, deny: [delete_repo]}
    - {kind: rate_limit, per_minute: 10, scope: tool, backend: memory}
    - {kind: cache, ttl: 300, backend: memory}
    - {kind: retry, attempts: 3}
agents: {max_iterations: 10, tool_timeout: 30}
"""


def test_design_yaml_shape_is_valid(tmp_path):
    """The YAML of DESIGN.md §4 (copied above, so the test needs nothing outside the repository) loads."""
    path = tmp_path / "design.yaml"
    path.write_text(DESIGN_YAML_SHAPE)
    env = {"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "DATABASE_URL": "postgresql://x",
           "ONERINGAI_TOKEN_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=", "GITHUB_CLIENT_SECRET": "s"}
    from oneringai.config import load_settings

    settings = load_settings(path, env=env)
    assert settings.oauth.connections["github"].flow == "authorization_code"
    assert [layer.kind for layer in settings.tools.executor] == ["audit", "permissions", "rate_limit", "cache", "retry"]
    assert settings.oauth.storage.redis.prefix == "oneringai:tokens:"


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_yaml_blocks_in_docs_are_valid_configuration(page, tmp_path):
    import yaml

    from oneringai.config import Settings, load_settings

    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / page).read_text(), re.S)
    for index, block in enumerate(blocks):
        data = yaml.safe_load(block)
        if not isinstance(data, dict) or not set(data) <= set(Settings.model_fields):
            continue  # a fragment, not a configuration
        path = tmp_path / f"{index}.yaml"
        path.write_text(block)
        load_settings(path, env={"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "DATABASE_URL": "postgresql://x",
                                 "ONERINGAI_TOKEN_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="})


def test_docs_site_builds_offline(tmp_path):
    """mkdocs --strict: broken links or missing pages fail the build."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "site" / "configuration" / "index.html").exists()
