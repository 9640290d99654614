from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.gitcli import authed, git, protocol_env
from tests.services import Server, aws_env, make_bucket, registry_server

MAX_PUSH = 8 * 1024 * 1024
MAX_FILE = 7 * 1024 * 1024


@dataclass
class Env:
    server: Server
    backend: str
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, user: str | None = "alice") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=30)

    def create(self, name: str, user: str = "alice", **body) -> dict:
        with self.api(user) as c:
            resp = c.post("/templates", json={"name": name, **body})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def check(self, name: str, sha: str, context: str = "validate", user: str = "alice",
              timeout: float = 30) -> dict:
        """The status `context` of `sha` in `user`'s template `name`, once it is no longer pending."""
        import time

        deadline = time.monotonic() + timeout
        with self.api(user) as c:
            while True:
                found = {s["context"]: s for s in c.get(f"/templates/{user}/{name}/commits/{sha}/statuses").json()}
                status = found.get(context, {})
                if status.get("state") not in (None, "pending") or time.monotonic() > deadline:
                    return status
                time.sleep(0.2)

    def clone(self, clone_url: str, user: str, dest: Path) -> Path:
        """`git clone` with `user`'s token in the URL (git's own credential path)."""
        git("clone", "-q", authed(clone_url, user, self.tokens[user]), str(dest))
        return dest

    def blob_keys(self, template_id: str) -> list[str]:
        """Every stored blob of a repo (works for both backends through the registry itself)."""
        with self.server.container() as c:
            return sorted(c.blobs.list(f"repos/{template_id}/"))


def _start(tmp: Path, backend: str, moto: str | None, extra_env: dict[str, str] | None = None) -> Iterator[Env]:
    # one server per backend serves every module of an xdist worker: their anonymous requests (git asks
    # without credentials first) would add up past 300 a minute, so the shared limit is high (test_limits
    # and others that are about limits start servers of their own)
    extra = {"REGISTRY_MAX_PUSH_BYTES": str(MAX_PUSH), "REGISTRY_MAX_FILE_BYTES": str(MAX_FILE),
             "REGISTRY_RATE_LIMIT_ANONYMOUS": "100000", **(extra_env or {})}
    if backend == "s3":
        assert moto
        make_bucket(moto, "registry-it")
        extra |= aws_env(moto) | {"REGISTRY_STORAGE": "s3", "REGISTRY_S3_BUCKET": "registry-it",
                                  "REGISTRY_S3_PREFIX": "it"}
    with registry_server(tmp / "data", extra) as server:
        tokens = server.accounts(("alice", "bob", "carol"), {u: (u, "write") for u in ("alice", "bob", "carol")}
                                 | {"carol-ro": ("carol", "read")})
        yield Env(server, backend, tokens)


@pytest.fixture(scope="session")
def _shared_local(tmp_path_factory) -> Iterator[Env]:
    yield from _start(tmp_path_factory.mktemp("srv-local"), "local", None)


@pytest.fixture(scope="session")
def _shared_s3(tmp_path_factory, moto_endpoint) -> Iterator[Env]:
    yield from _start(tmp_path_factory.mktemp("srv-s3"), "s3", moto_endpoint)


# One server per backend for the whole session (per xdist worker): a test names its templates
# itself (they are unique across modules) and reads no site-wide count it did not make.
@pytest.fixture(scope="module", params=["local", "s3"])
def env(request) -> Env:
    return request.getfixturevalue(f"_shared_{request.param}")


@pytest.fixture(scope="module")
def local_env(_shared_local) -> Env:
    return _shared_local


@pytest.fixture(params=["0", "2"], ids=["v0", "v2"])
def git_protocol(request, monkeypatch) -> str:
    """Every git command of the test speaks this protocol version (git asks for v2 by default)."""
    for key, value in protocol_env(request.param).items():
        monkeypatch.setenv(key, value)
    return request.param
