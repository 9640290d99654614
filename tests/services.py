"""Real services the tests start: a moto server over HTTP, redis-server, `registry serve`."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests import secrets_seen, zygote


class HeldPort:
    """A port bound but not listening while held: connections to it are refused, and no other
    test (xdist runs several at once) is handed it by free_port(). Release it just before a
    server of the test's own binds it, hold it again once that server is gone."""

    def __init__(self) -> None:
        self._sock: socket.socket | None = None
        self.port = self.hold(0)

    def hold(self, port: int | None = None) -> int:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the last server's TIME_WAIT
        self._sock.bind(("127.0.0.1", self.port if port is None else port))
        return self._sock.getsockname()[1]

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


# `python -m ...` of the registry's own modules is forked from one interpreter that has imported
# them (tests/zygote.py): the same command, without ~2.5 s of imports each. TESTS_NO_ZYGOTE=1
# starts each as a new interpreter instead.
FORK = os.environ.get("TESTS_NO_ZYGOTE", "") in ("", "0")
# Processes of a test's server unless it asks: one (TESTS_SERVE_WORKERS=default: serve's own default).
_WORKERS = os.environ.get("TESTS_SERVE_WORKERS", "1")
SERVE_WORKERS: int | None = None if _WORKERS == "default" else int(_WORKERS)


def python_module(args: list[str], env: dict[str, str], log: Path | str) -> subprocess.Popen | zygote.Forked:
    """`python -m MODULE ...` in a session of its own, stdout and stderr appended to `log`."""
    if FORK:
        return zygote.spawn(args, env, log)
    with open(log, "ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in its own process; yields its endpoint URL."""
    port = free_port()
    proc = python_module([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                         dict(os.environ), os.devnull)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    env = aws_env(endpoint)
    boto3.client(
        "s3", endpoint_url=endpoint, region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    ).create_bucket(Bucket=name)


class Server:
    """A running `registry serve` process and the environment it was started with."""

    def __init__(self, env: dict[str, str], url: str, proc: subprocess.Popen) -> None:
        self.env, self.url, self.proc = env, url, proc

    def settings(self):
        """The server's settings, read from the environment it was started with only (a
        REGISTRY_* variable of this process must not fill a gap)."""
        from registry.settings import Settings

        with pytest.MonkeyPatch.context() as mp:
            for key in [k for k in os.environ if k.startswith("REGISTRY_")]:
                mp.delenv(key)
            return Settings(**{k[len("REGISTRY_"):].lower(): v for k, v in self.env.items()
                               if k.startswith("REGISTRY_")})

    @contextmanager
    def container(self):
        """A container of this process on the server's own metadata and blobs (its AWS_* too)."""
        from registry.container import Container

        with pytest.MonkeyPatch.context() as mp:
            for key, value in self.env.items():
                if key.startswith("AWS_"):
                    mp.setenv(key, value)
            c = Container.build(self.settings(), migrate=False)
            try:
                yield c
            finally:
                c.close()

    def accounts(self, users: tuple[str, ...], tokens: dict[str, tuple[str, str]], admin: bool = False) -> dict[str, str]:
        """Users and tokens ({label: (user, scope)}) made in this process against the server's own
        metadata, through the same use cases as `registry user add` and `registry token create`
        (a CLI interpreter per account costs seconds of imports and migration checks)."""
        from registry.services import users as accounts

        with self.container() as c:
            for name in users:
                accounts.add_user(c, name, is_admin=admin)
            made = {label: accounts.create_token(c, user, scope) for label, (user, scope) in tokens.items()}
        secrets_seen.remember(*made.values())  # grepped for in every log at the session's end
        return made

    def user(self, name: str, scope: str = "write", admin: bool = False) -> str:
        """A new user and a token of theirs."""
        return self.accounts((name,), {name: (name, scope)}, admin)[name]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        args_ = [sys.executable, "-m", "api.cli", *args]
        if FORK:
            res = zygote.run(args_, self.env)
        else:
            res = subprocess.run(args_, env=self.env, capture_output=True, text=True)
        if check and res.returncode != 0:
            raise AssertionError(f"registry {' '.join(args)} failed: {res.stderr}")
        if args[:1] == ("token",) and args[1:2] in (("create",), ("rotate",)):
            secrets_seen.remember(res.stdout)
        return res


@contextmanager
def registry_server(data_dir: Path, extra_env: dict[str, str] | None = None,
                    serve_args: tuple[str, ...] = (), workers: int | None | str = "tests",
                    port: int | None = None, module: tuple[str, ...] = ("api.cli",)) -> Iterator[Server]:
    """`registry serve` (`module`: the command before `serve`, for a wrapper such as
    bench.profiled_serve) with `workers` processes (None: serve's own default, one per core; by
    default SERVE_WORKERS), unless `serve_args` names --workers itself. `port`: one chosen before
    (free_port()), when the environment must name the server's URL (an OpenID client's redirect URI)."""
    workers = SERVE_WORKERS if workers == "tests" else workers
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "AWS_"))}
    env.update({"REGISTRY_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
    env.update(extra_env or {})
    proc = python_module(
        # One process unless the test is about several (serve's default is one per core).
        [sys.executable, "-m", *module, "serve", "--host", "127.0.0.1", "--port", str(port),
         *(("--workers", str(workers)) if workers and "--workers" not in serve_args else ()), *serve_args],
        env, data_dir.parent / f"server-{port}.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/healthz", proc)
        yield Server(env, url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def redis_server(port: int | None = None) -> Iterator[str]:
    """A real redis-server (Debian's) on its own port, persisting nothing."""
    port = port or free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def stop_group(proc: subprocess.Popen, grace: float = 5) -> None:
    """End a process started in its own group (start_worker): SIGTERM, and SIGKILL past `grace`
    seconds (a loaded machine can keep a warm shutdown waiting on a sandbox run that long)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


def start_worker(env: dict[str, str], log_path: Path, module: str = "api.cli") -> subprocess.Popen:
    """A separate `registry worker` process in its own process group (so it can be killed whole)."""
    return python_module([sys.executable, "-m", module, "worker"], env, log_path)
