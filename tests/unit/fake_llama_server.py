"""A stand-in for llama.cpp's ``llama-server``: same command line, same endpoints, canned answers.

Run as ``python fake_llama_server.py --model FILE --host H --port P ...`` (the arguments the
managed provider passes). The model file decides the behaviour, so one script covers every case:

* ``fail``: prints llama.cpp-style log lines and exits 1 (a model it cannot load);
* ``crash``: prints a log line and dies of SIGILL (a binary built for another CPU);
* ``echo``: the first completion says the question back, the next ones answer;
* anything else: answers ``" Fine, thanks.<end_of_turn>"`` (a template token to strip).

Each request body is appended, one JSON line, to ``<model file>.requests``.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--alias", default="")
    args, _ = parser.parse_known_args()
    model = Path(args.model)
    behaviour = model.read_text().strip()
    print("0.00.000.100 I main: loading model", flush=True)
    if behaviour == "crash":
        print("0.00.030.000 I load_tensors: CPU_REPACK model buffer size", flush=True)
        import os
        import signal

        os.kill(os.getpid(), signal.SIGILL)
    if behaviour == "fail":
        print(f"0.00.020.540 E cmn  common_init_: failed to load model '{model}'", flush=True)
        print("0.00.020.991 E srv  llama_server: exiting due to model loading error", flush=True)
        return 1
    log = model.with_suffix(".requests")
    answered = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _json(self, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._json({"status": "ok"})
            else:
                self._json({"object": "list", "data": [{"id": args.alias or str(model)}]})

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with log.open("a") as handle:
                handle.write(json.dumps({"path": self.path, **request}) + "\n")
            question = request["prompt"].rsplit("Q: ", 1)[-1].split("\nA:")[0]
            answered["count"] += 1
            text = f" {question}" if behaviour == "echo" and answered["count"] == 1 else " Fine, thanks.<end_of_turn>"
            usage = {"prompt_tokens": 50, "completion_tokens": 4, "total_tokens": 54}
            if not request.get("stream"):
                self._json({"id": "cmpl-1", "model": args.alias, "usage": usage,
                            "choices": [{"text": text, "index": 0, "finish_reason": "stop"}]})
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            for piece in [text[: len(text) // 2], text[len(text) // 2 :]]:
                chunk = {"id": "cmpl-2", "choices": [{"text": piece, "index": 0, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            final = {"id": "cmpl-2", "choices": [{"text": "", "index": 0, "finish_reason": "stop"}], "usage": usage}
            self.wfile.write(f"data: {json.dumps(final)}\n\ndata: [DONE]\n\n".encode())
            self.close_connection = True

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print("0.00.100.000 I srv  main: server is listening", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
