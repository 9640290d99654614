"""Where a sandbox run happens in development: a child process with a wall-clock timeout, CPU
and address-space rlimits (set by the child itself), its own process group (killed at the end),
no network where `unshare -n` works, and a scratch directory removed afterwards."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..meta import Run
from . import provider
from .base import Outcome, split_output
from .runner import REPORT_PREFIX

if TYPE_CHECKING:
    from resource import struct_rusage

    from ..settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_SECONDS = 0.5  # how often a run's log lines so far are told while it runs
OUTPUT_LIMIT = 64 * 1024  # past this, the logs wait for the end (and are cut there)


@lru_cache(maxsize=1)
def _no_network_prefix() -> tuple[str, ...]:
    try:
        ok = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return ("unshare", "-n", "--") if ok else ()


class LocalBackend:
    name = "local"

    def __init__(self, timeout_s: float = 30.0, memory_mb: int = 1024, extra_env: dict[str, str] | None = None,
                 on_output: Callable[[str], None] | None = None):
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self.extra_env = extra_env or {}
        self.on_output = on_output  # hears the child's log lines so far, every OUTPUT_SECONDS while it runs

    @classmethod
    def from_settings(cls, settings: Settings, on_output: Callable[[str], None] | None = None) -> LocalBackend:
        return cls(settings.sandbox_timeout_seconds, settings.sandbox_memory_mb, provider.env_from_settings(settings),
                   on_output)

    def execute(self, run: Run | None, payload: dict[str, Any],
                record_task: Callable[[str], None] | None = None) -> Outcome:
        """Runs start afresh on a re-run: the child of a dead worker ends by its own alarm."""
        # A model provider needs the network; without one the child gets none.
        isolate = () if "SANDBOX_PROVIDER_URL" in self.extra_env else _no_network_prefix()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0",
               **self.extra_env}
        with tempfile.TemporaryDirectory(prefix="sandbox-") as scratch:
            source = Path(scratch, "input.json")
            source.write_text(json.dumps(payload))
            # The child confines itself first thing (runner.confine): a preexec_fn would run
            # between fork and exec in a threaded server, where it can deadlock.
            cmd = [*isolate, sys.executable, "-m", "registry.sandbox.runner", "--input", str(source),
                   "--memory-mb", str(self.memory_mb), "--cpu-seconds", str(int(self.timeout_s) + 1),
                   "--timeout", str(int(self.timeout_s) + 2)]
            with open(Path(scratch, "out"), "w+b") as out, open(Path(scratch, "err"), "w+b") as err:
                start = time.monotonic()
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=scratch,
                                        env=env, start_new_session=True)
                status, usage, timed_out = self._wait(proc, start, out)
                duration = time.monotonic() - start
                out.seek(0), err.seek(0)
                stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        cpu = round(usage.ru_utime + usage.ru_stime, 3) if usage else None
        peak = round(usage.ru_maxrss / 1024, 1) if usage else None
        report, logs, problem = split_output(stdout)
        logs = "\n".join(part for part in (logs, stderr[-8000:]) if part)
        error = None
        if timed_out:
            error, report = f"killed: still running after {self.timeout_s:g} s", None
        elif status != 0 or report is None:
            error, report = _why(status, stderr, problem), None
        return Outcome(report, error, round(duration, 3), cpu, peak, logs)

    def _wait(self, proc: subprocess.Popen[bytes], start: float, out: IO[bytes]) -> tuple[int, struct_rusage, bool]:
        """Wait for the child with os.wait4, which gives its own rusage (the worker's
        RUSAGE_CHILDREN would mix in every other child); kill its group when time is up. Meanwhile
        `on_output` hears its log lines so far (the report line, which comes last, is not one)."""
        timed_out, told, heard = False, 0, time.monotonic()
        while True:
            if self.on_output is not None and time.monotonic() - heard >= OUTPUT_SECONDS:
                heard = time.monotonic()
                size = os.fstat(out.fileno()).st_size
                if size != told and size <= OUTPUT_LIMIT:
                    told = size
                    text = os.pread(out.fileno(), size, 0).decode("utf-8", "replace")
                    self.on_output("\n".join(line for line in text.splitlines() if not line.startswith(REPORT_PREFIX)))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > self.timeout_s:
                timed_out = True
                self._kill(proc)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        self._kill(proc)  # whatever it started lives in its group
        return proc.returncode, usage, timed_out

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _why(code: int, stderr: str, problem: str | None) -> str:
    tail = stderr.strip().splitlines()[-1:] or [problem or f"exit status {code}"]
    if "MemoryError" in stderr:
        return "killed: over its memory limit (MemoryError)"
    if code in (-signal.SIGXCPU, -signal.SIGKILL, -signal.SIGALRM):
        return f"killed: by its {'CPU' if code == -signal.SIGXCPU else 'time'} limit (signal {-code})"
    if code != 0:
        return f"the run crashed: {tail[0]}"[:300]
    return problem or "the run printed no report"
