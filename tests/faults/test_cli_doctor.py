"""``oneringai doctor`` can pass: it fails only on what is in use (the default provider, the
token storage, the executors' backends, OAuth connections) and warns on the rest; it checks
the Redis and Postgres of the executor stack; its output starts with the files and profile read.

Run as a subprocess while the vendor stub serves in this test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

from tests.conftest import POSTGRES_DSN, REDIS_URL, require_postgres, require_redis

ROOT = Path(__file__).resolve().parents[2]
DEAD = "http://127.0.0.1:9"
BASE = """
text:
  default: ollama
  providers:
    ollama: {{kind: ollama, base_url: "{dead}", max_retries: 0}}
oauth:
  storage: {{kind: file, file: {{directory: "{tokens}"}}}}
"""


async def doctor(tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONERINGAI_") and k != "OLLAMA_HOST"}
    env["PYTHONPATH"] = str(ROOT / "src")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oneringai.cli", "doctor", "-c", str(tmp_path / "default.yaml"), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path, env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert b"Traceback" not in err, err.decode()
    return process.returncode or 0, out.decode().splitlines()


def write_base(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text(BASE.format(dead=DEAD, tokens=tmp_path / "tokens"))


async def test_a_profile_over_an_unreachable_inherited_provider_passes(vendor_server, tmp_path):
    write_base(tmp_path)
    (tmp_path / "stub.yaml").write_text(
        f"text:\n  default: stub\n  providers:\n    stub: {{kind: ollama, base_url: '{vendor_server.url}', default_model: llama3.2}}\n"
    )
    code, lines = await doctor(tmp_path, "--profile", "stub")
    assert lines[0] == f"config: {tmp_path / 'default.yaml'} (given)"
    assert lines[1] == f"profile: stub ({tmp_path / 'stub.yaml'})"
    assert any(line.startswith("[ok] text provider stub (ollama): reachable") for line in lines), lines
    assert any(line.startswith("[warn] text provider ollama (ollama):") and line.endswith("(not in use)") for line in lines), lines
    assert code == 0, lines
    assert lines[-1] == "all checks passed (1 warning(s))"


async def test_the_default_provider_unreachable_fails(tmp_path):
    write_base(tmp_path)
    code, lines = await doctor(tmp_path)
    assert code == 1
    assert any(line.startswith("[FAIL] text provider ollama (ollama):") and "ollama serve" in line for line in lines), lines


async def test_the_executors_redis_and_postgres_are_checked(vendor_server, tmp_path):
    require_redis()
    require_postgres()
    write_base(tmp_path)
    head = f"text: {{default: s, providers: {{s: {{kind: ollama, base_url: '{vendor_server.url}', default_model: m}}}}}}\n"
    table = f"audit_{uuid.uuid4().hex[:8]}"
    (tmp_path / "live.yaml").write_text(head + f"""tools:
  executor:
    - {{kind: audit, sink: postgres, dsn: '{POSTGRES_DSN}', table: {table}}}
    - {{kind: rate_limit, backend: redis, redis_url: '{REDIS_URL}'}}
    - {{kind: cache, backend: redis, redis_url: '{REDIS_URL}'}}
""")
    (tmp_path / "dead.yaml").write_text(head + """tools:
  executor:
    - {kind: audit, sink: postgres, dsn: 'postgresql://u:pg-secret-99@127.0.0.1:1/x'}
    - {kind: rate_limit, backend: redis, redis_url: 'redis://:pw-123456789@127.0.0.1:1/0'}
    - {kind: cache, backend: redis, redis_url: 'redis://127.0.0.1:1/0'}
""")
    (live_code, live), (dead_code, dead) = await asyncio.gather(
        doctor(tmp_path, "--profile", "live"), doctor(tmp_path, "--profile", "dead")
    )
    assert live_code == 0, live
    assert "[ok] tools.executor[0] (audit) postgres: reachable" in live
    assert f"[ok] tools.executor[1] (rate_limit) redis: {REDIS_URL} answers" in live
    assert f"[ok] tools.executor[2] (cache) redis: {REDIS_URL} answers" in live
    assert dead_code == 1, dead
    for index, kind in enumerate(["audit", "rate_limit", "cache"]):
        assert any(line.startswith(f"[FAIL] tools.executor[{index}] ({kind}): unreachable") for line in dead), dead
    assert "pg-secret-99" not in "\n".join(dead) and "pw-123456789" not in "\n".join(dead)
    assert dead[-1].startswith("3 check(s) failed")


async def test_a_missing_dsn_and_key_the_storage_needs_fail(vendor_server, tmp_path):
    write_base(tmp_path)
    (tmp_path / "pg.yaml").write_text(
        f"text: {{default: s, providers: {{s: {{kind: ollama, base_url: '{vendor_server.url}', default_model: m}}}}}}\n"
        "oauth:\n  storage: {kind: postgres}\n"
    )
    code, lines = await doctor(tmp_path, "--profile", "pg")
    assert code == 1
    assert any(line.startswith("[FAIL] oauth.encryption_keys: token storage 'postgres' needs a key") for line in lines), lines
    assert any(line.startswith("[FAIL] oauth.storage.postgres.dsn: not set") for line in lines), lines


async def test_an_image_provider_is_checked_without_crashing(vendor_server, tmp_path):
    # The DESIGN's YAML has `images: {default: openai, ...}`: doctor called list_models, which
    # image providers do not have, and died with "unexpected AttributeError ... please report it".
    write_base(tmp_path)
    (tmp_path / "img.yaml").write_text(
        f"text:\n  default: s\n  providers:\n    s: {{kind: ollama, base_url: '{vendor_server.url}', default_model: m}}\n"
        f"images:\n  default: openai\n  providers:\n    openai: {{kind: openai, api_key: sk-doctor-images-0123456789, "
        f"base_url: '{vendor_server.url}/v1'}}\n"
    )
    code, lines = await doctor(tmp_path, "--profile", "img")
    assert any(line.startswith("[ok] image provider openai (openai):") for line in lines), lines
    assert code == 0, lines
