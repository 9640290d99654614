"""A PostgreSQL database of its own for each test, on the server this machine runs (CI starts
one: .ci/run). REGISTRY_TEST_PG names the server's admin URL."""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg

ADMIN = os.environ.get("REGISTRY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


_migrated: list[str] = []  # this process's database at the newest revision, to copy


def _url(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def _migrated_template() -> str:
    """A database migrated to head once per test process, the template of `pg_database(migrated=True)`
    (CREATE DATABASE ... TEMPLATE copies its files: no migration per test)."""
    if not _migrated:
        from registry.meta.db import open_store
        from registry.settings import Settings

        name = f"tmpl_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        store = open_store(Settings(data_dir=Path(tempfile.mkdtemp()), database_url=_url(name)))
        store.engine.dispose()  # a template may have no connection while it is copied
        _migrated.append(name)
        atexit.register(_drop, name)
    return _migrated[0]


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pg_database(migrated: bool = False) -> Iterator[str]:
    """A new database, empty or (`migrated`) at the newest revision; dropped afterwards
    (connections and all)."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    template = f' TEMPLATE "{_migrated_template()}"' if migrated else ""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    try:
        yield _url(name)
    finally:
        _drop(name)


class Cluster:
    """A PostgreSQL server of the test's own (initdb on a free port), to stop, start and pause
    without touching the machine's. Runs as the `postgres` user (initdb refuses root)."""

    def __init__(self, root: Path, port: int, options: str = "") -> None:
        self.root, self.port, self.options = root, port, options
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(_bin(args[0])), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, cwd="/")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off {self.options}"
        self._as_postgres("pg_ctl", "-D", str(self.root / "data"), "-o", opts, "-w", "-l",
                          str(self.root / "log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres("pg_ctl", "-D", str(self.root / "data"), "-m", mode, "-w", "stop", check=False)

    def pid(self) -> int:
        return int((self.root / "data" / "postmaster.pid").read_text().split()[0])

    def pause(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang, nothing is refused."""
        os.killpg(self._group(), signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self._group(), signal.SIGCONT)

    def _group(self) -> int:
        group = os.getpgid(self.pid())
        assert group != os.getpgrp(), "the server shares the tests' process group"  # pg_ctl setsid()s
        return group


def _bin(name: str) -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError(f"no PostgreSQL {name} in /usr/lib/postgresql (apt-get install postgresql)")
    return found[-1]


@contextmanager
def cluster(options: str = "") -> Iterator[Cluster]:
    """A fresh PostgreSQL server on a free port, trusting local TCP connections; removed after.
    `options`: more of the server's settings (`-c name=value ...`)."""
    from tests.services import free_port

    root = Path(tempfile.mkdtemp(prefix="pgc-"))
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    c = Cluster(root, free_port(), options)
    c._as_postgres("initdb", "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "--no-sync")
    c.start()
    try:
        yield c
    finally:
        with suppress(OSError, ValueError):
            c.resume()
        c.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
