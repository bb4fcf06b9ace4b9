"""Load and soak (issue #11): each path runs for ``--seconds`` and prints a table of criteria
with PASS/FAIL; the exit code is 1 when any criterion failed. Services: the stub and the OAuth
server run on loopback here; Postgres and Redis are the test ones (ONERINGAI_TEST_POSTGRES_DSN,
ONERINGAI_TEST_REDIS_URL).

    .venv/bin/python benchmarks/soak.py --path text|tokens|agents|all [--seconds 60]

The same runs are an opt-in test: ONERINGAI_SOAK=1 pytest tests/soak (10 s per path).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from soak_common import Report

PATHS = ("text", "tokens", "agents")


async def run_path(path: str, seconds: float) -> Report:
    if path == "text":
        import soak_text

        return await soak_text.run(seconds)
    if path == "tokens":
        import soak_tokens

        return await soak_tokens.run(seconds)
    import soak_agents

    return await soak_agents.run(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", choices=[*PATHS, "all"], default="all")
    parser.add_argument("--seconds", type=float, default=60.0)
    options = parser.parse_args()
    failed = False
    for path in PATHS if options.path == "all" else (options.path,):
        report = asyncio.run(run_path(path, options.seconds))
        print(report.render(), flush=True)
        print(flush=True)
        failed |= not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
