"""An API that enqueues agent runs and reads their results; the workers do the runs.

    POST /runs {"prompt": "...", "user_id": "..."}  -> 202 {"run_id": "..."}
    GET  /runs/{run_id}                              -> {"status": "queued" | "running" | "done" | "failed", ...}

Run: uvicorn examples.taskiq_worker.app:app (with the workers of tasks.py running).

A job is sent again for up to ``WORKER_ENQUEUE_WINDOW`` seconds (default 10) while the
connection to RabbitMQ is being made again (RabbitMQ closed it: a restart, a failover); past
that, 503 with ``Retry-After``. Before, a POST in that moment was a 500 (taskiq's
``SendTaskError``), though the connection came back by itself a few seconds later.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from taskiq.exceptions import SendTaskError

from examples.taskiq_worker.tasks import broker, run_agent


class RunRequest(BaseModel):
    prompt: str = Field(min_length=1, max_length=20_000)
    user_id: str | None = None


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.startup()  # a client of the queue: no OneRingAI client is built here
        try:
            yield
        finally:
            await broker.shutdown()

    app = FastAPI(title="oneringai agent runs", lifespan=lifespan)

    window = float(os.environ.get("WORKER_ENQUEUE_WINDOW", "10"))

    @app.post("/runs", status_code=202)
    async def enqueue(body: RunRequest) -> dict[str, str]:
        deadline = time.monotonic() + window
        while True:
            try:
                task = await run_agent.kiq(body.prompt, user_id=body.user_id)
                return {"run_id": task.task_id}
            except SendTaskError:  # the connection to RabbitMQ is down, maybe coming back
                if time.monotonic() + 0.2 > deadline:
                    raise HTTPException(
                        status_code=503, detail="the job queue is unreachable; try again",
                        headers={"Retry-After": "5"},
                    ) from None
                await asyncio.sleep(0.2)

    @app.get("/runs/{run_id}")
    async def status(run_id: str) -> dict[str, Any]:
        backend = broker.result_backend
        if await backend.is_result_ready(run_id):
            result = await backend.get_result(run_id)
            if result.is_err:
                return {"status": "failed", "error": str(result.error)}
            return {"status": "done", **result.return_value}
        progress = await backend.get_progress(run_id)
        if progress is None:
            return {"status": "queued"}
        if progress.state != "STARTED":
            raise HTTPException(status_code=500, detail=f"unexpected progress state {progress.state}")
        return {"status": "running", **(progress.meta or {})}

    return app


app = create_app()
