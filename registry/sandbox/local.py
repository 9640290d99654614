"""Where a sandbox run happens in development: a child process with a wall-clock timeout, CPU
and address-space rlimits, its own process group (killed at the end), no network where
`unshare -n` works, and a scratch directory removed afterwards."""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    report: dict[str, Any] | None
    error: str | None
    duration_s: float
    cpu_s: float
    peak_memory_mb: float


@lru_cache(maxsize=1)
def _no_network_prefix() -> tuple[str, ...]:
    try:
        ok = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return ("unshare", "-n", "--") if ok else ()


def run_local(manifest: dict[str, Any], cases: list[tuple[str, dict]], timeout_s: float = 30.0,
              memory_mb: int = 1024, cpu_s: int = 20) -> Outcome:
    payload = json.dumps({"manifest": manifest, "cases": cases}).encode()
    # The child confines itself first thing (runner.confine): a preexec_fn would run between
    # fork and exec in a threaded server, where it can deadlock.
    cmd = [*_no_network_prefix(), sys.executable, "-m", "registry.sandbox.runner",
           "--memory-mb", str(memory_mb), "--cpu-seconds", str(cpu_s)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sandbox-") as scratch:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=scratch, env=env, start_new_session=True)
        error = None
        try:
            out, err = proc.communicate(payload, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            out, err, error = b"", b"", f"killed: still running after {timeout_s:g} s"
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group, whatever it started
            except ProcessLookupError:
                pass
            proc.wait()
    duration = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = after.ru_maxrss / 1024  # kB -> MB (the largest child so far: an upper bound)
    report = None
    if error is None:
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            reason = "killed by a limit" if proc.returncode < 0 else tail[0]
            error = f"the run crashed: {reason}"[:300]
        else:
            try:
                report = json.loads(out)
            except ValueError:
                error = "the run printed no report"
    return Outcome(report, error, round(duration, 3), round(cpu, 3), round(peak, 1))
