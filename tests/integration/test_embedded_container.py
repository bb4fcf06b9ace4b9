"""Our container nested in a user's own (DESIGN.md §1 user 3): ``providers.Container(Container,
settings=...)`` inside their ``DeclarativeContainer``. Their ``await app.shutdown_resources()``
walks our Resources (dependency-injector traverses a ``providers.Container``'s providers) but
never calls our container's own ``shutdown_resources`` override: whatever the container built
and closes itself (registries, executor stacks, MCP servers) must close anyway, and every pool
must be gone afterwards. Real parts: the loopback vendor server, Postgres, Redis; open sockets
counted from /proc."""

from __future__ import annotations

import gc
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import containers, providers

from oneringai.config import Settings
from oneringai.container import Container
from oneringai.infrastructure.token_storage.encryption import generate_key
from oneringai.testing import ScriptedTextProvider
from tests.conftest import POSTGRES_DSN, require_postgres, require_redis

REDIS_URL = os.environ.get("ONERINGAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")



@pytest.fixture(autouse=True)
def no_resource_warning_from_this_test():
    """What a test leaves unclosed (a socket, a session) is a ResourceWarning when collected.
    Recorded and listed, not raised from inside a finalizer (where an exception only becomes an
    "ignored" note); earlier tests' garbage is collected first, so it is not blamed on this one."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not leaks, leaks


def _open_tcp_peer_ports() -> list[int]:
    """Remote ports of this process's established TCP connections (/proc: no psutil needed)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and fields[3] == "01":  # ESTABLISHED
                ports.append(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _settings(vendor_url: str, storage: str) -> Settings:
    oauth: dict[str, Any] = {"encryption_keys": [generate_key()], "storage": {"kind": storage}, "connections": {
        "github": {"flow": "authorization_code", "client_id": "cid", "client_secret": "s",
                   "authorization_url": "https://auth.example/authorize", "token_url": "https://auth.example/token",
                   "redirect_uri": "http://testserver/oauth/github/callback"}}}
    if storage == "postgres":
        oauth["storage"]["postgres"] = {"dsn": POSTGRES_DSN, "table": f"embed_{uuid.uuid4().hex[:8]}"}
    elif storage == "redis":
        oauth["storage"]["redis"] = {"url": REDIS_URL, "prefix": f"embed:{uuid.uuid4().hex[:8]}:"}
    return Settings.model_validate({
        "text": {"default": "vendor", "providers": {"vendor": {
            "kind": "openai", "base_url": f"{vendor_url}/v1", "api_key": "sk-test", "default_model": "ok"}}},
        "oauth": oauth,
        "tools": {"executor": [{"kind": "rate_limit", "per_minute": 600, "backend": "redis",
                                "redis_url": REDIS_URL, "prefix": f"embed:{uuid.uuid4().hex[:8]}:"}]},
    })


def _app(settings: Settings) -> Any:
    class App(containers.DeclarativeContainer):
        config = providers.Object(settings)
        ai = providers.Container(Container, settings=config)

    return App()


def _get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


@pytest.mark.parametrize("storage", ["postgres", "redis"])
async def test_the_outer_containers_shutdown_closes_every_pool(vendor_server, storage):
    require_redis()
    if storage == "postgres":
        require_postgres()
    storage_port = _port(POSTGRES_DSN.split("@")[-1]) if storage == "postgres" else _port(REDIS_URL)
    app = _app(_settings(vendor_server.url, storage))

    assert await app.ai.text().generate("hi") == "Hello from the stub server."  # HTTP pool opens
    store = app.ai.token_storage_proxy()
    assert await store.has_token("github:cid") is False  # the store's pool/client opens
    tools = app.ai.tools()
    tools.register(_get_weather)
    result = await tools.execute("_get_weather", {"city": "Oslo"})  # the rate limiter's Redis client
    assert result.output == "sunny in Oslo"
    before = _open_tcp_peer_ports()
    assert _port(vendor_server.url) in before and storage_port in before

    await app.shutdown_resources()

    after = _open_tcp_peer_ports()
    assert _port(vendor_server.url) not in after
    assert storage_port not in after  # the store's pool and the executor stack's Redis client
    assert app.ai.closers() == []  # registries and the executor stack were closed
    gc.collect()  # what it leaves unclosed is a recorded ResourceWarning (the fixture)


async def test_an_executor_stack_alone_is_closed_by_the_outer_shutdown():
    """No HTTP pool and no token store opened: only the lifetime Resource reaches the stack."""
    require_redis()
    app = _app(_settings("http://127.0.0.1:9", "memory"))
    tools = app.ai.tools()
    tools.register(_get_weather)
    assert (await tools.execute("_get_weather", {"city": "Oslo"})).output == "sunny in Oslo"
    assert _port(REDIS_URL) in _open_tcp_peer_ports()

    await app.shutdown_resources()

    assert _port(REDIS_URL) not in _open_tcp_peer_ports()


async def test_overrides_inside_the_nested_container(vendor_server):
    app = _app(_settings(vendor_server.url, "memory"))
    fake = ScriptedTextProvider(name="fake", repeat_last=True)
    fake.add("from the fake")
    with app.ai.text_provider.override(providers.Object(fake)):
        assert await app.ai.text().generate("hi") == "from the fake"
    assert await app.ai.text().generate("hi") == "Hello from the stub server."
    assert vendor_server.requests  # the override was undone: the real provider answered
    await app.shutdown_resources()
    assert _port(vendor_server.url) not in _open_tcp_peer_ports()


async def test_our_own_shutdown_resources_still_closes_everything(vendor_server):
    """The container alone (not nested) and ``await container.shutdown_resources()``."""
    require_redis()
    container = _app(_settings(vendor_server.url, "redis")).ai.container
    await container.text().generate("hi")
    await container.token_storage_proxy().has_token("github:cid")
    before = _open_tcp_peer_ports()
    assert _port(REDIS_URL) in before and _port(vendor_server.url) in before
    await container.shutdown_resources()
    after = _open_tcp_peer_ports()
    assert _port(REDIS_URL) not in after and _port(vendor_server.url) not in after


class _VendorInThread:
    """The vendor server on its own loop in a thread: ``TestClient`` blocks the test's thread."""

    def __enter__(self) -> Any:
        import asyncio
        import threading

        from tests.vendor_server import VendorServer

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = VendorServer()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def test_the_fastapi_lifespan_recipe_closes_everything_at_shutdown():
    """examples/fastapi_service: the lifespan's ``await client.destroy()`` at TestClient exit."""
    require_redis()
    from fastapi.testclient import TestClient

    from examples.fastapi_service.app import create_app
    from oneringai import OneRingAI

    with _VendorInThread() as server:
        settings = _settings(server.url, "redis")
        app = create_app(lambda: OneRingAI(settings=settings))
        with TestClient(app) as http:
            assert http.post("/chat", json={"prompt": "hi"}).json()["text"] == "Hello from the stub server."
            status = http.get("/oauth/github/token-status", headers={"x-user-id": "alice"})
            assert status.json() == {"has_token": False}  # the Redis store opened
            open_now = _open_tcp_peer_ports()
            assert _port(server.url) in open_now and _port(REDIS_URL) in open_now
        after = _open_tcp_peer_ports()
        assert _port(server.url) not in after and _port(REDIS_URL) not in after
        assert app.state.ai.is_destroyed


async def _execute_in_a_loop(tools: Any) -> str:
    result = await tools.execute("_get_weather", {"city": "Oslo"})
    return str(result.output)


def test_a_stack_built_outside_any_loop_is_closed_by_the_outer_shutdown():
    """Built at import time (no loop), used later inside one: its Redis client still closes."""
    import asyncio

    require_redis()
    app = _app(_settings("http://127.0.0.1:9", "memory"))
    tools = app.ai.tools()  # outside any event loop
    tools.register(_get_weather)
    app.ai.tool_executor()  # the stack too

    async def main() -> list[int]:
        assert await _execute_in_a_loop(tools) == "sunny in Oslo"
        assert _port(REDIS_URL) in _open_tcp_peer_ports()
        await app.shutdown_resources()
        return _open_tcp_peer_ports()

    assert _port(REDIS_URL) not in asyncio.run(main())


def test_a_plugin_provider_owning_a_client_is_closed_by_the_outer_shutdown(tmp_path, monkeypatch):
    """A plugin provider (entry point) with its own aiohttp session, not the shared pool; the
    registry built outside any loop: the provider's build opens the lifetime Resource."""
    import asyncio
    import textwrap

    from oneringai import plugins

    (tmp_path / "own_session_plugin.py").write_text(textwrap.dedent('''
        import aiohttp
        from oneringai.testing import ScriptedTextProvider

        class OwnSessionProvider(ScriptedTextProvider):
            def __init__(self, config, **kwargs):
                super().__init__(["from the plugin"], name="own")
                self.url = config.url
                self.session = None

            async def generate(self, options):
                self.session = self.session or aiohttp.ClientSession()
                async with self.session.get(self.url + "/v1/models") as response:
                    await response.read()
                return await super().generate(options)

            async def aclose(self):
                if self.session is not None:
                    await self.session.close()

        def make(config):  # a factory, not a BaseProvider class: no shared pool is opened for it
            return OwnSessionProvider(config)
    '''))
    dist = tmp_path / "own_session_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: own-session-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[oneringai.text_providers]\nownsession = own_session_plugin:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins.clear_cache()
    try:
        with _VendorInThread() as server:
            settings = Settings.model_validate({"text": {"default": "own", "providers": {
                "own": {"kind": "ownsession", "url": server.url, "default_model": "m"}}}})
            app = _app(settings)
            text = app.ai.text()  # the registry, outside any event loop

            async def main() -> list[int]:
                assert await text.generate("hi") == "from the plugin"
                assert _port(server.url) in _open_tcp_peer_ports()
                assert not app.ai.http_pool.initialized  # only the lifetime Resource can reach it
                await app.shutdown_resources()
                return _open_tcp_peer_ports()

            assert _port(server.url) not in asyncio.run(main())
    finally:
        plugins.clear_cache()
        import sys

        sys.modules.pop("own_session_plugin", None)


async def test_shutdown_container_takes_the_outer_container_whether_or_not_anything_opened(vendor_server):
    from oneringai.container import shutdown_container

    untouched = _app(_settings(vendor_server.url, "memory"))
    assert untouched.shutdown_resources() is None  # dependency-injector's: nothing async opened
    await shutdown_container(untouched)  # no TypeError from awaiting None

    used = _app(_settings(vendor_server.url, "memory"))
    await used.ai.text().generate("hi")
    assert _port(vendor_server.url) in _open_tcp_peer_ports()
    await shutdown_container(used)
    assert _port(vendor_server.url) not in _open_tcp_peer_ports()
    assert used.ai.closers() == []
    await shutdown_container(used)  # twice: nothing left, no error
