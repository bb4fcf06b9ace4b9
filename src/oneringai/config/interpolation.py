"""``${VAR}`` references in YAML strings, resolved against the environment.

Forms: ``${NAME}`` (an error when unset or empty), ``${NAME:-default}`` (the default when
unset or empty; the default may itself hold references) and ``$${`` for a literal ``${``.
Anything else after ``${`` — an unterminated ``${NAME``, ``${}``, ``${1X}`` — is an error
naming the YAML path, never taken literally.

Every problem of the whole tree is collected and reported in one ``ConfigError``, so a user
fixes all missing variables at once. A mapping or list shared through YAML aliases is
interpolated once and stays shared: the work is linear in the document, not in its expansion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from oneringai.config.files import MAX_DEPTH
from oneringai.config.paths import join_path
from oneringai.domain.errors import ConfigError
from oneringai.domain.redaction import register_secret

__all__ = ["Unresolved", "interpolate_tree", "resolve_deferred"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOP = re.compile(r"\$\$\{|\$\{")
_NESTED = re.compile(r"\$\$\{|\$\{|\}")
#: How deep ``${A:-${B:-...}}`` defaults may nest.
MAX_DEFAULT_DEPTH = 16
_FORMS = "write ${NAME} or ${NAME:-default}; $${ for a literal ${"
#: Variables whose value is a credential by the common naming rule (``GH_TOKEN``,
#: ``OPENAI_API_KEY``, ``DB_PASSWORD``): their values are registered as secrets wherever they
#: land — an MCP server's ``args``, a URL, any plain string — so ``config show``, logs and
#: error messages hide them as they hide the typed secret fields.
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|AUTH|KEY$", re.IGNORECASE)


@dataclass(frozen=True)
class _Problem:
    source: str | None
    path: str
    message: str
    variable: str | None = None  # set for unset/empty variables: they are grouped
    state: str = ""  # "is not set" | "is empty"


class Unresolved:
    """A string whose variables are missing, left in the tree (``defer_missing``) until the
    later layers are applied: an environment variable or an override that replaces it, or an
    unselected ``oauth.storage`` branch, makes the missing variable harmless."""

    __slots__ = ("problems",)

    def __init__(self, problems: list[_Problem]) -> None:
        self.problems = problems

    def __repr__(self) -> str:
        return "<unresolved ${...}>"


class _Syntax(Exception):
    """A malformed reference: the rest of the string is not read."""


class _Expander:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def expand(self, text: str, missing: list[tuple[str, str]]) -> str:
        result, _ = self._run(text, 0, missing, nested=False, depth=0)
        return result

    def _run(
        self, text: str, pos: int, missing: list[tuple[str, str]], *, nested: bool, depth: int
    ) -> tuple[str, int]:
        out: list[str] = []
        pattern = _NESTED if nested else _TOP
        while True:
            match = pattern.search(text, pos)
            if match is None:
                if nested:
                    raise _Syntax("unterminated ${...} default (missing '}')")
                out.append(text[pos:])
                return "".join(out), len(text)
            out.append(text[pos : match.start()])
            token = match.group()
            if token == "$${":
                out.append("${")
                pos = match.end()
            elif token == "}":
                return "".join(out), match.end()
            else:
                value, pos = self._reference(text, match.end(), missing, depth)
                out.append(value)

    def _reference(
        self, text: str, pos: int, missing: list[tuple[str, str]], depth: int
    ) -> tuple[str, int]:
        name_match = _NAME.match(text, pos)
        if name_match is None:
            shown = text[pos - 2 : pos + 10]
            raise _Syntax(f"malformed reference {shown!r} ({_FORMS})")
        name, end = name_match.group(), name_match.end()
        found = self.env.get(name)
        if found and _SECRET_NAME.search(name):
            register_secret(found)
        if text.startswith("}", end):
            if found is None:
                missing.append((name, "is not set"))
            elif found == "":
                missing.append((name, "is empty"))
            return found or "", end + 1
        if text.startswith(":-", end):
            if depth >= MAX_DEFAULT_DEPTH:  # each level is a Python frame: bound them (RecursionError)
                raise _Syntax(f"${{...:-default}} nested deeper than {MAX_DEFAULT_DEPTH} levels")
            inner: list[tuple[str, str]] = []
            default, after = self._run(text, end + 2, inner, nested=True, depth=depth + 1)
            if found:
                return found, after
            missing.extend(inner)
            return default, after
        if end >= len(text):
            raise _Syntax(f"unterminated reference '${{{name}' (missing '}}')")
        raise _Syntax(f"malformed reference '${{{name}{text[end:end + 1]}' ({_FORMS})")


def interpolate_tree(
    data: dict[str, Any],
    env: Mapping[str, str],
    origin_of: Callable[[str], str | None],
    *,
    defer_missing: bool = False,
) -> dict[str, Any]:
    """``data`` with every string's references resolved; raises one ``ConfigError`` for all
    problems. ``origin_of(path)`` names the file a path came from. With ``defer_missing``, a
    string with a missing variable becomes an ``Unresolved`` (see ``resolve_deferred``) unless
    a malformed reference makes the whole tree fail now."""
    expander = _Expander(env)
    problems: list[_Problem] = []
    deferred: list[_Problem] = []
    memo: dict[int, Any] = {}

    def visit(value: Any, path: str, depth: int) -> Any:
        if isinstance(value, str):
            if "${" not in value:
                return value
            missing: list[tuple[str, str]] = []
            try:
                expanded = expander.expand(value, missing)
            except _Syntax as exc:
                problems.append(_Problem(origin_of(path), path or "<root>", str(exc)))
                return value
            found = [
                _Problem(origin_of(path), path or "<root>", f"environment variable {name} {state}", name, state)
                for name, state in missing
            ]
            if found and defer_missing:
                deferred.extend(found)
                return Unresolved(found)
            problems.extend(found)
            return expanded
        if not isinstance(value, dict | list):
            return value
        if depth > MAX_DEPTH:
            raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", path=path, source=origin_of(path))
        key = id(value)
        if key in memo:  # a shared alias: interpolated once, stays shared
            return memo[key]
        memo[key] = value  # a cycle (possible only in Python overrides) meets itself unchanged
        result: Any
        if isinstance(value, dict):
            result = type(value)()
            for name, item in value.items():
                result[name] = visit(item, join_path(path, name), depth + 1)
        else:
            result = [visit(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
        memo[key] = result
        return result

    result = visit(data, "", 0)
    if problems:
        raise ConfigError(_describe(problems + deferred))
    return result  # type: ignore[no-any-return]


def resolve_deferred(data: dict[str, Any], unused: Callable[[str], bool]) -> dict[str, Any]:
    """``data`` without ``Unresolved`` values: one under a path ``unused(path)`` calls unused is
    dropped (its default applies); any other raises one ``ConfigError`` naming every missing
    variable. An ``Unresolved`` that a later layer replaced is simply no longer in the tree."""
    problems: list[_Problem] = []
    memo: dict[tuple[int, bool], Any] = {}

    def visit(value: Any, path: str, dropping: bool) -> Any:
        if not isinstance(value, dict | list):
            return value
        key = (id(value), dropping)
        if key in memo:  # a shared alias: visited once per kind of place
            return memo[key]
        memo[key] = value
        result: Any
        if isinstance(value, dict):
            result = type(value)()
            for name, item in value.items():
                sub = join_path(path, name)
                if isinstance(item, Unresolved):
                    if not (dropping or unused(sub)):
                        problems.extend(item.problems)
                    continue
                result[name] = visit(item, sub, dropping or unused(sub))
        else:
            result = []
            for i, item in enumerate(value):
                if isinstance(item, Unresolved):
                    if not dropping:
                        problems.extend(item.problems)
                    continue
                result.append(visit(item, f"{path}[{i}]", dropping))
        memo[key] = result
        return result

    result = visit(data, "", False)
    if problems:
        raise ConfigError(_describe(problems))
    return result  # type: ignore[no-any-return]


def _where(problem: _Problem) -> str:
    return f"{problem.source}: {problem.path}" if problem.source else problem.path


def _describe(problems: list[_Problem]) -> str:
    syntax = [f"{_where(p)}: {p.message}" for p in problems if p.variable is None]
    variables: dict[str, list[_Problem]] = {}
    for problem in problems:
        if problem.variable is not None:
            variables.setdefault(problem.variable, []).append(problem)
    if len(variables) == 1 and len(next(iter(variables.values()))) == 1:
        ((name, (problem,)),) = variables.items()
        syntax.append(f"{_where(problem)}: {problem.message} (set it, or write ${{{name}:-default}})")
    elif variables:
        parts = []
        for name, found in variables.items():
            by_source: dict[str | None, list[str]] = {}
            for p in found[:4]:
                by_source.setdefault(p.source, []).append(p.path)
            where = "; ".join(f"{s}: {', '.join(paths)}" if s else ", ".join(paths) for s, paths in by_source.items())
            parts.append(f"{name} {found[0].state} ({where}{' …' if len(found) > 4 else ''})")
        syntax.append(
            f"{len(variables)} environment variables are missing: {'; '.join(parts)} "
            "— set them, or write ${VAR:-default}"
        )
    return "; ".join(syntax)
