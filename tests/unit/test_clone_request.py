from registry.git import pktline
from registry.git.clone import parse_clone_request
from tests.gitcli import pkt

SHA1, SHA2 = "a" * 40, "b" * 40
CAPS = b" multi_ack_detailed no-done side-band-64k thin-pack ofs-delta agent=git/2.39"


def body(*lines: bytes, tail: bytes = pkt(b"done\n")) -> bytes:
    return b"".join(pkt(line) for line in lines) + b"0000" + tail


def test_plain_clone_is_recognised():
    req = parse_clone_request(body(f"want {SHA1}".encode() + CAPS + b"\n", f"want {SHA2}\n".encode()))
    assert req is not None
    assert req.wants == {SHA1, SHA2}
    assert b"side-band-64k" in req.capabilities and b"ofs-delta" in req.capabilities


def test_anything_but_a_plain_clone_is_refused():
    want = f"want {SHA1}".encode() + CAPS + b"\n"
    assert parse_clone_request(body(want, tail=pkt(f"have {SHA2}\n".encode()) + pkt(b"done\n"))) is None
    assert parse_clone_request(body(want, b"deepen 1\n")) is None
    assert parse_clone_request(body(want, f"shallow {SHA2}\n".encode())) is None
    assert parse_clone_request(body(f"want {SHA1} side-band-64k filter=blob:none ofs-delta\n".encode())) is None
    assert parse_clone_request(body(f"want {SHA1} side-band-64k\n".encode())) is None  # no ofs-delta
    assert parse_clone_request(body(want, tail=b"")) is None  # no done
    assert parse_clone_request(b"zzzz") is None
    assert parse_clone_request(b"") is None
    assert parse_clone_request(body(want) + pkt(b"done\n")) is None  # said twice
    assert parse_clone_request(body(want) + b"0001") is None  # a v2 delimiter
    assert parse_clone_request(body(want)[:-3]) is None  # cut inside its last line


def test_the_lenient_reader_stops_at_the_first_bad_packet():
    data = pkt(b"want x\n") + b"0000" + pkt(b"have y\n") + b"00zz" + pkt(b"done\n")
    assert list(pktline.lines(data)) == [b"want x", None, b"have y"]
    assert list(pktline.lines(pkt(b"a\n") + b"0009abc")) == [b"a"]  # the body ends inside a line
