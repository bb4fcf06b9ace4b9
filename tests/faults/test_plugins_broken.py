"""A plugin that is installed but broken (third adversarial review): an entry point whose module
does not import, or an executor layer that refuses its settings, escaped from client
construction as the raw ``ImportError`` / ``TypeError``. Now ``ConfigError``s naming the YAML
path and the entry point."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from oneringai import OneRingAI
from oneringai.domain.errors import ConfigError


@pytest.fixture
def broken_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "broken_plugin.py").write_text(textwrap.dedent('''
        from oneringai.infrastructure.tool_executors.wrapper import WrapperToolExecutor

        class Picky(WrapperToolExecutor):
            def __init__(self, wrapped, config):
                raise TypeError("Picky needs a 'level' setting")
    '''))
    (tmp_path / "explodes_on_import.py").write_text("import module_that_does_not_exist_xyz\n")
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[oneringai.tool_executors]\npicky = broken_plugin:Picky\nghost = explodes_on_import:Layer\n\n"
        "[oneringai.text_providers]\nghostai = explodes_on_import:Provider\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from oneringai import plugins

    plugins.clear_cache()
    yield
    plugins.clear_cache()
    for name in ("broken_plugin", "explodes_on_import"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("yaml", "pattern"),
    [
        ("tools:\n  executor:\n    - {kind: audit}\n    - {kind: picky}\n",
         r"tools\.executor\[1\]: executor kind 'picky' cannot be built: TypeError: Picky needs"),
        ("tools:\n  executor:\n    - {kind: ghost}\n",
         r"tools\.executor\[0\]\.kind: kind 'ghost': entry point 'explodes_on_import:Layer' .* cannot be loaded: "
         r"ModuleNotFoundError"),
    ],
)
async def test_a_broken_executor_plugin_is_a_config_error(broken_dist, tmp_path: Path, yaml: str, pattern: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml)
    async with OneRingAI.from_config(path, env={}) as client:
        with pytest.raises(ConfigError, match=pattern):
            client.tools.executor  # noqa: B018 - building the stack is the test


async def test_a_provider_plugin_that_does_not_import_is_a_config_error(broken_dist, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("text:\n  default: g\n  providers:\n    g: {kind: ghostai}\n")
    async with OneRingAI.from_config(path, env={}) as client:
        with pytest.raises(ConfigError, match=r"text\.providers\.g\.kind: kind 'ghostai': .* cannot be loaded"):
            await client.text.generate("hi", model="m")
