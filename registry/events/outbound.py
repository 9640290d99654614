"""Sending one webhook POST without letting it reach inside: the SSRF guard.

The target's name is resolved once; each address is judged (loopback, private, link-local,
unspecified, multicast and reserved ranges are refused, IPv4 and IPv6, IPv4-mapped included)
before a connection is made, and the socket's peer is judged again once connected: what is
checked is the address actually connected to, so a name that resolves differently the second
time (DNS rebinding) gains nothing. Redirects are not followed. `allow` (REGISTRY_WEBHOOK_ALLOW)
names targets let through anyway: `host[:port]` matched against the URL, or a CIDR matched
against the address.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_RESPONSE = 64 * 1024


@dataclass(frozen=True)
class Allow:
    hosts: frozenset[tuple[str, int | None]]
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, spec: str) -> Allow:
        hosts, networks = set(), []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
                continue
            except ValueError:
                pass
            host, _, port = item.rpartition(":") if not item.endswith("]") else (item, "", "")
            if not host or not port.isdigit():
                host, port = item, ""
            hosts.add((host.strip("[]").lower(), int(port) if port else None))
        return cls(frozenset(hosts), tuple(networks))

    def names(self, host: str, port: int) -> bool:
        return (host.lower(), None) in self.hosts or (host.lower(), port) in self.hosts

    def covers(self, address: Address) -> bool:
        return any(address in net for net in self.networks if net.version == address.version)


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered | failed | refused
    response_code: int | None
    error: str | None
    duration_ms: int


def forbidden(address: Address) -> str | None:
    """Why an address may not be reached, or None. IPv4 inside IPv6 (mapped, 6to4, Teredo) is
    judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None:
            return forbidden(inner)
    for flag in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved", "site_local"):
        if getattr(address, f"is_{flag}", False):
            return f"a {flag.replace('_', '-')} address"
    if not address.is_global:  # shared (carrier NAT), documentation, benchmarking ranges
        return "not a public address"
    return None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float, allow: Allow) -> Outcome:
    """One attempt, over within `timeout` in all (name lookup, connection, request, answer):
    past it the socket is shut, whatever the receiver does (drips bytes, endless 100 Continue)."""
    start = time.monotonic()
    deadline = start + timeout

    def done(status: str, code: int | None = None, error: str | None = None) -> Outcome:
        return Outcome(status, code, error, int((time.monotonic() - start) * 1000))

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return done("refused", error="the URL must be http:// or https:// with a host")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return done("refused", error="the URL's port is not a number")
    try:
        sock, refusal = _connect(host, port, deadline, allow, allow.names(host, port))
    except (OSError, UnicodeError, TimeoutError) as exc:
        return done("failed", error=f"connect: {type(exc).__name__}: {exc}"[:500])
    if sock is None:
        return done("refused", error=refusal)
    held = [sock]  # what the cutoff shuts: the TLS socket once there is one
    cutoff = threading.Timer(max(deadline - time.monotonic(), 0.0), lambda: _shut(held[-1]))
    cutoff.daemon = True
    cutoff.start()
    try:
        conn = _Connection(host, port, sock, parts.scheme == "https", timeout)
        held.append(conn.sock)
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body,
                     {**headers, "Host": parts.netloc.rpartition("@")[2]})
        response = conn.getresponse()
        response.read(MAX_RESPONSE)
        status = response.status
    except Exception as exc:  # anything the receiver makes the client raise is its failure
        late = " (past the time limit)" if time.monotonic() >= deadline else ""
        return done("failed", error=f"{type(exc).__name__}: {exc}{late}"[:500])
    finally:
        cutoff.cancel()
        _shut(held[-1])
    if 200 <= status < 300:
        return done("delivered", status)
    note = " (redirects are not followed)" if 300 <= status < 400 else ""
    return done("failed", status, f"HTTP {status}{note}")


_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")
MAX_ADDRESSES = 3


def _connect(host: str, port: int, deadline: float, allow: Allow,
             named: bool) -> tuple[socket.socket | None, str | None]:
    """A socket connected to an address the guard accepts, or None and why not."""
    refusal = None
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    infos = lookup.result(timeout=max(deadline - time.monotonic(), 0.01))
    last_error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos[:MAX_ADDRESSES]:
        address = ipaddress.ip_address(sockaddr[0])
        why = None if named or allow.covers(address) else forbidden(address)
        if why:
            refusal = f"refused: {host} resolves to {why} (not in REGISTRY_WEBHOOK_ALLOW)"
            continue
        sock = socket.socket(family, kind, proto)
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        peer = ipaddress.ip_address(sock.getpeername()[0])
        why = None if named or allow.covers(peer) else forbidden(peer)
        if why:  # the address connected to is judged too, not only the one looked up
            sock.close()
            refusal = f"refused: {host} resolves to {why} (not in REGISTRY_WEBHOOK_ALLOW)"
            continue
        return sock, None
    if refusal is None and last_error is not None:
        raise last_error
    return None, refusal or f"refused: {host} has no address"


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection over a socket the guard already connected (no second lookup)."""

    def __init__(self, host: str, port: int, sock: socket.socket, tls: bool, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        if tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self.sock = sock

    def connect(self) -> None:  # never reconnect on its own
        raise http.client.HTTPException("the connection is closed")
