"""The tests' own model server: OpenAI-compatible (`POST /v1/chat/completions`) and Anthropic-style
(`POST /v1/messages`) over real HTTP, answering deterministically from the prompt, with faults
a test plants (429s with Retry-After, 5xx, delays) and every request kept for assertions.

How it answers (the first rule that matches):
- a line `reply: TEXT` anywhere in the prompt: the answer is TEXT exactly (plant JSON, a word ...);
- a grading request (the user message holds `RUBRIC:` and `ANSWER:`, as the registry's
  `llm-rubric` assertion sends): `{"pass": bool, "score": 0..1, "reason": ...}` where pass means every
  quoted term of the rubric ('x' or "x") is in the answer, case-insensitively (no quoted term: pass);
- a line `coin: P` (0 <= P <= 1): `heads` with probability P, else `tails`, from a generator seeded by
  (seed, prompt, how many times this prompt was asked): repetitions differ, reruns of a server agree;
- otherwise: the user message's words, upper-cased, joined by single spaces.
A line `delay-ms: N` (N <= 10000) in the prompt delays that answer by N ms.
`usage` counts whitespace-separated words: prompt = all messages, completion = the answer.

Control, in process: `server.fail(status, times, retry_after=None)`, `server.slow(seconds)`,
`server.reset()`, `server.requests`; over HTTP (for a server in another process):
`POST /admin/faults {status, times, retry_after?}`, `POST /admin/delay {seconds}`,
`POST /admin/reset`, `GET /admin/requests`. Run alone: `python -m tests.modelserver [--port N]`
prints `MODEL-SERVER http://127.0.0.1:PORT/v1` and serves until killed.
"""
from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_REPLY = re.compile(r"^\s*reply:\s?(.*)$", re.MULTILINE)
_COIN = re.compile(r"^\s*coin:\s*([01](?:\.\d+)?)\s*$", re.MULTILINE)
_DELAY = re.compile(r"^\s*delay-ms:\s*(\d{1,5})\s*$", re.MULTILINE)
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


def words(text: str) -> int:
    return len(text.split())


def grade(rubric: str, answer: str) -> dict[str, Any]:
    terms = [a or b for a, b in _QUOTED.findall(rubric)]
    missing = [t for t in terms if t.lower() not in answer.lower()]
    score = 1.0 if not terms else round((len(terms) - len(missing)) / len(terms), 4)
    reason = "mentions every term" if not missing else "missing " + ", ".join(repr(m) for m in missing)
    return {"pass": not missing, "score": score, "reason": reason}


@dataclass
class ModelServer:
    seed: int = 0
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)  # {path, body, status, headers}
    faults: deque[tuple[int, float | None]] = field(default_factory=deque)
    delay_s: float = 0.0
    asked: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """The base URL a client is configured with (SANDBOX_PROVIDER_URL): OpenAI's `/v1`."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        """Anthropic clients append `/v1/messages` themselves."""
        return f"http://127.0.0.1:{self.port}"

    def env(self, kind: str = "openai", model: str = "test-model") -> dict[str, str]:
        return {"SANDBOX_PROVIDER_URL": self.url if kind == "openai" else self.anthropic_url,
                "SANDBOX_PROVIDER_KIND": kind, "SANDBOX_PROVIDER_MODEL": model, "SANDBOX_PROVIDER_KEY": "test-key"}

    def fail(self, status: int = 429, times: int = 1, retry_after: float | None = None) -> None:
        """The next `times` model requests answer `status` (with `Retry-After` when given)."""
        with self.lock:
            self.faults.extend([(status, retry_after)] * times)

    def slow(self, seconds: float) -> None:
        with self.lock:
            self.delay_s = seconds

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.delay_s = 0.0
            self.requests.clear()
            self.asked.clear()

    def model_calls(self) -> list[dict[str, Any]]:
        """The model requests answered 200, in order."""
        with self.lock:
            return [r for r in self.requests if r["status"] == 200 and not r["path"].startswith("/admin")]

    def answer(self, system: str, user: str) -> str:
        if "RUBRIC:" in user and "ANSWER:" in user:
            rubric, _, answer = user.partition("RUBRIC:")[2].partition("ANSWER:")
            return json.dumps(grade(rubric.strip(), answer.strip()))
        prompt = f"{system}\n{user}"
        planted = _REPLY.search(prompt)
        if planted:
            return planted.group(1)
        coin = _COIN.search(prompt)
        if coin:
            with self.lock:
                nth = self.asked[prompt]
                self.asked[prompt] += 1
            draw = random.Random(f"{self.seed}\0{prompt}\0{nth}").random()
            return "heads" if draw < min(1.0, float(coin.group(1))) else "tails"
        return " ".join(user.split()).upper()

    def respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            fault = self.faults.popleft() if self.faults else None
            delay = self.delay_s
        if delay:
            time.sleep(delay)
        if fault is not None:
            status, retry_after = fault
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            return status, {"error": {"message": f"planted {status}", "type": "planted"}}, headers
        messages = body.get("messages")
        if not isinstance(messages, list) or not isinstance(body.get("model"), str):
            return 400, {"error": {"message": "model and messages are required"}}, {}
        texts = {"system": str(body.get("system", "")), "user": ""}
        for message in messages:
            if isinstance(message, dict) and message.get("role") in texts:
                content = message.get("content")
                texts[message["role"]] += content if isinstance(content, str) else json.dumps(content)
        planted = _DELAY.search(f"{texts['system']}\n{texts['user']}")
        if planted:
            time.sleep(min(int(planted.group(1)), 10000) / 1000)
        text = self.answer(texts["system"], texts["user"])
        prompt_tokens, completion_tokens = words(texts["system"]) + words(texts["user"]), words(text)
        if path == "/v1/messages":
            return 200, {"id": "msg_test", "type": "message", "role": "assistant", "model": body["model"],
                         "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                         "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}}, {}
        return 200, {"id": "chatcmpl-test", "object": "chat.completion", "model": body["model"],
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                               "total_tokens": prompt_tokens + completion_tokens}}, {}

    def admin(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/admin/faults":
            retry_after = body.get("retry_after")
            self.fail(int(body.get("status", 429)), int(body.get("times", 1)),
                      float(retry_after) if retry_after is not None else None)
        elif path == "/admin/delay":
            self.slow(float(body.get("seconds", 0)))
        elif path == "/admin/reset":
            self.reset()
        else:
            return 404, {"error": "no such admin action"}
        return 200, {"ok": True}


def _handler(state: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/admin/requests":
                with state.lock:
                    self._send(200, list(state.requests))
            elif self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
            else:
                self._send(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
            try:
                body = json.loads(raw or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
            except ValueError:
                self._send(400, {"error": {"message": "body is not a JSON object"}})
                return
            if self.path.startswith("/admin/"):
                status, payload = state.admin(self.path, body)
                self._send(status, payload)
                return
            if self.path not in ("/v1/chat/completions", "/v1/messages"):
                self._send(404, {"error": {"message": "not found"}})
                return
            status, payload, headers = state.respond(self.path, body)
            with state.lock:
                state.requests.append({"path": self.path, "body": body, "status": status,
                                       "headers": {k.lower(): v for k, v in self.headers.items()}})
            self._send(status, payload, headers)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def model_server(seed: int = 0, port: int = 0) -> Iterator[ModelServer]:
    state = ModelServer(seed=seed)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="tests.modelserver")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with model_server(args.seed, args.port) as state:
        print(f"MODEL-SERVER {state.url}", flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
