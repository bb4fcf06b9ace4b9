"""Token path soak: 4 processes x 64 concurrent ``get_token`` callers (the ``OneRingAI``
client's OAuth managers) over the Postgres store, then the Redis store, against the Authlib
server of the tests (tests/oauth_server.py) issuing tokens that live LIFETIME s. Each process
refreshes SKEW s early, so every key falls due every LIFETIME - SKEW s; the server records each
issue, so a double refresh shows as two issues closer than that.

    python benchmarks/soak_tokens.py --worker '<json>'   (one of the 4 processes; JSON out)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from soak_common import Report, ms, percentile

PROCESSES, CONCURRENCY, KEYS = 4, 64, 4
LIFETIME, SKEW = 4, 1.0
PG_MAX_SIZE = 5  # per process: 4 x 5 = 20 of the server's slots (see docs/scaling.md)
POSTGRES_DSN = os.environ.get("ONERINGAI_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONERINGAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _pool_use(storage: Any) -> tuple[int, int]:
    """(connections in use, the pool's maximum) of the resolved store's pool."""
    pool = getattr(storage, "pool", None)
    if pool is not None:  # asyncpg
        return pool.get_size() - pool.get_idle_size(), pool.get_max_size()
    pool = storage.client.connection_pool  # redis.asyncio BlockingConnectionPool
    return len(getattr(pool, "_in_use_connections", ())), int(pool.max_connections)


async def worker(config: dict[str, Any]) -> dict[str, Any]:
    from oneringai import OneRingAI, OneRingAIError
    from oneringai.config import Settings

    kind = config["kind"]
    section = ({"dsn": config["target"], "table": config["where"], "max_size": PG_MAX_SIZE} if kind == "postgres"
               else {"url": config["target"], "prefix": config["where"]})
    settings = Settings.model_validate({"oauth": {
        "encryption_keys": [config["key"]], "refresh_skew": SKEW, "storage": {"kind": kind, kind: section},
        "connections": {name: {"flow": "client_credentials", "client_id": name, "client_secret": "svc-secret",
                               "token_url": config["url"] + "/token"} for name in config["clients"]},
    }})
    calls = 0
    errors: Counter[str] = Counter()
    seen: dict[str, list[float]] = {}  # token -> [first, last] time it was handed out
    latencies: list[float] = []
    peak = [0, 0]
    async with OneRingAI(settings=settings) as client:
        managers = [client.oauth(name) for name in config["clients"]]
        storage = await client.token_storage.resolve()  # type: ignore[attr-defined]
        await asyncio.sleep(max(0.0, config["start_at"] - time.time()))
        deadline = time.time() + config["seconds"]

        async def caller(n: int) -> None:
            nonlocal calls
            i = n
            while time.time() < deadline:
                started = time.perf_counter()
                try:
                    token = await managers[i % len(managers)].get_token()
                    now = time.time()
                    span = seen.setdefault(token, [now, now])
                    span[1] = now
                    if i % 16 == 0:
                        latencies.append(time.perf_counter() - started)
                except OneRingAIError as exc:
                    errors[type(exc).__name__ + ": " + str(exc)[:120]] += 1
                except Exception as exc:
                    errors["UNTYPED " + type(exc).__name__ + ": " + str(exc)[:120]] += 1
                calls += 1
                i += 1

        async def sample() -> None:
            while time.time() < deadline:
                in_use, peak[1] = _pool_use(storage)
                peak[0] = max(peak[0], in_use)
                await asyncio.sleep(0.2)

        await asyncio.gather(sample(), *(caller(n) for n in range(CONCURRENCY)))
    return {"calls": calls, "errors": dict(errors), "seen": seen, "peak_in_use": peak[0], "pool_max": peak[1],
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


def _spawn(config: dict[str, Any]) -> list[subprocess.Popen[str]]:
    return [subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]


async def _server_connections(application: str, stop: asyncio.Event) -> int:
    """Peak connections Postgres shows for this run's processes (their application_name)."""
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    peak = 0
    try:
        while not stop.is_set():
            peak = max(peak, await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", application))
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return int(peak)


async def store_run(report: Report, kind: str, seconds: float) -> None:
    from oneringai.infrastructure.token_storage.encryption import generate_key
    from tests.oauth_server import Client, OAuthTestServer

    tag = uuid.uuid4().hex[:8]
    server = OAuthTestServer(token_lifetime=LIFETIME).start()
    clients = [f"soak-{tag}-{i}" for i in range(KEYS)]
    for name in clients:
        server.add_client(Client(name, "svc-secret", server.redirect_uri, ["client_credentials"]))
    application = f"soak_{tag}"
    target = f"{POSTGRES_DSN}?application_name={application}" if kind == "postgres" else REDIS_URL
    start_at = time.time() + 6  # imports and pools of 4 fresh processes
    config = {"kind": kind, "target": target, "where": f"soak_{tag}" if kind == "postgres" else f"soak:{tag}:",
              "key": generate_key(), "url": server.url, "clients": clients, "start_at": start_at, "seconds": seconds}
    stop = asyncio.Event()
    watch = asyncio.create_task(_server_connections(application, stop)) if kind == "postgres" else None
    procs = _spawn(config)
    outputs = await asyncio.gather(*(asyncio.to_thread(p.communicate, timeout=seconds + 120) for p in procs))
    stop.set()
    server_peak = await watch if watch else None
    server.stop()
    await _cleanup(kind, config["where"])
    label = f"{kind}"
    crashed = [o[1][-600:] for p, o in zip(procs, outputs, strict=True) if p.returncode != 0]
    report.check(f"{label}: worker processes exited cleanly", f"{PROCESSES - len(crashed)}/{PROCESSES}",
                 f"{PROCESSES}/{PROCESSES}", not crashed)
    if crashed:
        report.figure(f"{label}: crash", crashed[0].replace("\n", " | ")[-300:])
        return
    results = [json.loads(o[0].strip().splitlines()[-1]) for o in outputs]
    calls = sum(r["calls"] for r in results)
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    report.figure(f"{label}: get_token calls", f"{calls} in {seconds:.0f} s, {calls / seconds:.0f}/s "
                  f"(p50 {ms(max(r['p50'] for r in results))}, p99 {ms(max(r['p99'] for r in results))})")
    report.check(f"{label}: errors", str(sum(errors.values())) + "".join(f"; {k} x{v}" for k, v in errors.most_common(2)),
                 "0", not errors)
    issued: dict[str, list[float]] = {}
    expires: dict[str, float] = {}
    for token in server.tokens:
        if token.client_id in clients:
            issued.setdefault(token.client_id, []).append(token.issued_at)
            expires[token.access_token] = token.issued_at + token.expires_in
    due = LIFETIME - SKEW
    gaps = [b - a for times in issued.values() for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
    counts = [len(issued.get(c, [])) for c in clients]
    most = int(seconds / due) + 2
    least = int(seconds / (due + 1.0))
    report.check(f"{label}: token requests per key (every {due:.0f} s due)", f"{min(counts)}..{max(counts)}",
                 f"{least}..{most}", least <= min(counts) and max(counts) <= most)
    report.check(f"{label}: closest two issues of one key (a double refresh: ~0)",
                 f"{min(gaps):.2f} s" if gaps else "n/a", f">= {due - 0.05:.2f} s", bool(gaps) and min(gaps) >= due - 0.05)
    late = [t for r in results for t, (_first, last) in r["seen"].items() if last > expires.get(t, 0)]
    report.check(f"{label}: tokens handed out after expiry or never issued", str(len(late)), "0", not late)
    peak = max(r["peak_in_use"] for r in results)
    report.check(f"{label}: pool never exhausted (no acquire error; peak in use / max per process)",
                 f"{peak} / {results[0]['pool_max']}", "no pool error", not any("connection" in k.lower() for k in errors))
    if server_peak is not None:
        report.check(f"{label}: server-side connections of the 4 processes (peak)", str(server_peak),
                     f"<= {PROCESSES} x {PG_MAX_SIZE}", server_peak <= PROCESSES * PG_MAX_SIZE)


async def _cleanup(kind: str, where: str) -> None:
    if kind == "postgres":
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_DSN)
        await conn.execute(f'DROP TABLE IF EXISTS "{where}"')
        await conn.close()
    else:
        import redis.asyncio as aioredis

        client = aioredis.from_url(REDIS_URL)
        async for key in client.scan_iter(match=f"{where}*"):
            await client.delete(key)
        await client.aclose()


async def run(seconds: float) -> Report:
    report = Report(f"tokens ({PROCESSES} processes x {CONCURRENCY} get_token, tokens live {LIFETIME} s, "
                    f"refresh {SKEW:.0f} s early, {KEYS} keys)")
    for kind in ("postgres", "redis"):
        await store_run(report, kind, seconds)
    return report


if __name__ == "__main__" and sys.argv[1:2] == ["--worker"]:
    print(json.dumps(asyncio.run(worker(json.loads(sys.argv[2])))))
