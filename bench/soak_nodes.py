"""The production shape of `make soak-cluster`, run on this machine, each part of it the soak's own
to restart, pause, cut off or kill: a PostgreSQL server (initdb on a free port), redis-server,
a moto server behind the fault proxy, two `registry serve --workers 2` nodes (node A reaches
PostgreSQL through a TCP proxy that can cut it off), two `registry worker`s, and at the end a
fresh node with empty caches on S3 directly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.faultproxy import FaultProxy, fault_proxy
from tests.pg import Cluster, cluster
from tests.services import aws_env, free_port, make_bucket, moto_server, python_module, redis_server, wait_http
from tests.tcpproxy import TcpProxy, tcp_proxy

# Quick recovery loops, no rate limits (the load is the soak's own), webhooks to the soak's
# receivers on loopback, retried after 1 s (doubling) so every delivery settles within the run.
SETTINGS = {"REGISTRY_JOB_HEARTBEAT_SECONDS": "2", "REGISTRY_RECONCILE_SECONDS": "1",
            "REGISTRY_WORKER_MAINTENANCE_SECONDS": "10",
            "REGISTRY_RATE_LIMIT_TOKEN": "0", "REGISTRY_RATE_LIMIT_ANONYMOUS": "0",
            "REGISTRY_WEBHOOK_ALLOW": "127.0.0.1", "REGISTRY_WEBHOOK_TIMEOUT_SECONDS": "5",
            "REGISTRY_WEBHOOK_BACKOFF_SECONDS": "1", "REGISTRY_WEBHOOK_MAX_ATTEMPTS": "8",
            "REGISTRY_SECRET_KEY": "soak-cluster-secret", "REGISTRY_STORAGE": "s3", "REGISTRY_S3_BUCKET": "soak"}
PG_OPTIONS = "-c max_connections=300"  # 2 nodes x 2 processes and 2 workers, each a pool of up to 15


@dataclass
class Node:
    """One `registry serve --workers 2` on a fixed port: started, stopped, SIGKILLed at will."""

    label: str
    data_dir: Path
    env: dict[str, str]
    port: int
    proc: object = None
    starts: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"node-{self.label}.log"

    def start(self, timeout: float = 180) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "AWS_"))}
        env.update({"REGISTRY_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1", **self.env})
        self.proc = python_module([sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1",
                                   "--port", str(self.port), "--workers", "2"], env, self.log)
        wait_http(self.url + "/healthz", self.proc, timeout)  # type: ignore[arg-type]
        self.starts.append(time.monotonic())

    @property
    def pid(self) -> int:
        return self.proc.pid  # type: ignore[attr-defined]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None  # type: ignore[attr-defined]

    def kill(self) -> None:
        """SIGKILL the supervisor and every process of it (they share its process group)."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(30)  # type: ignore[attr-defined]

    def stop(self) -> None:
        if not self.alive():
            return
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)  # type: ignore[attr-defined]
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Worker:
    label: str
    env: dict[str, str]
    log: Path
    proc: object = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "AWS_"))}
        env.update({"PYTHONUNBUFFERED": "1", **self.env})
        self.proc = python_module([sys.executable, "-m", "api.cli", "worker"], env, self.log)

    @property
    def pid(self) -> int:
        return self.proc.pid  # type: ignore[attr-defined]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None  # type: ignore[attr-defined]

    def signal(self, sig: int) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.pid, sig)


@dataclass
class Shape:
    tmp: Path
    pg: Cluster
    pg_cut: TcpProxy  # node A's way to PostgreSQL
    db_url: str
    redis_port: int
    moto: str
    s3: FaultProxy
    nodes: list[Node]
    workers: list[Worker]
    redis_cm: object = None

    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def restart_redis(self, down_seconds: float = 1.0) -> None:
        self.redis_cm.__exit__(None, None, None)  # type: ignore[attr-defined]
        time.sleep(down_seconds)
        self.redis_cm = redis_server(self.redis_port)
        self.redis_cm.__enter__()  # type: ignore[attr-defined]

    def new_worker(self) -> Worker:
        n = len(self.workers)
        w = Worker(f"w{n}", self.worker_env(), self.tmp / f"worker-{n}.log")
        w.start()
        self.workers.append(w)
        return w

    def worker_env(self) -> dict[str, str]:
        return aws_env(self.s3.url) | SETTINGS | {
            "REGISTRY_DATA_DIR": str(self.tmp / "worker-data"), "REGISTRY_DATABASE_URL": self.db_url,
            "REGISTRY_REDIS_URL": self.redis_url()}

    def sql(self, query: str, *args: object) -> list[tuple]:
        with psycopg.connect(self.db_url, connect_timeout=30) as conn:
            return conn.execute(query, args).fetchall()  # type: ignore[arg-type]

    @contextmanager
    def fresh_node(self) -> Iterator[Node]:
        """A node that saw none of it: an empty data dir and pack cache, S3 without the fault proxy."""
        node = Node("fresh", self.tmp / "fresh-data", aws_env(self.moto) | SETTINGS | {
            "REGISTRY_DATABASE_URL": self.db_url, "REGISTRY_REDIS_URL": self.redis_url()}, free_port())
        node.start()
        try:
            yield node
        finally:
            node.stop()


@contextmanager
def shape(tmp: Path) -> Iterator[Shape]:
    with ExitStack() as stack:
        pg = stack.enter_context(cluster(PG_OPTIONS))
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE registry")
        db_url = pg.url.rsplit("/", 1)[0] + "/registry"
        pg_cut = stack.enter_context(tcp_proxy("127.0.0.1", pg.port))
        moto = stack.enter_context(moto_server())
        s3 = stack.enter_context(fault_proxy(moto))
        make_bucket(moto, "soak")
        redis_port = free_port()
        redis_cm = redis_server(redis_port)
        redis_cm.__enter__()
        s = Shape(tmp, pg, pg_cut, db_url, redis_port, moto, s3, [], [], redis_cm)
        common = aws_env(s3.url) | SETTINGS | {"REGISTRY_REDIS_URL": s.redis_url()}
        cut_url = f"postgresql://postgres@127.0.0.1:{pg_cut.port}/registry"
        s.nodes = [Node("a", tmp / "node-a", common | {"REGISTRY_DATABASE_URL": cut_url}, free_port()),
                   Node("b", tmp / "node-b", common | {"REGISTRY_DATABASE_URL": db_url}, free_port())]
        try:
            for node in s.nodes:  # one after the other: the first migrates the database
                node.start()
            for _ in range(2):
                s.new_worker()
            yield s
        finally:
            for w in s.workers:
                if w.alive():
                    w.signal(signal.SIGKILL)
            for node in s.nodes:
                node.stop()
            with suppress(Exception):
                s.redis_cm.__exit__(None, None, None)  # type: ignore[attr-defined]
