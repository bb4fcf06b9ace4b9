"""Generates docs/configuration.md from the settings schema (a test keeps them equal).

    oneringai config docs > docs/configuration.md
"""

from __future__ import annotations

import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from oneringai.application.fallback.config import FallbackProviderConfig
from oneringai.config.env import ENV_PREFIX
from oneringai.config.schema import Settings
from oneringai.infrastructure.providers.config import (
    AnthropicProviderConfig,
    LlamaCppProviderConfig,
    OllamaProviderConfig,
    OpenAIProviderConfig,
    OpenAITextProviderConfig,
)
from oneringai.infrastructure.tool_executors import config as executor_config

__all__ = ["configuration_markdown"]

_KINDS: dict[str, list[tuple[str, type[BaseModel]]]] = {
    "text.providers.<name>": [
        ("openai / openai_compatible", OpenAITextProviderConfig), ("ollama", OllamaProviderConfig),
        ("anthropic", AnthropicProviderConfig), ("llamacpp", LlamaCppProviderConfig),
        ("fallback", FallbackProviderConfig),
    ],
    "images.providers.<name>": [("openai", OpenAIProviderConfig)],
    "tools.executor[]": [
        (name, getattr(executor_config, cls)) for name, cls in (
            ("audit", "AuditExecutorConfig"), ("cache", "CacheExecutorConfig"), ("cost", "CostExecutorConfig"),
            ("permissions", "PermissionsExecutorConfig"), ("rate_limit", "RateLimitExecutorConfig"),
            ("retry", "RetryExecutorConfig"), ("timeout", "TimeoutExecutorConfig"),
        )
    ],
}


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(annotation))
    if origin is Literal:
        return " | ".join(json.dumps(a) for a in get_args(annotation))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_type_name(a) for a in get_args(annotation))}]"
    if annotation is type(None):
        return "null"
    if annotation is SecretStr:
        return "secret"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, dict) and value and all(isinstance(v, BaseModel) for v in value.values()):
        return ", ".join(value)
    return json.dumps(value, default=str)


def _env(path: str) -> str:
    parts = path.replace("[]", "__<index>").split(".")
    return ENV_PREFIX + "__".join(p.upper() for p in parts)


def _is_section(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _rows(model: type[BaseModel], prefix: str, rows: list[tuple[str, str, str, str, str]]) -> None:
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}.{key}" if prefix else key
        if path in _KINDS or f"{path}.<name>" in _KINDS or f"{path}[]" in _KINDS:
            continue
        section = _is_section(field.annotation)
        if section is not None:
            _rows(section, path, rows)
            continue
        if get_origin(field.annotation) is dict:
            value_type = _is_section(get_args(field.annotation)[1])
            if value_type is not None:  # a map of named sub-sections
                _rows(value_type, f"{path}.<name>", rows)
                continue
        rows.append((path, _type_name(field.annotation), _default(field), _env(path), field.description or ""))


def _table(rows: list[tuple[str, str, str, str, str]]) -> list[str]:
    lines = ["| key | type | default | environment variable | notes |", "|---|---|---|---|---|"]
    for path, kind, default, env, note in rows:
        cells = [f"`{path}`", kind.replace("|", "\\|"), f"`{default}`".replace("|", "\\|"), f"`{env}`", note]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


_GUIDE = """\
## Where configuration comes from

Layers, lowest first; a later layer wins:

1. **The base file**: `--config FILE`, else `$ONERINGAI_CONFIG`, else `./config/default.yaml` or
   `./oneringai.yaml` in the working directory, else the **packaged defaults** — the same
   `default.yaml` a checkout holds, shipped in the package. So one command behaves the same
   inside and outside a checkout; `oneringai config show`, `config validate` and `doctor` start by
   naming the files and the profile they read, and why (`found in …`, `given`, `packaged defaults: …`).
2. **The profile** (`--profile NAME` or `$ONERINGAI_PROFILE`): `NAME.yaml` beside the base file,
   else a packaged profile (`local`). An unknown name is an error listing the profiles there are.
3. **`${VAR}` references** in YAML strings, resolved against `.env` and the environment.
4. **`overrides`** given to `load_settings` / `OneRingAI.from_config` in Python.
5. **Environment variables** `ONERINGAI_SECTION__KEY` (`.env` in the working directory under the
   process environment).

## Profiles

A profile **merges** into what it inherits: mappings merge key by key, anything else replaces.
Two rules remove what is inherited:

- `name: null` under `text.providers`, `images.providers` or `oauth.connections` drops that entry;
- the tag `!replace` on a mapping replaces the inherited mapping whole
  (`http: !replace {timeout: 5}` resets every other `http` key to its default).

```yaml
# config/lean.yaml: OpenAI only, without the Ollama provider of config/default.yaml
text:
  default: openai
  providers:
    ollama: null
    openai: {kind: openai, api_key: "${OPENAI_API_KEY}", default_model: gpt-4.1-mini}
```

## `${VAR}` references

`${NAME}` is the variable's value; unset or empty is an error. `${NAME:-default}` takes the default
when the variable is unset or empty (the default may hold references: `${A:-${B}}`). `$${` is a
literal `${`. Anything else after `${` — `${NAME` without `}`, `${}`, `${NAME-x}` — is an error naming
the file and YAML path, never taken literally. Every missing variable of all files is reported in
one error, so they can be fixed at once — except where the value is not used: a key an
`ONERINGAI_…` variable or `overrides` replace, and the `oauth.storage` branches `kind` does not
select (`postgres: {dsn: "${DATABASE_URL}"}` beside `kind: file`). `OLLAMA_HOST` may be `host:port`, `host` or `:port`, as
Ollama's own client accepts: an Ollama `base_url` without a scheme becomes `http://host:port`.

## Environment variables

- A variable is a setting when it starts with `ONERINGAI_` and contains `__`
  (`ONERINGAI_HTTP__TIMEOUT=5`), or is exactly a section holding a JSON object
  (`ONERINGAI_HTTP='{"timeout": 5}'`). `ONERINGAI_CONFIG`, `ONERINGAI_PROFILE`,
  `ONERINGAI_LOG_LEVEL` and variables used by `${...}` (`ONERINGAI_TOKEN_KEY`) are not settings.
- The first part must name a section: `ONERINGAI_HTPP__TIMEOUT` is an error naming the variable;
  so is an unknown key deeper down.
- Values are read by the type of their key: text and numbers as written; a list as JSON or
  comma-separated (`ONERINGAI_OAUTH__ENCRYPTION_KEYS=key1,key2`, or one key:
  `ONERINGAI_OAUTH__ENCRYPTION_KEYS=$(oneringai tokens generate-key)`); a mapping as a JSON
  object; a number addresses a list item (`ONERINGAI_TOOLS__EXECUTOR__0__ATTEMPTS=5`). Empty
  values are ignored. Errors name the variable and the form expected.

## What is checked when it is read

- Files: at most 1 MiB; UTF-8 (or UTF-16/UTF-32 with a byte-order mark); nested at most 48 levels;
  at most 100,000 values with every YAML alias expanded (a "billion laughs" file fails at once);
  only YAML's safe types. The same holds for profiles and `.env` files (a `.env` line that does not
  parse is an error naming its line, not its content).
- Numbers are finite everywhere: `.inf`, `.nan`, `inf`, `nan` are errors.
- Encryption keys decode (base64 or hex) to exactly 32 bytes; an error names
  `oauth.encryption_keys[i]`, never the key.

## `config validate` and `doctor`

`oneringai config validate` checks the schema and what use will need:

- **errors** (exit 2): the default text or image provider needs an API key and has none; the token
  storage needs an encryption key or a DSN it lacks; a Postgres audit sink has no `dsn`;
- **warnings** (printed, exit 0): the default provider has no `default_model` (each call must name
  one, `chat --model`); a provider that is not the default lacks a key; an OAuth connection lacks
  what its flow needs.

`oneringai doctor` tries every configured backend and **fails (exit 1) only on what is in use**:
the default text and image provider, the token storage, the executors' backends (the Redis of
`rate_limit`/`cache` with `backend: redis`, the Postgres of an `audit` layer with `sink: postgres`),
every OAuth connection's token endpoint, and the errors above. Providers that are not the default —
such as the `ollama` provider `config/default.yaml` defines, under `--profile local` — are
**warnings**, so `doctor --profile local` passes when the local model works.

## The command line

Every bad input — an argument (`--temperature 5`), a file, a variable — prints one line and exits 2;
an unreachable provider or backend prints one line and exits 1; no error prints a traceback
(`ONERINGAI_LOG_LEVEL=DEBUG` shows one for an unexpected error). `oneringai --version` prints the
version.
"""


def configuration_markdown() -> str:
    out = [
        "# Configuration",
        "",
        "<!-- generated by `oneringai config docs`; tests/unit/test_docs.py fails when it drifts -->",
        "",
        "Every key, its type, default and environment variable are in the tables below. Unknown",
        "keys and kinds are errors naming the file (or variable) and the YAML path. Secrets are never",
        "printed: `oneringai config show` hides passwords in URLs, every header value, token",
        "parameters and every secret, and shows the rest (which server is used).",
        "",
        *_GUIDE.splitlines(),
        "",
        "## Sections",
        "",
    ]
    rows: list[tuple[str, str, str, str, str]] = []
    _rows(Settings, "", rows)
    out += _table(rows)
    for prefix, kinds in _KINDS.items():
        for kind, model in kinds:
            out += ["", f"## `{prefix}` with `kind: {kind}`", ""]
            kind_rows: list[tuple[str, str, str, str, str]] = []
            _rows(model, prefix, kind_rows)
            out += _table(kind_rows)
    out += [
        "",
        "A `kind` that is not built in must name an entry point in the matching group",
        "(`oneringai.text_providers`, `oneringai.image_providers`, `oneringai.token_storages`,",
        "`oneringai.tool_executors`); such entries accept any keys. YAML never names a class path.",
        "",
    ]
    return "\n".join(out)
