"""A local HTTP server answering in each vendor's wire format (built from their API references).

Behaviour is chosen by the model name, so one server covers every case:
``ok`` (text), ``tools`` (two parallel tool calls, then text once tool results arrive),
``err-401``, ``err-429`` (Retry-After: 1), ``err-429-date``, ``err-500``, ``missing`` (404),
``ctx`` (context length), ``cut`` (stream cut mid-way), ``garbage`` (bad stream line),
``badjson`` (truncated JSON body), ``slow`` (sleeps 5 s), ``overloaded`` (Anthropic stream:
``message_start``, then an ``overloaded_error`` event before any content, as the real API does
under load).
"""

from __future__ import annotations

import asyncio
import json
from email.utils import formatdate
from typing import Any

from aiohttp import web

TEXT = "Hello from the stub server."


def _has_tool_results(kind: str, body: dict[str, Any]) -> bool:
    for message in body.get("messages", []):
        if kind in ("openai", "ollama") and message.get("role") == "tool":
            return True
        if (
            kind == "anthropic"
            and isinstance(message.get("content"), list)
            and any(b.get("type") == "tool_result" for b in message["content"])
        ):
            return True
    return False


def _error(
    kind: str, status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> web.Response:
    if kind == "anthropic":
        body: Any = {"type": "error", "error": {"type": code, "message": message}}
    elif kind == "ollama":
        body = {"error": message}
    else:
        body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _failure(kind: str, model: str) -> web.Response | None:
    if model == "err-401":
        return _error(kind, 401, "Incorrect API key provided: sk-abc***xyz", "invalid_api_key")
    if model == "err-429":
        return _error(kind, 429, "Rate limit reached", "rate_limit_exceeded", {"Retry-After": "1"})
    if model == "err-429-date":
        return _error(
            kind,
            429,
            "Rate limit reached",
            "rate_limit_exceeded",
            {"Retry-After": formatdate(timeval=__import__("time").time() + 2, usegmt=True)},
        )
    if model == "err-500":
        return _error(kind, 500, "The server had an error", "server_error")
    if model == "missing":
        return _error(kind, 404, "The model `missing` does not exist", "model_not_found")
    if model == "ctx":
        return _error(
            kind, 400, "This model's maximum context length is 8192 tokens", "context_length_exceeded"
        )
    if model == "badjson":
        return web.Response(body=b'{"id": "x", "choices": [', content_type="application/json")
    return None


class VendorServer:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.client_went_away = asyncio.Event()
        self.connections = 0
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self.openai)
        self.app.router.add_get("/v1/models", self.openai_models)
        self.app.router.add_post("/api/chat", self.ollama)
        self.app.router.add_get("/api/tags", self.ollama_tags)
        self.app.router.add_post("/v1/messages", self.anthropic)
        self.app.router.add_post("/v1/images/generations", self.images)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _read(self, request: web.Request, kind: str) -> dict[str, Any]:
        body = await request.json()
        self.requests.append((kind, body, dict(request.headers)))
        if body.get("model") == "slow":
            await asyncio.sleep(5)
        return body

    # --- OpenAI -----------------------------------------------------------------------------
    async def openai_models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})

    async def openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._read(request, "openai")
        model = body["model"]
        failure = _failure("openai", model)
        if failure is not None:
            return failure
        wants_tools = bool(body.get("tools")) and not _has_tool_results("openai", body)
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if wants_tools else TEXT}
            if wants_tools:
                message["tool_calls"] = [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    },
                ]
                if model == "badargs":  # a model that writes broken JSON arguments
                    message["tool_calls"] = [
                        {"id": "call_x", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": Par'}}
                    ]
            return web.json_response(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 1,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if wants_tools else "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
                }
            )
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)

        async def send(data: Any) -> None:
            await response.write(
                f"data: {json.dumps(data) if not isinstance(data, str) else data}\n\n".encode()
            )

        base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": model}
        if model == "slowstream":  # one token every 100 ms for 30 s, noticing when the client leaves
            try:
                for _ in range(300):
                    await send({**base, "choices": [{"index": 0, "delta": {"content": "tick "}, "finish_reason": None}]})
                    await asyncio.sleep(0.1)
            except (ConnectionResetError, ConnectionError, asyncio.CancelledError):
                self.client_went_away.set()
                raise
            return response
        await send(
            {
                **base,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                ],
            }
        )
        if model == "garbage":
            await response.write(b"data: {not json\n\n")
            return response
        if wants_tools:
            for index, (cid, city) in enumerate((("call_a", "Paris"), ("call_b", "Oslo"))):
                await send(
                    {
                        **base,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {
                                    "tool_calls": [
                                        {
                                            "index": index,
                                            "id": cid,
                                            "type": "function",
                                            "function": {"name": "get_weather", "arguments": ""},
                                        }
                                    ]
                                },
                                "finish_reason": None,
                            }
                        ],
                    }
                )
                for piece in ('{"city": ', json.dumps(city), "}"):
                    await send(
                        {
                            **base,
                            "choices": [
                                {
                                    "index": 0,
                                    "delta": {
                                        "tool_calls": [{"index": index, "function": {"arguments": piece}}]
                                    },
                                    "finish_reason": None,
                                }
                            ],
                        }
                    )
            await send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
        else:
            for word in TEXT.split(" "):
                await send(
                    {
                        **base,
                        "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}],
                    }
                )
                if model == "cut":
                    request.transport.close()  # type: ignore[union-attr]
                    return response
            await send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        await send(
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
            }
        )
        await send("[DONE]")
        await response.write_eof()
        return response

    # --- Ollama -----------------------------------------------------------------------------
    async def ollama_tags(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]})

    async def ollama(self, request: web.Request) -> web.StreamResponse:
        body = await self._read(request, "ollama")
        model = body["model"]
        failure = _failure("ollama", model)
        if failure is not None:
            return failure
        wants_tools = bool(body.get("tools")) and not _has_tool_results("ollama", body)
        calls = [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
        ]
        final = {
            "model": model,
            "created_at": "2026-01-01T00:00:00Z",
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 12,
            "eval_count": 7,
        }
        if not body.get("stream", True):
            message: dict[str, Any] = {"role": "assistant", "content": "" if wants_tools else TEXT}
            if wants_tools:
                message["tool_calls"] = calls
            return web.json_response({**final, "message": message})
        response = web.StreamResponse(headers={"content-type": "application/x-ndjson"})
        await response.prepare(request)

        async def send(data: Any) -> None:
            await response.write((json.dumps(data) + "\n").encode())

        if model == "garbage":
            await response.write(b"{oops\n")
            return response
        if wants_tools:
            await send(
                {
                    "model": model,
                    "created_at": "x",
                    "message": {"role": "assistant", "content": "", "tool_calls": calls},
                    "done": False,
                }
            )
        else:
            for word in TEXT.split(" "):
                await send(
                    {
                        "model": model,
                        "created_at": "x",
                        "message": {"role": "assistant", "content": word + " "},
                        "done": False,
                    }
                )
                if model == "cut":
                    request.transport.close()  # type: ignore[union-attr]
                    return response
        await send({**final, "message": {"role": "assistant", "content": ""}})
        await response.write_eof()
        return response

    # --- Anthropic --------------------------------------------------------------------------
    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        body = await self._read(request, "anthropic")
        model = body["model"]
        failure = _failure("anthropic", model)
        if failure is not None:
            return failure
        wants_tools = bool(body.get("tools")) and not _has_tool_results("anthropic", body)
        blocks: list[dict[str, Any]] = (
            [
                {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Oslo"}},
            ]
            if wants_tools
            else [{"type": "text", "text": TEXT}]
        )
        stop = "tool_use" if wants_tools else "end_turn"
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": blocks,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 7},
                }
            )
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)

        async def send(event: str, data: dict[str, Any]) -> None:
            await response.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

        await send(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_2",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                },
            },
        )
        await send("ping", {"type": "ping"})
        if model == "overloaded":
            await send("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
            await response.write_eof()
            return response
        if model == "garbage":
            await response.write(b"event: content_block_delta\ndata: {broken\n\n")
            return response
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                await send(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                for word in TEXT.split(" "):
                    await send(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "text_delta", "text": word + " "},
                        },
                    )
                    if model == "cut":
                        request.transport.close()  # type: ignore[union-attr]
                        return response
            else:
                await send(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {
                            "type": "tool_use",
                            "id": block["id"],
                            "name": block["name"],
                            "input": {},
                        },
                    },
                )
                text = json.dumps(block["input"])
                for piece in (text[:5], text[5:]):
                    await send(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece},
                        },
                    )
            await send("content_block_stop", {"type": "content_block_stop", "index": index})
        await send(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 7},
            },
        )
        await send("message_stop", {"type": "message_stop"})
        await response.write_eof()
        return response

    # --- Images -----------------------------------------------------------------------------
    async def images(self, request: web.Request) -> web.Response:
        body = await self._read(request, "images")
        failure = _failure("openai", body.get("model", ""))
        if failure is not None:
            return failure
        # gpt-image models always answer base64 (and refuse response_format); DALL·E honours it
        fmt = "b64_json" if str(body.get("model", "")).startswith("gpt-image") else body.get("response_format", "url")
        item = {"url": "https://example.invalid/img.png"} if fmt == "url" else {"b64_json": "aGVsbG8="}
        return web.json_response({"created": 1, "data": [item] * int(body.get("n", 1))})
