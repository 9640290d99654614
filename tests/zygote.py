"""Start `python -m api.cli ...` for the tests by forking one interpreter that has imported the
registry already, instead of a new interpreter each time (~2.5 s of CPU to import the app: the
suite starts about a hundred servers, workers and CLI commands on two cores).

What runs in the child is the real command: the same module run as `__main__` with the given
argv, environment, working directory and log file, as `python -m` would, in a session of its own.
Only the imports are shared (copy-on-write), as `registry serve` itself forks its processes.

What a child shares with its siblings that fresh interpreters would not: the hash seed (sets and
dicts iterate alike in every forked process) and whatever the preloaded modules read at import
(PYTHON* variables of the child's environment do not apply; moto reads its settings at import).
`TESTS_NO_ZYGOTE=1` (tests/services.py) starts fresh interpreters when that matters.

`python -m tests.zygote SOCKET` is the server: one per test process, started on first use and
ended with it (PR_SET_PDEATHSIG). `spawn()` returns a Popen-like handle; `run()` a CompletedProcess.
"""
from __future__ import annotations

import atexit
import ctypes
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PRELOAD = ("api.cli", "api.app", "api.serve", "workers.bootstrap", "workers.worker", "moto.server")
_lock = threading.Lock()
_address: str | None = None


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _ask(request: dict) -> dict:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(_server())
        sock.sendall(json.dumps(request).encode() + b"\n")
        return json.loads(sock.makefile().readline())


def _server() -> str:
    global _address
    with _lock:
        if _address is None:
            path = tempfile.mktemp(prefix="zygote-", suffix=".sock")
            subprocess.Popen([sys.executable, "-m", "tests.zygote", path], stdin=subprocess.DEVNULL,
                             preexec_fn=_die_with_parent)
            deadline = time.monotonic() + 60
            while not os.path.exists(path):
                if time.monotonic() > deadline:
                    raise RuntimeError("the zygote did not start")
                time.sleep(0.02)
            _address = path
        return _address


class Forked:
    """The parts of subprocess.Popen the tests use, for a process the zygote forked."""

    def __init__(self, args: list[str], pid: int) -> None:
        self.args, self.pid, self.returncode = args, pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = _ask({"status": self.pid})["code"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def spawn(args: list[str], env: dict[str, str], log: Path | str, cwd: str | None = None,
          err: Path | str | None = None) -> Forked:
    """`args` is `[python, "-m", module, *argv]`; stdout goes to `log`, stderr to `err` (default:
    `log` too), both appended."""
    assert args[1] == "-m", args
    pid = _ask({"module": args[2], "argv": args[3:], "env": env, "cwd": cwd or os.getcwd(), "log": str(log),
                "err": str(err or log)})["pid"]
    return Forked(args, pid)


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Like subprocess.run(args, env=env, capture_output=True, text=True)."""
    with tempfile.NamedTemporaryFile(suffix=".out") as out, tempfile.NamedTemporaryFile(suffix=".err") as err:
        code = spawn(args, env, out.name, err=err.name).wait(timeout)
        return subprocess.CompletedProcess(args, code, Path(out.name).read_text(errors="replace"),
                                           Path(err.name).read_text(errors="replace"))


# -- the zygote itself ----------------------------------------------------------------------

def _child(request: dict) -> None:
    """In the forked child: become `python -m MODULE ARGV...` and never return."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 1)
        os.dup2(os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        random.seed()
        import runpy
        import warnings

        # runpy notes that the module was imported before it runs as __main__: it was, on purpose.
        warnings.filterwarnings("ignore", message=".*found in sys.modules after import of package")

        sys.argv = [request["module"], *request["argv"]]
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if not isinstance(exc.code, int | None):
                print(exc.code, file=sys.stderr)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def main(path: str) -> None:
    _die_with_parent()
    for module in PRELOAD:
        __import__(module)
    assert threading.active_count() == 1, "a preloaded module started a thread: forking would copy it half-held"
    exited: dict[int, int] = {}
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path + ".tmp")
    listener.listen(64)
    os.rename(path + ".tmp", path)
    while True:
        conn, _ = listener.accept()
        with conn:
            request = json.loads(conn.makefile().readline())
            while True:  # reap whatever ended since
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                exited[pid] = os.waitstatus_to_exitcode(status)
            if "status" in request:
                answer = {"code": exited.get(request["status"])}
            else:
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    conn.close()
                    _child(request)
                exited.pop(pid, None)  # a reused pid: its earlier process's end is no news of this one
                answer = {"pid": pid}
            conn.sendall(json.dumps(answer).encode() + b"\n")


if __name__ == "__main__":
    main(sys.argv[1])
