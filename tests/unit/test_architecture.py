"""The house rules that import-linter cannot see: the shape of the package and its old spellings."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "oneringai"


def test_at_most_six_module_files_at_the_package_top():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 6, modules


def test_rooms_exist():
    for room in ("domain", "application", "infrastructure", "config", "cli", "testing"):
        assert (PACKAGE / room / "__init__.py").is_file(), room


def test_no_source_file_over_450_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert not long, long


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        ("oneringai.settings", "oneringai.config.schema", ["Settings", "HttpSettings", "OAuthSettings"]),
        ("oneringai.settings", "oneringai.config.loading", ["load_settings"]),
        ("oneringai.infrastructure.tool_executors.direct", "oneringai.application.tools", ["DirectToolExecutor"]),
        ("oneringai.testing", "oneringai.testing.fakes", ["ScriptedTextProvider", "tool_call", "text_response"]),
        ("oneringai.testing", "oneringai.testing.conformance", ["TokenStorageConformance"]),
        ("oneringai.cli", "oneringai.cli.main", ["main"]),
    ],
)
def test_old_import_paths_name_the_same_objects(old: str, new: str, names: list[str]):
    for name in names:
        assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


def test_adapters_own_their_settings_models():
    from oneringai.config.schema import Settings

    owners = {
        "http": "oneringai.infrastructure.http.config",
        "agents": "oneringai.application.agents.config",
    }
    for section, module in owners.items():
        assert Settings.model_fields[section].annotation.__module__ == module
    storage = Settings.model_fields["oauth"].annotation.model_fields["storage"].annotation
    for kind in ("file", "postgres", "aws_secrets_manager", "redis"):
        assert storage.model_fields[kind].annotation.__module__ == "oneringai.infrastructure.token_storage.config"
