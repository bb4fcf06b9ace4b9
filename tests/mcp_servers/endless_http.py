"""An HTTP "MCP server" that answers every POST with an endless ``application/json`` body.

    python -m tests.mcp_servers.endless_http PORT
"""

import sys

from aiohttp import web

CHUNK = b"x" * 1_000_000


async def endless(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = web.StreamResponse(headers={"content-type": "application/json"})
    await response.prepare(request)
    while True:
        await response.write(CHUNK)


def main() -> None:
    app = web.Application()
    app.router.add_route("*", "/mcp", endless)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
