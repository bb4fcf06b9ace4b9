"""A hand-written stdio MCP server (no SDK), so it can list and answer what the SDK's server
would never produce. ``MODE`` picks the hostility:

``dup`` lists ``echo`` twice; ``redos`` has a tool whose schema holds a catastrophic regular
expression; ``ref`` has schemas whose ``$ref`` cannot be resolved; ``huge`` answers with one
``HUGE``-character text line; ``deep`` answers with structured content nested 100,000 deep.
Every tool answers with its arguments as JSON text.
"""

import json
import os
import sys

MODE = os.environ.get("MODE", "dup")

def tools():
    t = [{"name": "echo", "description": "echo", "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}}]
    if MODE == "dup":
        t.append({"name": "echo", "description": "echo again", "inputSchema": {"type": "object"}})
    if MODE == "redos":
        t.append({"name": "slowpat", "description": "x", "inputSchema": {"type": "object", "properties": {"s": {"type": "string", "pattern": "^(a+)+$"}}}})
    if MODE == "ref":
        t.append({"name": "remote", "description": "x", "inputSchema": {"type": "object", "properties": {"s": {"$ref": "http://127.0.0.1:9/schema.json"}}}})
        t.append({"name": "localref", "description": "x", "inputSchema": {"type": "object", "properties": {"s": {"$ref": "#/nowhere"}}}})
    return t

def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n"); sys.stdout.flush()

for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    method, mid = msg.get("method"), msg["id"]
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "raw", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": mid, "result": {"tools": tools()}})
    elif method == "tools/call":
        name = msg["params"]["name"]
        if MODE == "huge":
            n = int(os.environ.get("HUGE", "50000000"))
            sys.stdout.write('{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"' % json.dumps(mid))
            chunk = "x" * 1000000
            for _ in range(n // 1000000):
                sys.stdout.write(chunk)
            sys.stdout.write('"}]}}\n'); sys.stdout.flush()
        elif MODE == "deep":
            d = 100000
            sys.stdout.write('{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"x"}],"structuredContent":{"a":%s1%s}}}\n' % (json.dumps(mid), "[" * d, "]" * d)); sys.stdout.flush()
        else:
            send({"jsonrpc": "2.0", "id": mid, "result": {"content": [{"type": "text", "text": json.dumps(msg["params"].get("arguments"))}]}})
    else:
        send({"jsonrpc": "2.0", "id": mid, "result": {}})
