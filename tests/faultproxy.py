"""A small fault-injecting HTTP proxy of the tests' own, put in front of the moto server.

Each request is matched by a rule that picks what happens to it:
- "pass": forwarded, the answer returned;
- "reset": the connection is reset before anything is forwarded (the write never happens);
- "drop": forwarded (the write happens), then the connection is reset instead of answering:
  the client sees a lost response, exactly the ambiguous outcome of issue 17;
- "delay:S": forwarded after S seconds.
Every request and the action taken are recorded in `log`, so tests can account exactly.
"""
from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Rule = Callable[[Seen], str]
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


@dataclass
class FaultProxy:
    upstream: str
    rule: Rule = lambda seen: "pass"
    log: list[tuple[Seen, str]] = field(default_factory=list)
    url: str = ""

    def set_rule(self, rule: Rule) -> None:
        self.rule = rule

    def actions(self, action: str) -> list[Seen]:
        return [seen for seen, done in self.log if done.startswith(action)]


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a dropped connection looks to the client."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def _handler(proxy: FaultProxy, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    up = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def _body(self) -> bytes:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def _any(self) -> None:
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            body = self._body()
            with lock:
                action = proxy.rule(seen)
                proxy.log.append((seen, action))
            if action == "reset":
                self.close_connection = True
                _reset(self.connection)
                return
            if action.startswith("delay:"):
                time.sleep(float(action.split(":", 1)[1]))
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            if action == "drop":
                self.close_connection = True
                _reset(self.connection)
                return
            self.send_response_only(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            length = resp.getheader("content-length") if self.command == "HEAD" else str(len(data))
            self.send_header("Content-Length", length or "0")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:
                pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up on a reset connection are the point, not news


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    server = _QuietServer(("127.0.0.1", 0), _handler(proxy, threading.Lock()))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
