"""Opt-in load and soak (issue #11): each path of ``benchmarks/soak.py`` for a short time,
with the same criteria as the full runs (docs/benchmarks.md, "Load and soak").

    ONERINGAI_SOAK=1 .venv/bin/python -m pytest tests/soak -q      (about 2 minutes)

Each path runs in its own process, so the memory and descriptors it measures are its own and
not pytest's. ONERINGAI_SOAK_SECONDS changes the time per path (default 10).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_postgres, require_redis

SOAK = Path(__file__).parents[2] / "benchmarks" / "soak.py"
SECONDS = os.environ.get("ONERINGAI_SOAK_SECONDS", "10")

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(os.environ.get("ONERINGAI_SOAK") != "1", reason="set ONERINGAI_SOAK=1 (a few minutes of load)"),
]


@pytest.mark.parametrize("path", ["text", "tokens", "agents"])
def test_soak_path_meets_every_criterion(path: str) -> None:
    if path != "text":
        require_postgres()
        require_redis()
    done = subprocess.run([sys.executable, str(SOAK), "--path", path, "--seconds", SECONDS],
                          capture_output=True, text=True, timeout=float(SECONDS) * 6 + 180)
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "PASS" in done.stdout and "FAIL" not in done.stdout
