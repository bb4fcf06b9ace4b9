"""The taskiq example's HTTP API in process, for the worker tests: built after its modules are
reloaded under the given ``WORKER_*`` environment (the example reads it at import), which is
put back afterwards."""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import AsyncIterator, Mapping

import httpx


@contextlib.asynccontextmanager
async def example_api(env: Mapping[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        import examples.taskiq_worker.app as app_module
        import examples.taskiq_worker.tasks as tasks_module

        importlib.reload(tasks_module)
        importlib.reload(app_module)
        app = app_module.create_app()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                yield client
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
