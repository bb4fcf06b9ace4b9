"""The container embedded in a FastAPI service: one lifespan opens and closes every resource.

Endpoints: chat (JSON and server-sent events), an agent with tools, and OAuth
login/callback for many users (user id from the ``X-User-Id`` header).

Run: ONERINGAI_CONFIG=examples/fastapi_service/service.yaml .venv/bin/uvicorn examples.fastapi_service.app:app
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import BaseModel

from oneringai import OAuthError, OneRingAI, ProviderError, tool


@tool
def get_weather(city: str) -> dict[str, str]:
    """Current weather for a city."""
    return {"city": city, "sky": "sunny"}


def ai(request: Request) -> OneRingAI:
    """The client the lifespan opened."""
    return request.app.state.ai  # type: ignore[no-any-return]


AI = Annotated[OneRingAI, Depends(ai)]


class ChatRequest(BaseModel):
    prompt: str
    provider: str | None = None
    model: str | None = None


def create_app(client_factory: Any = None) -> FastAPI:
    """``client_factory`` builds the OneRingAI client (tests pass one with overrides)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = client_factory() if client_factory else OneRingAI.from_config(os.environ.get("ONERINGAI_CONFIG"))
        app.state.ai = client
        try:
            yield
        finally:
            await client.destroy()  # closes the HTTP client, pools, Redis, providers

    app = FastAPI(title="oneringai service", lifespan=lifespan)


    @app.post("/chat")
    async def chat(body: ChatRequest, client: AI) -> dict[str, Any]:
        try:
            response = await client.text.generate_raw(body.prompt, provider=body.provider, model=body.model)
        except ProviderError as exc:
            raise HTTPException(status_code=502, detail=str(exc)) from exc
        return {"text": response.output_text, "usage": response.usage.model_dump()}

    @app.post("/chat/stream")
    async def chat_stream(body: ChatRequest, client: AI) -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            try:
                async for event in client.text.stream(body.prompt, provider=body.provider, model=body.model):
                    yield f"event: {event.type}\ndata: {event.model_dump_json()}\n\n"
            except ProviderError as exc:
                yield f"event: response.error\ndata: {json.dumps({'message': str(exc)})}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/agent")
    async def agent(body: ChatRequest, client: AI, x_user_id: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        runner = await client.agents.create(provider=body.provider, model=body.model, tools=[get_weather], user_id=x_user_id)
        response = await runner.run(body.prompt)
        return {"text": response.output_text, "iterations": runner.last_iterations}

    @app.get("/oauth/{connection}/login")
    async def login(connection: str, client: AI, x_user_id: Annotated[str, Header()]) -> RedirectResponse:
        # kept in the token store too, so any worker/replica can take the callback
        url, _state = await client.oauth(connection).start_authorization(x_user_id)
        return RedirectResponse(url, status_code=302)

    @app.get("/oauth/{connection}/callback")
    async def callback(connection: str, request: Request, client: AI) -> dict[str, Any]:
        try:
            await client.oauth(connection).handle_callback(dict(request.query_params))
        except OAuthError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        return {"connected": connection}

    @app.get("/oauth/{connection}/token-status")
    async def token_status(connection: str, client: AI, x_user_id: Annotated[str, Header()]) -> dict[str, Any]:
        manager = client.oauth(connection)
        return {"has_token": await client.token_storage.has_token(manager.storage_key(x_user_id))}

    return app


app = create_app()
