"""A job whose result cannot be saved at first (Redis unreachable from the worker for a while)
is not lost: the worker keeps trying to save it, and acknowledges the job only once it is saved.

taskiq's ``--ack-type when_saved`` acknowledges after *trying* to save: a failed save is logged
and the job acknowledged all the same, so the run's answer was gone for good. The workers here
reach Redis through a TCP proxy the test cuts while a run is in flight; the test's API reads
Redis directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REDIS_URL, require_port, require_postgres, require_redis
from tests.integration.test_worker_taskiq import (
    Stack,
    ThreadedVendorServer,
    api,  # noqa: F401 - the example API, on this module's workers
    clean_up,
    create_audit_table,
    gate,  # noqa: F401
    oauth_server,  # noqa: F401
    start_workers,
    wait_done,
    wait_for_consumers,
)

pytest.importorskip("taskiq_aio_pika")


class CuttableProxy:
    """A TCP proxy to Redis on a thread: ``cut()`` drops every connection and refuses new ones
    (the port stays bound, so connecting fails at once); ``restore()`` forwards again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.open = threading.Event()
        self.open.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open.clear()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self.sockets.clear()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture(scope="module")
def proxy() -> Iterator[CuttableProxy]:
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    made = CuttableProxy((host, int(port)))
    yield made
    made.close()


@pytest.fixture(scope="module")
def workers(oauth_server: Any, proxy: CuttableProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Any, Path]]:  # noqa: F811
    require_redis()
    require_postgres()
    require_port("RabbitMQ", 5672)
    with ThreadedVendorServer() as vendor:
        stack = Stack(vendor.server.url, oauth_server)
        database = REDIS_URL.rsplit("/", 1)[1]
        worker_env = {**stack.env, "LLM_MODEL": "slow",  # each model call takes 5 s
                      "WORKER_RESULT_SAVE_WINDOW": "4",
                      "WORKER_RESULTS_URL": f"redis://127.0.0.1:{proxy.port}/{database}"}
        log = tmp_path_factory.mktemp("workers") / "workers.log"
        asyncio.run(create_audit_table(stack))
        saved, stack.env = stack.env, worker_env
        process = start_workers(stack, log)
        stack.env = saved  # the API reads Redis directly
        try:
            wait_for_consumers(stack, process, log, 2)
            yield stack, process, log
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            asyncio.run(clean_up(stack))


async def test_a_result_that_cannot_be_saved_yet_is_not_lost(workers, api, proxy):  # noqa: F811
    _stack, manager, log = workers
    run_id = (await api.post("/runs", json={"prompt": "Weather in Paris?"})).json()["run_id"]
    deadline = time.monotonic() + 60
    while (await api.get(f"/runs/{run_id}")).json()["status"] != "running":
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.05)
    proxy.cut()  # the run goes on (model calls, tools), then its worker cannot save the answer
    try:
        deadline = time.monotonic() + 60
        while "set result" not in log.read_text() and "cannot save" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # the failed save is over (and, before, the job acknowledged)
    finally:
        proxy.restore()
    done = await wait_done(api, run_id, timeout=90)  # before: "running" for ever, the answer lost
    assert done["status"] == "done", done
    assert manager.poll() is None


async def test_a_worker_that_cannot_save_for_too_long_leaves_the_job_to_another(workers, api, proxy):  # noqa: F811
    """Past ``WORKER_RESULT_SAVE_WINDOW`` the worker exits unacknowledged: the job is redelivered
    and answered by a new worker once Redis is back (at least once, never lost)."""
    _stack, manager, log = workers
    run_id = (await api.post("/runs", json={"prompt": "Weather in Oslo?"})).json()["run_id"]
    deadline = time.monotonic() + 60
    while (body := (await api.get(f"/runs/{run_id}")).json())["status"] != "running":
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        await asyncio.sleep(0.05)
    first = body["workers"][-1]
    proxy.cut()
    try:
        deadline = time.monotonic() + 60
        while f"cannot save the result of job {run_id} for" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
    finally:
        proxy.restore()
    done = await wait_done(api, run_id, timeout=120)
    # answered by another worker (its progress write may have met Redis still cut: best effort)
    assert done["status"] == "done" and done["worker"] != first, done
    assert manager.poll() is None  # the manager started a new worker
