"""A TCP proxy of the tests' own, to cut the network between one client and one server.

`cut(seconds)` is a partition, not a refusal: while it lasts nothing crosses in either
direction (bytes already read are held, not lost, and TCP's flow control stops the senders),
and a connection opened meanwhile is accepted but reaches the server only when the cut heals,
so its client waits as it would for packets that never arrive. When the cut heals, what was
held goes on, as it would after retransmission. A server that closes its side (a restart)
closes the client's too.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    upstream: tuple[str, int]
    port: int = 0
    connections: int = 0
    _open: threading.Event = field(default_factory=threading.Event)
    _socks: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._open.set()

    @property
    def is_cut(self) -> bool:
        return not self._open.is_set()

    def cut(self, seconds: float) -> None:
        """Nothing crosses for `seconds` (this call blocks that long), then everything goes on."""
        self._open.clear()
        try:
            time.sleep(seconds)
        finally:
            self._open.set()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                self._open.wait()
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _serve(self, client: socket.socket) -> None:
        self._open.wait()  # a connect during a cut waits, as an unanswered SYN would
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        with self._lock:
            self._socks.update((client, server))
        pumps = [threading.Thread(target=self._pump, args=pair, daemon=True)
                 for pair in ((client, server), (server, client))]
        for t in pumps:
            t.start()
        for t in pumps:
            t.join()
        with self._lock:
            self._socks.difference_update((client, server))
        client.close()
        server.close()

    def close_all(self) -> None:
        with self._lock:
            for s in list(self._socks):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[TcpProxy]:
    """A proxy on a free local port forwarding to (host, port)."""
    proxy = TcpProxy((host, port))
    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    proxy.port = listener.getsockname()[1]
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            proxy.connections += 1
            threading.Thread(target=proxy._serve, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        stopping.set()
        proxy._open.set()
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept
        listener.close()
        proxy.close_all()
