"""A small OpenAI-compatible chat-completions server over a local model directory, for tests of
the endpoint generator (``training.endpoint``): a real HTTP server in its own process.

    python -m tests.servers.openai_compatible MODEL_DIR [--model-name NAME] [--api-key KEY]
        [--max-choices N] [--fail-first N] [--port PORT]

It answers ``POST /v1/chat/completions`` with ``training.generation.sample_chat`` (honouring
``n``, ``temperature``, ``top_p``, ``max_tokens`` and ``seed``; no seed: a random one) and
``GET /v1/models``; errors are OpenAI-style ``{"error": {"message", "type", "code"}}`` bodies.
With ``--api-key`` a request without ``Authorization: Bearer KEY`` gets a 401. With
``--max-choices`` it returns at most that many choices, like a server that ignores ``n``;
with ``--fail-first N`` it answers the first N chat requests with a 503, like a busy server.
Connections are served in threads (kept alive, as a client's pool expects); sampling runs one
request at a time (it seeds torch's RNG). It prints ``listening on PORT`` once it accepts
connections (``--port 0``, the default: a free port).
"""

from __future__ import annotations

import argparse
import hmac
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir")
    parser.add_argument("--model-name", default="tiny")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--max-choices", type=int, default=0, help="0: as many as asked")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to this many")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    import torch

    from training.generation import HFBackend, sample_chat

    torch.set_num_threads(1)
    backend = HFBackend.load(args.model_dir)
    sampling_lock = threading.Lock()
    failures_left = [args.fail_first]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *values) -> None:
            sys.stderr.write(f"{self.command} {self.path} {values[1] if len(values) > 1 else ''}\n")

        def send_json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def error(self, status: int, message: str, kind: str, code: str | None = None) -> None:
            self.send_json(status, {"error": {"message": message, "type": kind, "code": code}})

        def authorised(self) -> bool:
            if not args.api_key:
                return True
            given = self.headers.get("Authorization", "")
            if hmac.compare_digest(given.encode(), f"Bearer {args.api_key}".encode()):
                return True
            self.error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
            return False

        def do_GET(self) -> None:
            if not self.authorised():
                return
            if self.path.rstrip("/") != "/v1/models":
                self.error(404, f"No route {self.path}.", "not_found_error")
                return
            self.send_json(
                200, {"object": "list", "data": [{"id": args.model_name, "object": "model"}]}
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self.authorised():
                return
            with sampling_lock:
                overloaded = failures_left[0] > 0
                failures_left[0] -= overloaded
            if overloaded:
                self.error(503, "The server is overloaded; try again.", "server_error")
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self.error(404, f"No route {self.path}.", "not_found_error")
                return
            try:
                body = json.loads(raw)
                messages = body["messages"]
                n = int(body.get("n") or 1)
                temperature = float(body.get("temperature", 1.0))
                top_p = float(body.get("top_p", 1.0))
                max_tokens = int(body.get("max_tokens") or 16)
                seed = body.get("seed")
                seed = random.randrange(2**31) if seed is None else int(seed)
            except (ValueError, KeyError, TypeError) as exc:
                self.error(400, f"Bad request: {exc}", "invalid_request_error")
                return
            if body.get("model") != args.model_name:
                self.error(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
                return
            if n < 1 or max_tokens < 1:
                self.error(400, "n and max_tokens must be >= 1.", "invalid_request_error")
                return
            with sampling_lock:
                texts, finished = sample_chat(
                    backend.model,
                    backend.tokenizer,
                    [messages],
                    n=n,
                    max_new_tokens=max_tokens,
                    sampling={"temperature": temperature, "top_p": top_p},
                    seed=seed,
                )
            count = min(n, args.max_choices) if args.max_choices else n
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": texts[0][i]},
                    "finish_reason": "stop" if finished[0][i] else "length",
                }
                for i in range(count)
            ]
            self.send_json(
                200,
                {
                    "id": f"chatcmpl-{seed}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": args.model_name,
                    "choices": choices,
                },
            )

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

    server = Server(("127.0.0.1", args.port), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
