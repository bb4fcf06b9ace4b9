"""A local stand-in for Cohere's chat API (``POST /v1/chat``), so the Cohere example runs offline.

Shaped after Cohere's v1 chat reference: the request carries ``message``, ``chat_history``
(``USER``/``CHATBOT`` turns), ``preamble``, ``temperature``, ``max_tokens`` and ``stream``; the
answer is ``{"text", "generation_id", "finish_reason", "meta": {"tokens": {...}}}``, or with
``stream: true`` NDJSON events ``stream-start`` / ``text-generation`` / ``stream-end``; errors are
``{"message": ...}`` with the HTTP status. Behaviour by model name: ``command-r`` and
``command-r-plus`` answer, ``trial-limited`` is rate limited (429, ``Retry-After: 1``),
``overloaded`` fails with 503 (no ``Retry-After``), ``cut``
stops streaming before ``stream-end``, ``odd`` answers a body without ``text``, any other model
is unknown (404). Every request body is recorded in ``requests``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from _local_llm import serve
from aiohttp import web

MODELS = ("command-r", "command-r-plus")


class CohereStub:
    def __init__(self, api_key: str = "co-local-test-key") -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        text = f"Cohere heard: {body['message']}"
        return {
            "response_id": f"resp-{len(self.requests)}",
            "text": text,
            "generation_id": f"gen-{len(self.requests)}",
            "chat_history": [*body.get("chat_history", []), {"role": "USER", "message": body["message"]},
                             {"role": "CHATBOT", "message": text}],
            "finish_reason": "COMPLETE",
            "meta": {"api_version": {"version": "1"}, "billed_units": {"input_tokens": 4, "output_tokens": 6},
                     "tokens": {"input_tokens": 70, "output_tokens": 6}},
        }

    async def chat(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return web.json_response({"message": "invalid api token"}, status=401)
        body = await request.json()
        self.requests.append(body)
        model = body.get("model")
        if model == "trial-limited":
            return web.json_response(
                {"message": "You are using a Trial key, which is limited to 10 API calls / minute."},
                status=429, headers={"Retry-After": "1"})
        if model == "overloaded":
            return web.json_response({"message": "internal server error, this has been reported to our developers"},
                                     status=503)
        if model == "odd":
            return web.json_response({"generation_id": "gen-odd", "finish_reason": "COMPLETE"})
        if model not in (*MODELS, "cut"):
            return web.json_response({"message": f"model '{model}' not found, make sure the correct model ID "
                                                 "was used and that you have access to the model."}, status=404)
        answer = self._answer(body)
        if not body.get("stream"):
            return web.json_response(answer)
        response = web.StreamResponse(headers={"content-type": "application/stream+json"})
        await response.prepare(request)
        events: list[dict[str, Any]] = [{"is_finished": False, "event_type": "stream-start",
                                         "generation_id": answer["generation_id"]}]
        text = answer["text"]
        events += [{"is_finished": False, "event_type": "text-generation", "text": text[i:i + 6]}
                   for i in range(0, len(text), 6)]
        if model != "cut":
            events.append({"is_finished": True, "event_type": "stream-end", "finish_reason": "COMPLETE",
                           "response": answer})
        for event in events:
            await response.write(json.dumps(event).encode() + b"\n")
        return response


@asynccontextmanager
async def cohere_stub(api_key: str = "co-local-test-key") -> AsyncIterator[tuple[str, CohereStub]]:
    """Yields ``(base_url, stub)`` of a running stand-in on 127.0.0.1."""
    stub = CohereStub(api_key)
    app = web.Application()
    app.router.add_post("/v1/chat", stub.chat)
    async with serve(app) as url:
        yield url, stub
