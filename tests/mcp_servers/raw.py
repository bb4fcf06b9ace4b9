"""A hand-written stdio MCP server (no SDK), so it can list and answer what the SDK's server
would never produce. ``MODE`` picks the hostility:

``dup`` lists ``echo`` twice; ``redos`` has a tool whose schema holds a catastrophic regular
expression; ``ref`` has schemas whose ``$ref`` cannot be resolved; ``huge`` answers with one
``HUGE``-character text line; ``deep`` answers with structured content nested 100,000 deep.
Every other answer is the call's arguments as JSON text.
"""

import json
import os
import sys
from typing import Any

MODE = os.environ.get("MODE", "dup")
ECHO = {"name": "echo", "description": "echo", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}
EXTRA: dict[str, list[dict[str, Any]]] = {
    "dup": [{"name": "echo", "description": "echo again", "inputSchema": {"type": "object"}}],
    "redos": [{"name": "slowpat", "description": "x",
               "inputSchema": {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}}],
    "ref": [
        {"name": "remote", "description": "x",
         "inputSchema": {"type": "object", "properties": {"s": {"$ref": "http://127.0.0.1:9/schema.json"}}}},
        {"name": "localref", "description": "x",
         "inputSchema": {"type": "object", "properties": {"s": {"$ref": "#/nowhere"}}}},
    ],
}


def send(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def answer(request_id: Any, params: dict[str, Any]) -> None:
    head = '{"jsonrpc":"2.0","id":' + json.dumps(request_id) + ',"result":'
    if MODE == "huge":
        sys.stdout.write(head + '{"content":[{"type":"text","text":"')
        for _ in range(int(os.environ.get("HUGE", "50000000")) // 1_000_000):
            sys.stdout.write("x" * 1_000_000)
        sys.stdout.write('"}]}}\n')
    elif MODE == "deep":
        depth = 100_000
        sys.stdout.write(head + '{"content":[{"type":"text","text":"x"}],"structuredContent":{"a":'
                         + "[" * depth + "1" + "]" * depth + "}}}\n")
    else:
        text = json.dumps(params.get("arguments"))
        sys.stdout.write(head + json.dumps({"content": [{"type": "text", "text": text}]}) + "}\n")
    sys.stdout.flush()


def main() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue  # a notification
        method, request_id = message.get("method"), message["id"]
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": request_id, "result": {
                "protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}},
                "serverInfo": {"name": "raw", "version": "1"}}})
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": [ECHO, *EXTRA.get(MODE, [])]}})
        elif method == "tools/call":
            answer(request_id, message["params"])
        else:
            send({"jsonrpc": "2.0", "id": request_id, "result": {}})


if __name__ == "__main__":
    main()
