"""Using the client: text, a stream, an agent with vendor options, and the errors a caller handles.

``demo()`` runs ``main`` against a small OpenAI-compatible stand-in on 127.0.0.1 (below), so the
page's code runs as printed, offline.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from oneringai import OneRingAI, ProviderError, ProviderRateLimitError, tool

PARTNER_API = "http://127.0.0.1:8080/partner"  # demo() points it at its stand-in


@tool
def get_weather(city: str) -> dict[str, str]:
    """Current weather for a city."""
    return {"city": city, "sky": "sunny"}


async def main(client: OneRingAI) -> list[str]:
    seen: list[str] = []

    # Text: the answer's text, or the whole response (usage, stop_reason, the provider that served).
    seen.append(await client.text.generate("Hello!", max_output_tokens=64, temperature=0.2))
    response = await client.text.generate_raw("Hello!", instructions="Be brief.")
    seen.append(f"{response.output_text} ({response.usage.total_tokens} tokens, {response.stop_reason})")

    # A stream: text deltas, then one response.complete event carrying the whole response.
    async for event in client.text.stream("Tell me a story."):
        if event.type == "response.output_text.delta":
            seen.append(event.delta)

    # An agent: tools, instructions, limits; provider_options are the vendor's own request knobs
    # (OpenAI's seed or reasoning_effort, Anthropic's thinking), sent with each of its model calls.
    agent = client.agents.create(
        tools=[get_weather],
        instructions="Be brief.",
        max_iterations=5,
        provider_options={"seed": 7},
    )
    answer = await agent.run("Weather in Paris?")
    seen.append(answer.output_text)

    # Errors: typed, scrubbed of secrets, with what a caller needs to decide what to do.
    try:
        await client.text.generate("Hello!", model="busy")
    except ProviderRateLimitError as error:
        seen.append(f"rate limited: retry after {error.retry_after:g}s, request id {error.request_id}")

    # A stream that fails after part of the answer arrived keeps that part on the error.
    try:
        async for _event in client.text.stream("Tell me a story.", model="cut"):
            pass
    except ProviderError as error:
        seen.append(f"{type(error).__name__}; kept: {error.partial_output_text!r}")
    return seen


async def call_partner(client: OneRingAI, user_id: str | None = None) -> str:
    # oauth.connections.partner in YAML: fetched once, stored encrypted, refreshed before it expires
    # (single flight, across processes with a shared store), replaced after a 401 with force_refresh.
    token = await client.oauth("partner").get_token(user_id)
    headers = {"authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, session.get(PARTNER_API, headers=headers) as answer:
        return await answer.text()


# --- the stand-in vendor: OpenAI's Chat Completions on 127.0.0.1 (not part of the page) ------------
def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return f"data: {json.dumps({'id': 'c1', 'model': 'gpt-test', 'choices': [choice]})}\n\n".encode()


async def _chat(request: Any) -> Any:
    from aiohttp import web

    body = await request.json()
    options = json.dumps(body)  # the seed the agent sent rides along, as it would to the vendor
    if body["model"] == "busy":
        error = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
        return web.json_response(error, status=429, headers={"retry-after": "120", "x-request-id": "req_42"})
    last = body["messages"][-1]
    tools = body.get("tools") or []
    if tools and last["role"] == "user" and '"seed": 7' in options:
        call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
    elif last["role"] == "tool":
        message = {"role": "assistant", "content": f"Paris: {json.loads(last['content'])['sky']}."}
    else:
        message = {"role": "assistant", "content": "Hi there!"}
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    if not body.get("stream"):
        choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}
        return web.json_response({"id": "c1", "model": "gpt-test", "choices": [choice], "usage": usage})
    stream = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await stream.prepare(request)
    await stream.write(_chunk({"role": "assistant", "content": "Once upon"}))
    await stream.write(_chunk({"content": " a time."}))
    if body["model"] != "cut":  # "cut" ends the connection without finishing the answer
        await stream.write(_chunk({}, "stop"))
        await stream.write(b"data: [DONE]\n\n")
    return stream


async def _token(request: Any) -> Any:
    import base64

    from aiohttp import web

    form = await request.post()
    basic = "Basic " + base64.b64encode(b"svc:dev").decode()
    if form.get("grant_type") != "client_credentials" or request.headers.get("authorization") != basic:
        return web.json_response({"error": "invalid_client"}, status=401)
    return web.json_response({"access_token": "tok-svc", "token_type": "Bearer", "expires_in": 3600})


async def _partner(request: Any) -> Any:
    from aiohttp import web

    if request.headers.get("authorization") != "Bearer tok-svc":
        return web.Response(status=401)
    return web.Response(text="hello, svc")


async def demo() -> list[str]:
    from aiohttp import web

    from oneringai.config import Settings

    global PARTNER_API
    app = web.Application()
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_post("/token", _token)
    app.router.add_get("/partner", _partner)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        base = f"http://127.0.0.1:{port}"
        PARTNER_API = f"{base}/partner"
        settings = Settings.model_validate({
            "text": {"default": "vendor", "providers": {"vendor": {
                "kind": "openai_compatible", "base_url": f"{base}/v1", "default_model": "gpt-test", "max_retries": 0,
            }}},
            "oauth": {"storage": {"kind": "memory"}, "connections": {"partner": {
                "flow": "client_credentials", "client_id": "svc", "client_secret": "dev", "token_url": f"{base}/token",
            }}},
        })
        async with OneRingAI(settings=settings) as client:
            return [*await main(client), await call_partner(client)]
    finally:
        await runner.cleanup()
