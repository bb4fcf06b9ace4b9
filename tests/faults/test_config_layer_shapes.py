"""Executor layers of the wrong shape (third adversarial review).

* ``users: {u: {alow: [x]}}`` — a misspelt permission rule key was ignored, so the user had no
  allow list at all (a silent widening of permissions). Now a ``ConfigError`` naming the key.
* ``executor: [retry]`` (a string, not a mapping) named the path ``tools.executor[0].custom``
  and our class ``ExecutorLayerConfig``; now ``tools.executor[0]: must be a valid dictionary``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oneringai.config import load_settings
from oneringai.domain.errors import ConfigError


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("tools: {executor: [{kind: permissions, users: {u: {alow: [x]}}}]}",
         "tools.executor[0].users.u.alow: unknown key (allowed: allow, deny)"),
        ("tools: {executor: [{kind: permissions, roles: {admin: {deny: [x], Allow: [y]}}}]}",
         "tools.executor[0].roles.admin.Allow: unknown key (allowed: allow, deny)"),
        ("tools: {executor: [retry]}", "tools.executor[0]: must be a valid dictionary"),
        ("tools: {executor: [{kind: audit}, 5]}", "tools.executor[1]: must be a valid dictionary"),
        ("text: {providers: {o: 5}}", "text.providers.o: must be a valid dictionary"),
        ("agents: 5", "agents: must be a valid dictionary"),
    ],
)
def test_wrong_shapes_name_the_yaml_path_and_no_class(tmp_path: Path, yaml: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={}, dotenv=None)
    message = str(info.value)
    assert f"{path}: {expected}" in message, message
    assert "instance of" not in message and "Config" not in message.replace("ConfigError", "")


def test_well_formed_permission_rules_still_load(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("tools: {executor: [{kind: permissions, users: {u: {allow: [a], deny: [b]}}, roles: {r: {}}}]}\n")
    layer = load_settings(path, env={}, dotenv=None).tools.executor[0]
    assert layer.users == {"u": {"allow": ["a"], "deny": ["b"]}}  # type: ignore[union-attr]
