"""Decompression bombs against `registry serve`: time to refuse and the server's peak RSS.

Issue 12's figure: each refused in under 2 s with peak RSS under 300 MB (the same builders as
tests/integration/test_bombs.py; that test asserts the figure, this prints it).
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from tests.gitcli import raw_receive_pack
from tests.integration.test_bombs import doubling_delta_bomb, vm_kb, zero_blob_bomb
from tests.services import registry_server


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, registry_server(Path(tmp) / "data") as srv:
        srv.cli("user", "add", "bench")
        token = srv.cli("token", "create", "bench").stdout.strip()
        httpx.post(f"{srv.url}/api/v1/templates", json={"name": "target"}, timeout=30,
                   headers={"Authorization": f"Bearer {token}"}).raise_for_status()
        print(f"server at start: RSS {vm_kb(srv.proc.pid, 'VmRSS') // 1024} MB")
        for build in (zero_blob_bomb, doubling_delta_bomb):
            pack = build()
            start = time.monotonic()
            status = raw_receive_pack(f"{srv.url}/bench/target.git", ("bench", token),
                                      [("0" * 40, "ab" * 20, b"refs/heads/bomb")], pack)
            elapsed = time.monotonic() - start
            print(f"{build.__name__}: {len(pack)} byte pack refused in {elapsed:.2f} s "
                  f"({status[b'refs/heads/bomb'].decode()}); server peak RSS {vm_kb(srv.proc.pid, 'VmHWM') // 1024} MB")


if __name__ == "__main__":
    main()
