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
                "using_the_client.py": [
                    "Hi there!", "Hi there! (8 tokens, complete)", "Once upon", " a time.", "Paris: sunny.",
                    "rate limited: retry after 120s, request id req_42",
                    "ProviderUnavailableError; kept: 'Once upon a time.'", "hello, svc"],
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


# --- Python blocks that are not snippets: names that exist, imports that resolve ----------------
_PY_BLOCK = re.compile(r"(?P<snippet><!-- snippet: [^>]+ -->\n)?```python\n(?P<code>.*?)```", re.S)


def _defined_at_top(code: str) -> set[str]:
    """Names a block defines at module level (classes, functions, assignments, imports)."""
    import ast
    import textwrap

    names: set[str] = set()
    for node in ast.parse(textwrap.dedent(code)).body:  # an excerpt may be indented
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def _prose_blocks(page: str) -> list[tuple[int, str, set[str]]]:
    """(line, code, names defined by the snippet blocks above it) of each non-snippet block."""
    text = (ROOT / "docs" / page).read_text()
    seen: set[str] = set()
    found = []
    for match in _PY_BLOCK.finditer(text):
        if match["snippet"]:
            seen |= _defined_at_top(match["code"])
        else:
            found.append((text[: match.start()].count("\n") + 1, match["code"], set(seen)))
    return found


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_python_blocks_name_only_what_exists(page):
    """A reader pastes these: every name is imported or defined (by the block or a snippet above
    it on the page), and every ``from oneringai... import X`` resolves. (The observability block
    used ``OneRingAI`` without importing it; the guide's key ring block used ``os``, ``key`` and
    ``token`` from nowhere.)"""
    import ast
    import importlib
    import subprocess
    import sys

    for line, code, context in _prose_blocks(page):
        where = f"docs/{page}:{line}"
        compile(code, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        prelude = "".join(f"{name} = None  # noqa\n" for name in sorted(context))
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--quiet", "--no-cache", "--isolated", "--select", "F821,F401,F811",
             "--stdin-filename", "block.py", "-"],
            input=prelude + code, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, f"{where}: {result.stdout}{result.stderr}"
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "oneringai":
                module = importlib.import_module(node.module)
                missing = [alias.name for alias in node.names if not hasattr(module, alias.name)]
                assert not missing, f"{where}: {node.module} has no {missing}"


#: Dotted names in prose that start like a section but are not configuration: OpenTelemetry
#: attributes and span names, and the client's methods (`client.agents.create` as `agents.create`).
NOT_CONFIG_KEYS = {
    "http.response.status_code", "oauth.refresh", "agents.create", "text.generate", "text.stream",
    "images.generate", "tools.execute", "tools.from_mcp", "tools.register",
}


@pytest.mark.parametrize("page", ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))])
def test_keys_named_in_prose_exist(page):
    """`text.providers.<name>.sampling`, `oauth.storage.postgres.max_size`, ... in running text are
    keys of the schema (or a prefix of one): a renamed or misspelt key fails here, not in a reader's YAML."""
    from oneringai.config.reference import configuration_markdown

    keys = set(re.findall(r"^\| `([^`]+)` \|", configuration_markdown(), re.M))
    sections = {key.split(".")[0] for key in keys}
    prefixes = {".".join(key.split(".")[:depth]) for key in keys for depth in range(1, key.count(".") + 2)}

    def pattern(key: str) -> str:
        return re.escape(key).replace(re.escape("<name>"), r"[^.]+").replace(re.escape("[]"), r"(\[[0-9]*\])?")

    known = re.compile("|".join(f"(?:{pattern(key)})" for key in sorted(prefixes)))
    text = (ROOT / page).read_text()
    for match in re.finditer(r"`([a-z_]+(?:\.[A-Za-z_<>\[\]0-9-]+)+)(?:\.\*)?`", text):
        name = re.sub(r"\[[0-9i]+\]$", "", match[1])  # an item of a list key: oauth.encryption_keys[i]
        if name.split(".")[0] not in sections or name in NOT_CONFIG_KEYS:
            continue
        line = text[: match.start()].count("\n") + 1
        assert known.fullmatch(name), f"{page}:{line}: `{match[1]}` is not a configuration key"


# --- Links: every relative link of README.md and docs/*.md resolves -----------------------------
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """The ids mkdocs gives the headings of ``page`` (lower case, punctuation dropped, spaces as -)."""
    headings = re.findall(r"^#+ (.*)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))])
def test_relative_links_resolve(page):
    """A reader following a link lands on a file (and heading) that exists; mkdocs only checks
    links between pages of docs/, not README.md's nor links out of docs/."""
    source = ROOT / page
    text = source.read_text()
    for match in _LINK.finditer(text):
        target = match["target"]
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve() if path else source
        line = text[: match.start()].count("\n") + 1
        assert resolved.exists(), f"{page}:{line}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in _anchors(resolved), f"{page}:{line}: {target}: no such heading"
