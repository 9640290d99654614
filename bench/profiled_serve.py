"""`registry serve` whose every push is profiled (issue 29): `python -m bench.profiled_serve DIR
serve ARGS...` runs `python -m api.cli serve ARGS...` with `registry.services.push.serve` wrapped,
so each receive-pack request, in whichever of the N processes it lands, leaves in DIR:

- `push-<wall seconds>-<pid>-<n>.txt`: pyinstrument's call tree of the thread that served it,
  headed by its wall and CPU seconds, the process's age and push count (a first push into a
  fresh or recycled process shows as n=1), and the garbage collections that ran meanwhile;
- `... .html`: the same profile, to open in a browser.

`python -m bench.bench_git --profile push` starts the registry this way and keeps the slowest
run's files. Nothing here changes what a push does; the profiler's own cost (~1 ms samples) is
paid by every profiled push alike.
"""
from __future__ import annotations

import gc
import itertools
import os
import runpy
import sys
import threading
import time
from pathlib import Path
from typing import Any

STARTED = time.monotonic()


class _GCClock:
    """Collections and the seconds they took, process-wide, from gc.callbacks."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._start

    def snapshot(self) -> tuple[list[int], float]:
        return list(self.count), self.seconds


def install(out: Path) -> None:
    """Wrap the push use case so each receive-pack call is profiled into `out`."""
    from pyinstrument import Profiler

    from registry.services import push

    out.mkdir(parents=True, exist_ok=True)
    inner = push.serve
    clock = _GCClock()
    counter = itertools.count(1)
    lock = threading.Lock()

    def serve(c: Any, actor: Any, template: Any, service_name: str, *args: Any, **kwargs: Any) -> None:
        if service_name != "git-receive-pack":
            return inner(c, actor, template, service_name, *args, **kwargs)
        with lock:
            n = next(counter)
        gc_before, gc_secs_before = clock.snapshot()
        profiler = Profiler(interval=0.001)
        wall, cpu = time.perf_counter(), time.thread_time()
        profiler.start()
        try:
            return inner(c, actor, template, service_name, *args, **kwargs)
        finally:
            profiler.stop()
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            gc_after, gc_secs_after = clock.snapshot()
            collections = [a - b for a, b in zip(gc_after, gc_before, strict=True)]
            head = (f"push {n} of process {os.getpid()} (age {time.monotonic() - STARTED:.1f} s), "
                    f"template {template.full_name}: wall {wall:.3f} s, thread CPU {cpu:.3f} s, "
                    f"process CPU {time.process_time():.1f} s so far\n"
                    f"gc meanwhile (any thread): collections by generation {collections}, "
                    f"{gc_secs_after - gc_secs_before:.3f} s\n\n")
            name = out / f"push-{wall:08.3f}-{os.getpid()}-{n}"
            name.with_suffix(".txt").write_text(head + profiler.output_text(unicode=False, color=False))
            name.with_suffix(".html").write_text(profiler.output_html())

    push.serve = serve


def main() -> None:
    out = Path(sys.argv[1])
    install(out)
    sys.argv = ["api.cli", *sys.argv[2:]]
    runpy.run_module("api.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
