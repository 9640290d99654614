"""Helpers that drive the real git CLI, and a raw receive-pack client for what git won't send."""
from __future__ import annotations

import hashlib
import os
import struct
import subprocess
from pathlib import Path

import httpx

GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_ASKPASS": "/bin/false",
}


def git(*args: str, cwd: Path | str | None = None, check: bool = True, env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **GIT_ENV, "HOME": str(Path(cwd or ".").resolve()), **(env or {})}
    full_env.pop("GIT_DIR", None)
    res = subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "credential.helper=", *args], cwd=cwd,
                         env=full_env, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def protocol_env(version: str) -> dict[str, str]:
    """Environment that makes git use protocol `version` ("0" or "2") for every remote."""
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "protocol.version", "GIT_CONFIG_VALUE_0": version}


def authed(url: str, user: str, token: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{token}@{rest}"


def commit_file(work: Path, name: str, content: str | bytes, message: str | None = None) -> str:
    path = work / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    git("add", name, cwd=work)
    git("commit", "-q", "-m", message or f"edit {name}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()


def pkt(line: bytes) -> bytes:
    return b"%04x" % (len(line) + 4) + line


EMPTY_PACK = b"PACK" + struct.pack(">II", 2, 0)
EMPTY_PACK += hashlib.sha1(EMPTY_PACK).digest()


def raw_receive_pack(url: str, auth: tuple[str, str], commands: list[tuple[str, str, bytes]],
                     pack: bytes = EMPTY_PACK, caps: str = "report-status") -> dict[bytes, bytes]:
    """POST a receive-pack request with arbitrary commands; return {ref or b'unpack': status}."""
    body = b""
    for i, (old, new, ref) in enumerate(commands):
        line = f"{old} {new} ".encode() + ref
        body += pkt(line + (b"\0" + caps.encode() if i == 0 else b"") + b"\n")
    body += b"0000" + pack
    resp = httpx.post(f"{url}/git-receive-pack", content=body, auth=auth, timeout=60,
                      headers={"Content-Type": "application/x-git-receive-pack-request"})
    resp.raise_for_status()
    data, out = resp.content, {}
    while data:
        size = int(data[:4], 16)
        if size == 0:
            data = data[4:]
            continue
        line, data = data[4:size].rstrip(b"\n"), data[size:]
        if line.startswith(b"unpack "):
            out[b"unpack"] = line[7:]
        elif line.startswith(b"ok "):
            out[line[3:]] = b"ok"
        elif line.startswith(b"ng "):
            ref, _, reason = line[3:].partition(b" ")
            out[ref] = reason
    return out
