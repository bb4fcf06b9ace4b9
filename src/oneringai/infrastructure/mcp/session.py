"""One connection to one MCP server: opened on first use, bounded in time, reopened after it died.

The promise:

* **Lazy.** Nothing starts until the first ``list_tools``/``call_tool``; ``aclose`` stops the
  server process (stdio) or ends the HTTP session, and is safe to call twice.
* **Bounded.** Starting and greeting the server is bounded by ``connect_timeout``; every request
  by ``timeout`` (the SDK's read timeout, with an asyncio deadline behind it). Nothing here can
  hang an agent.
* **Typed failures.** A server that cannot start, died, hung, answered garbage or refused the
  credentials becomes a ``ToolExecutionError`` (retryable where trying again can help) — which
  the direct executor turns into an error ``ToolResult``. A missing SDK is a ``ConfigError``
  naming the extra.
* **Self-healing.** A connection that failed (closed pipe, dead process, a request that timed out
  and a server that no longer answers ``ping``) is dropped; the next call opens a new one.

The SDK's transports run in anyio task groups, which must be entered and left by the same task.
So each connection lives in an owner task of its own: it enters the SDK client, publishes it,
and waits to be told to stop. Any task may send requests through the published client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from oneringai.domain.errors import ConfigError, ToolExecutionError, install_extra_hint
from oneringai.domain.redaction import get_logger
from oneringai.infrastructure.mcp.config import McpServerSettings

__all__ = ["McpSession", "TokenSource"]

#: ``(connection, user_id, force_refresh) -> access token``: the bearer for ``oauth_connection``.
TokenSource = Callable[[str, "str | None", bool], Awaitable[str]]

_LOG = get_logger("oneringai.mcp")
_CONNECTION_CLOSED = -32000
_REQUEST_TIMEOUT = -32001
_MAX_PAGES = 100
_CLOSE_WAIT = 10.0  # the SDK's stdio shutdown is itself bounded (stdin close, TERM, KILL: ~6 s)


def _import_sdk(server: str) -> Any:
    try:
        import mcp
        import mcp.client.stdio
        import mcp.client.streamable_http
    except ImportError as exc:
        raise ConfigError(
            f"MCP servers need the mcp extra: {install_extra_hint('mcp')}", path=f"tools.mcp_servers.{server}"
        ) from exc
    _scrub_sdk_logs()
    return mcp


#: The SDK's loggers and its HTTP client's: the SDK logs the endpoint URL (query string and all)
#: and the messages it exchanges, which may carry headers' or servers' secrets.
_SDK_LOGGERS = ("mcp", "httpx2", "httpcore2")


def _scrub_sdk_logs() -> None:
    """Put the kit's redacting filter on every SDK logger that exists (a logger's filter does
    not apply to its children's records, so each one gets it)."""
    for name in list(logging.root.manager.loggerDict):
        if name.split(".", 1)[0] in _SDK_LOGGERS:
            get_logger(name)


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups — what a person wants to read."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _describe(exc: BaseException) -> str:
    leaf = _leaf(exc)
    status = getattr(getattr(leaf, "response", None), "status_code", None)
    if isinstance(status, int):
        return f"HTTP {status}" + (" (check the headers / oauth_connection)" if status in (401, 403) else "")
    text = str(leaf).strip()
    return f"{type(leaf).__name__}: {text}" if text else type(leaf).__name__


def _is_transport_failure(exc: BaseException) -> bool:
    """Whether the connection itself failed (as opposed to one answer being unusable)."""
    import anyio

    leaf = _leaf(exc)
    transport_errors: tuple[type[BaseException], ...] = (
        OSError, EOFError, anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream,
    )
    try:
        import httpx2

        transport_errors += (httpx2.TransportError, httpx2.HTTPStatusError)
    except ImportError:  # pragma: no cover - httpx2 comes with the SDK
        pass
    return isinstance(leaf, transport_errors)


@dataclass
class _Connection:
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    client: Any = None
    broken: bool = False


class McpSession:
    """Usable alone or from ``McpServerRegistry``; ``name`` is the ``tools.mcp_servers`` key."""

    def __init__(
        self, name: str, settings: McpServerSettings, *, token_source: TokenSource | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self._token_source = token_source
        self._lock = asyncio.Lock()
        self._conn: _Connection | None = None
        self._closed = False
        self._retiring: set[asyncio.Task[None]] = set()
        self._http_status: int | None = None  # the last HTTP error status (the SDK hides it)
        #: How many connections were opened (a restart after a crash adds one).
        self.connects = 0

    # --- public -----------------------------------------------------------------------------------
    async def list_tools(self) -> list[Any]:
        """Every tool the server lists (all pages), as the SDK's ``Tool`` models."""
        client, conn = await self._connected()
        tools: list[Any] = []
        cursor: str | None = None
        async with self._guard(conn, "tools/list"):
            for _ in range(_MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
        return tools

    async def call_tool(self, tool_name: str, arguments: dict[str, Any]) -> Any:
        """The SDK's ``CallToolResult`` (``is_error`` may be set: the tool itself failed)."""
        client, conn = await self._connected()
        async with self._guard(conn, f"tools/call {tool_name}"):
            return await client.call_tool(tool_name, arguments, read_timeout_seconds=self.settings.timeout)

    async def aclose(self) -> None:
        self._closed = True
        async with self._lock:
            await self._drop()
        if self._retiring:
            await asyncio.wait(set(self._retiring), timeout=2 * _CLOSE_WAIT)

    @property
    def is_open(self) -> bool:
        conn = self._conn
        return conn is not None and conn.client is not None and not conn.broken

    def __repr__(self) -> str:
        target = " ".join(self.settings.command or []) if self.settings.transport == "stdio" else self.settings.url
        return f"McpSession({self.name!r}, {self.settings.transport}: {target})"

    # --- connection lifecycle -----------------------------------------------------------------
    async def _connected(self) -> tuple[Any, _Connection]:
        conn = self._conn
        if conn is not None and conn.client is not None and not conn.broken and not self._task_done(conn):
            return conn.client, conn
        async with self._lock:
            if self._closed:
                raise ToolExecutionError(f"MCP server {self.name!r}: the client was closed")
            conn = self._conn
            if conn is None or conn.client is None or conn.broken or self._task_done(conn):
                await self._drop()
                conn = await self._open()
            return conn.client, conn

    @staticmethod
    def _task_done(conn: _Connection) -> bool:
        return conn.task is not None and conn.task.done()

    async def _open(self) -> _Connection:
        _import_sdk(self.name)
        conn = _Connection()
        self._http_status = None
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Any] = loop.create_future()
        conn.task = loop.create_task(self._own(conn, ready), name=f"mcp-session:{self.name}")
        self.connects += 1
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                conn.client = await asyncio.shield(ready)
        except TimeoutError:
            await self._stop(conn)
            raise ToolExecutionError(
                f"MCP server {self.name!r} did not start and greet within {self.settings.connect_timeout:g}s "
                f"(tools.mcp_servers.{self.name}.connect_timeout)",
                is_retryable=True,
            ) from None
        except asyncio.CancelledError:  # the caller gave up: stop the half-open connection anyway
            self._retire(conn)
            raise
        except ConfigError:
            await self._stop(conn)
            raise
        except Exception as exc:
            await self._stop(conn)
            raise ToolExecutionError(
                f"MCP server {self.name!r} could not be reached: {self._explain(exc)}", is_retryable=True
            ) from None
        self._conn = conn
        return conn

    async def _own(self, conn: _Connection, ready: asyncio.Future[Any]) -> None:
        """The owner task: enters the SDK client, publishes it, waits for ``stop``, leaves it."""
        try:
            async with self._client() as client:
                if not ready.done():
                    ready.set_result(client)
                await conn.stop.wait()
        except asyncio.CancelledError:
            _fail(ready, ConnectionError("connection cancelled"))
            raise
        except (Exception, BaseExceptionGroup) as exc:  # the transport failed (often an ExceptionGroup)
            if not ready.done():
                _fail(ready, exc if isinstance(exc, Exception) else ConnectionError(_describe(exc)))
            elif not conn.stop.is_set():
                _LOG.warning("MCP server %r: connection lost: %s", self.name, _describe(exc))
        finally:
            conn.broken = True

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._stop(conn)

    async def _stop(self, conn: _Connection) -> None:
        conn.broken = True
        conn.stop.set()
        task = conn.task
        if task is None or task.done():
            return
        if conn.client is None:  # still starting or greeting: nothing to finish, stop it now
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=_CLOSE_WAIT)
        if not done:  # the SDK's shutdown is bounded; this is a last resort
            task.cancel()
            await asyncio.wait({task}, timeout=_CLOSE_WAIT)

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        from mcp import Client

        async with self._transport() as transport, Client(
            transport, read_timeout_seconds=self.settings.timeout, cache=None
        ) as client:
            yield client

    @contextlib.asynccontextmanager
    async def _transport(self) -> AsyncIterator[Any]:
        """An un-entered SDK transport (the ``Client`` enters it), and what it needs kept open."""
        settings = self.settings
        if settings.command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            params = StdioServerParameters(
                command=settings.command[0],
                args=[*settings.command[1:], *settings.args],
                env={key: value.get_secret_value() for key, value in settings.env.items()} or None,
                cwd=settings.cwd,
            )
            if settings.stderr == "discard":
                with open(os.devnull, "w") as devnull:  # noqa: ASYNC230 - opening /dev/null does not block
                    yield stdio_client(params, errlog=devnull)
            else:
                yield stdio_client(params)
            return
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        from oneringai.infrastructure.mcp._auth import BearerAuth
        from oneringai.infrastructure.mcp._bounded import bounded_transport

        headers = {key: value.get_secret_value() for key, value in settings.headers.items()}
        auth = None
        if settings.oauth_connection is not None:
            if self._token_source is None:
                raise ConfigError(
                    "oauth_connection needs the OAuth registry (build the client with OneRingAI.from_config)",
                    path=f"tools.mcp_servers.{self.name}.oauth_connection",
                )
            auth = BearerAuth(self._token_source, settings.oauth_connection, settings.oauth_user_id)
        timeout = httpx2.Timeout(settings.connect_timeout, read=settings.timeout + 5)

        async def remember_status(response: httpx2.Response) -> None:
            if response.status_code >= 400:
                self._http_status = response.status_code

        hooks = {"response": [remember_status]}
        async with httpx2.AsyncClient(
            headers=headers, timeout=timeout, auth=auth, event_hooks=hooks, transport=bounded_transport()
        ) as http:
            yield streamable_http_client(settings.url or "", http_client=http)

    # --- failures -------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _guard(self, conn: _Connection, what: str) -> AsyncIterator[None]:
        """Every failure of a request becomes a ``ToolExecutionError``; a dead connection is dropped."""
        from mcp.shared.exceptions import MCPError

        limit = self.settings.timeout
        self._http_status = None
        try:
            async with asyncio.timeout(limit + 1):  # behind the SDK's own read timeout
                yield
        except TimeoutError:
            await self._after_timeout(conn)
            raise ToolExecutionError(self._timed_out(what, limit), is_retryable=True) from None
        except MCPError as exc:
            if exc.code == _REQUEST_TIMEOUT:
                await self._after_timeout(conn)
                raise ToolExecutionError(self._timed_out(what, limit), is_retryable=True) from None
            if exc.code == _CONNECTION_CLOSED:
                self._retire(conn)
                raise ToolExecutionError(
                    f"MCP server {self.name!r} closed the connection during {what} (it crashed or exited); "
                    "the next call starts a new connection",
                    is_retryable=True,
                ) from None
            raise ToolExecutionError(f"MCP server {self.name!r} refused {what}: {self._explain(exc)}") from None
        except (ToolExecutionError, ConfigError):
            raise
        except Exception as exc:
            if _is_transport_failure(exc) or self._task_done(conn):
                self._retire(conn)
                raise ToolExecutionError(
                    f"MCP server {self.name!r} failed during {what}: {self._explain(exc)}", is_retryable=True
                ) from None
            # the connection works, the answer does not (e.g. output that breaks its own schema)
            raise ToolExecutionError(
                f"MCP server {self.name!r} answered {what} with something unusable: {_describe(exc)}"
            ) from None

    def _explain(self, exc: BaseException) -> str:
        status = self._http_status
        if status is None:
            return _describe(exc)
        hint = f" (check tools.mcp_servers.{self.name}.headers / oauth_connection)" if status in (401, 403) else ""
        return f"HTTP {status}{hint}"

    def _timed_out(self, what: str, limit: float) -> str:
        return f"MCP server {self.name!r} did not answer {what} within {limit:g}s (tools.mcp_servers.{self.name}.timeout)"

    async def _after_timeout(self, conn: _Connection) -> None:
        """A slow tool leaves the connection alone; a server that no longer answers a cheap
        request (``tools/list``; ``ping`` is gone from the 2026 protocol) is dropped."""
        client = conn.client
        if client is None or conn.broken:
            return
        try:
            async with asyncio.timeout(min(5.0, self.settings.connect_timeout)):
                await client.list_tools()
        except Exception:
            _LOG.warning("MCP server %r stopped answering after a timeout; starting a new connection", self.name)
            self._retire(conn)

    def _retire(self, conn: _Connection) -> None:
        """Mark ``conn`` dead and stop it in the background, so the next call need not wait for
        a hung process to be killed (``aclose`` still waits for it)."""
        conn.broken = True
        if self._conn is conn:
            self._conn = None
        task = asyncio.get_running_loop().create_task(self._stop(conn), name=f"mcp-retire:{self.name}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)


def _fail(ready: asyncio.Future[Any], exc: Exception) -> None:
    """Publish a failed start. The opener may have stopped waiting (its connect timeout), so the
    exception is marked as retrieved: no "Future exception was never retrieved" at exit."""
    if not ready.done():
        ready.set_exception(exc)
        ready.exception()
