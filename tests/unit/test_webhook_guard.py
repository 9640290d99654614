"""The webhook SSRF guard's judgement of addresses and of REGISTRY_WEBHOOK_ALLOW, the signature,
payload shapes, and what an upload-pack request counts as (clone or fetch)."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time

import pytest

from registry.events.outbound import Allow, forbidden, post
from registry.events.payloads import body
from registry.events.record import hook_event
from registry.git.wants import usage_kind
from registry.meta import Event, Template
from registry.services.hooks import signature


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                                     "169.254.169.254", "0.0.0.0", "::1", "::", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "224.0.0.1", "100.64.0.1"])
def test_inside_addresses_are_forbidden(address):
    assert forbidden(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::6810:85e5", "8.8.8.8"])
def test_public_addresses_are_not(address):
    assert forbidden(ipaddress.ip_address(address)) is None


def test_the_allow_list_names_hosts_ports_and_networks():
    allow = Allow.parse(" localhost:9000, hooks.internal ,10.0.0.0/8,[::1]:8080, 192.168.1.5")
    assert allow.names("localhost", 9000) and not allow.names("localhost", 9001)
    assert allow.names("HOOKS.internal", 443) and allow.names("::1", 8080)
    assert allow.covers(ipaddress.ip_address("10.9.8.7")) and allow.covers(ipaddress.ip_address("192.168.1.5"))
    assert not allow.covers(ipaddress.ip_address("192.168.1.6")) and not allow.covers(ipaddress.ip_address("::1"))
    assert Allow.parse("") == Allow(frozenset(), ())


def test_a_refused_or_malformed_target_makes_no_request():
    nothing = Allow.parse("")
    for url in ("ftp://example.com/x", "http:///nohost", "http://127.0.0.1:1/x", "http://[::1]:1/x",
                "http://localhost:1/x"):
        outcome = post(url, b"{}", {}, 1.0, nothing)
        assert outcome.status == "refused" and outcome.error, (url, outcome)
    assert post("http://host.invalid./x", b"{}", {}, 1.0, nothing).status == "failed"  # no such name


def test_signature_is_hmac_sha256_of_the_body():
    expected = hmac.new(b"k", b'{"a":1}', hashlib.sha256).hexdigest()
    assert signature("k", b'{"a":1}') == f"sha256={expected}"


def test_payloads_are_shaped_like_githubs():
    template = Template("id1", "alice", "demo", "private", "d", None, 1.0, 1.0)
    merged = json.loads(body("http://r", "pull_request", Event("pull_request.merged", "bob", "id1", "alice/demo",
                                                               {"number": 3}), template))
    assert merged["action"] == "closed" and merged["number"] == 3 and merged["sender"] == {"login": "bob"}
    assert merged["repository"]["full_name"] == "alice/demo" and merged["repository"]["private"] is True
    assert merged["repository"]["clone_url"] == "http://r/alice/demo.git"
    push = json.loads(body("http://r", "push", Event("push", "bob", "id1", "alice/demo", {"ref": "refs/heads/x"}),
                           template))
    assert "action" not in push and push["ref"] == "refs/heads/x"
    assert [hook_event(a) for a in ("push", "comment.created", "rating.created", "template.forked",
                                    "template.updated", "template.deleted", "hook.created", "token.created")] == [
        "push", "review", "star", "fork", "template", None, None, None]


def _pkt(line: str) -> bytes:
    data = line.encode()
    return f"{len(data) + 4:04x}".encode() + data


def test_upload_pack_requests_count_as_clone_fetch_or_a_round_of_negotiation():
    want = _pkt("want " + "a" * 40 + " multi_ack_detailed\n")
    have = _pkt("have " + "b" * 40 + "\n")
    assert usage_kind(want + b"0000" + _pkt("done\n")) == "clones"
    assert usage_kind(want + b"0000" + have + _pkt("done\n")) == "fetches"
    assert usage_kind(want + b"0000" + have + b"0000") is None  # negotiation goes on
    assert usage_kind(b"zzzz") is None and usage_kind(b"") is None


def _hostile_receiver(answer: bytes | None, first: bytes = b"") -> tuple[int, threading.Event]:
    """A local receiver that reads the request, sends `first`, then `answer` forever (or nothing)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(first)
        while not stop.is_set():
            try:
                if answer:
                    conn.sendall(answer)
                time.sleep(0.001 if answer and not first else 0.05)
            except OSError:
                break
        conn.close()
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], stop


@pytest.mark.parametrize(("answer", "first"), [(None, b""), (b"HTTP/1.1 100 Continue\r\n\r\n", b""),
                                              (b"x", b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")])
def test_an_attempt_ends_within_its_time_limit_whatever_the_receiver_does(answer, first):
    """Silence, endless interim answers, a body dripped a byte at a time: over in about 1 s."""
    port, stop = _hostile_receiver(answer, first)
    start = time.monotonic()
    outcome = post(f"http://127.0.0.1:{port}/h", b"{}", {}, 1.0, Allow.parse(f"127.0.0.1:{port}"))
    took = time.monotonic() - start
    stop.set()
    assert took < 2.0, (outcome, took)
    # a 200 whose body never ends still said 200: the time limit only ends the wait for the rest
    assert outcome.status == ("delivered" if first else "failed"), outcome


def test_urls_that_cannot_be_sent_fail_without_raising():
    for url in ("http://a..b/x", "http://" + "a" * 64 + ".com/x", "http://host.invalid/h\u00e9"):
        assert post(url, b"{}", {}, 1.0, Allow.parse("")).status in ("failed", "refused"), url
