"""Backends that fail while the kit runs: a Redis of our own (killed and restarted at will), and a
TCP forwarder in front of any server (cut, restored, or frozen so it accepts and never answers).

Nothing here touches the shared servers: the Redis runs on a port of its own, and the forwarder
only closes the connections that pass through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.conftest import service_unavailable

#: A password in every URL and DSN of these tests: it must never show in an error or a repr.
PASSWORD = "Sup3rS3cretPassw0rd"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A throwaway ``redis-server`` on a free port, with a password; ``stop``/``start`` to take it
    down (``SHUTDOWN NOSAVE``) and bring it back on the same port."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            service_unavailable("redis-server", "not installed")
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--daemonize", "yes",
             "--save", "", "--appendonly", "no", "--requirepass", PASSWORD, "--dir", str(self.directory),
             "--pidfile", str(self.directory / f"redis-{self.port}.pid"),
             "--logfile", str(self.directory / f"redis-{self.port}.log")],
            check=True, capture_output=True, timeout=10,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.admin().ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def admin(self) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # no retries: a SHUTDOWN's closed connection is the answer, not a reason to try again
        return redis.Redis(
            host="127.0.0.1", port=self.port, password=PASSWORD, socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )

    def kill_clients(self) -> int:
        """``CLIENT KILL TYPE normal``: every connection of the kit (not this admin one)."""
        with self.admin() as admin:
            return int(admin.client_kill_filter(_type="normal", skipme=True))

    def stop(self) -> None:
        with contextlib.suppress(Exception), self.admin() as admin:
            admin.shutdown(nosave=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)


class Forwarder:
    """A TCP forwarder on a port of its own to ``127.0.0.1:target``. ``stop`` refuses new
    connections and cuts every open one (a server gone); ``start`` again on the same port (it
    is back); ``frozen`` swallows what the client sends (a server that accepts and never answers)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self.frozen = False
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not self.frozen:
                    sink.write(data)
                    await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.transport.abort()
            self._writers.discard(sink)


class FaultyProxy:
    """An HTTP proxy before moto that answers the next requests as told — ``"throttle"`` (400
    ``ThrottlingException``), ``"500"`` (``InternalFailure``), ``"reset"`` (the connection cut
    before any answer) — and forwards the rest (``faults`` empty: a plain proxy)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.faults: list[str] = []
        self.requests = 0
        self.url = ""
        self._runner: Any = None
        self._client: Any = None

    async def start(self) -> None:
        import aiohttp
        from aiohttp import web

        self._client = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        self.requests += 1
        body = await request.read()
        fault = self.faults.pop(0) if self.faults else None
        if fault == "throttle":
            return web.json_response(
                {"__type": "ThrottlingException", "message": "Rate exceeded"}, status=400,
                headers={"x-amzn-ErrorType": "ThrottlingException"},
            )
        if fault == "500":
            return web.json_response({"__type": "InternalFailure", "message": "boom"}, status=500)
        if fault == "reset":
            request.transport.abort()
            raise ConnectionResetError("cut")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._client.request(request.method, self.target + request.path_qs, data=body, headers=headers) as answer:
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection")}
            return web.Response(body=payload, status=answer.status, headers=kept)
