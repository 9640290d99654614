"""The faults of `make soak-cluster`, one at a time during the load, each kind more than once:
PostgreSQL restarted (fast and immediate shutdown) and paused (SIGSTOP 5 s), Redis restarted, a
node SIGKILLed mid-push and started again, a worker SIGKILLed mid-job (and replaced, as an
operator's supervisor would), S3 answers dropped, reset and delayed, and the network between
node A and PostgreSQL cut for 10 s. Each is recorded with when it began and when it was lifted
(the database accepting connections again, the node answering, the cut healed)."""
from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from redis import Redis
from rq import Worker as RqWorker

from bench.soak_history import Op
from bench.soak_load import World, big_push
from bench.soak_nodes import Shape

KINDS = ("pg restart fast", "pg restart immediate", "pg pause 5 s", "redis restart", "node kill mid-push",
         "worker kill mid-job", "s3 drop/reset/delay", "network cut node a-pg 10 s")


@dataclass
class Fault:
    kind: str
    start: float
    end: float = 0.0
    nodes: tuple[str, ...] = ("a", "b")  # whose pushes tell when it is over
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    recovered: dict[str, float | None] = field(default_factory=dict)  # node -> seconds to its first accepted push


def wait_recovery(w: World, f: Fault, timeout: float = 120) -> None:
    """Wait (up to `timeout`) for a push accepted through each node `f` touched, after it ended:
    the next fault comes only once this one is over, so each recovery is its own."""
    while True:
        for node in f.nodes:
            first = min((op.end for op in w.history.of("push:") if op.node == node and op.outcome == "ok"
                         and op.kind != "push:refused" and op.end > f.end), default=None)
            f.recovered[node] = None if first is None else first - f.end
        if None not in f.recovered.values() or time.monotonic() - f.end > timeout:
            return
        time.sleep(0.2)


def _pg_restart(mode: str) -> Callable[[Shape, World, Fault], None]:
    def run(s: Shape, w: World, f: Fault) -> None:
        s.pg.stop(mode)
        time.sleep(1)
        s.pg.start()
    return run


def _pg_pause(s: Shape, w: World, f: Fault) -> None:
    s.pg.pause()
    try:
        time.sleep(5)
    finally:
        s.pg.resume()


def _redis(s: Shape, w: World, f: Fault) -> None:
    s.restart_redis(down_seconds=2)


def _node_kill(s: Shape, w: World, f: Fault) -> None:
    """SIGKILL a node in the middle of a push through it, then start it again. The push (4 MB)
    is timed once through that node first, and the kill comes 20-90% of that time into the next."""
    victim = s.nodes[sum(len(n.starts) - 1 for n in s.nodes) % 2]
    f.nodes = (victim.label,)
    label = f"kill-{victim.label}-{len(victim.starts)}"
    timed = big_push(w, victim, f"{label}-timing", threading.Event())
    took = max(0.3, timed.end - timed.start)
    pushed: list[Op] = []
    pushing = threading.Event()
    pusher = threading.Thread(target=lambda: pushed.append(big_push(w, victim, label, pushing)))
    pusher.start()
    pushing.wait(120)
    time.sleep(random.uniform(0.2, 0.9) * took)
    victim.kill()
    f.start = time.monotonic()
    pusher.join(600)
    mid = bool(pushed) and pushed[0].start < f.start < pushed[0].end
    f.detail = f"node {victim.label} {'mid-push' if mid else 'not mid-push'} ({pushed[0].outcome if pushed else '?'})"
    victim.start()


def _worker_kill(s: Shape, w: World, f: Fault) -> None:
    """SIGKILL a worker while RQ says it is busy with a job (waiting up to 60 s), then start another."""
    ours = {wk.pid: wk for wk in s.workers if wk.alive()}
    deadline, job = time.monotonic() + 60, None
    victim = None
    while victim is None and time.monotonic() < deadline:
        try:
            for rw in RqWorker.all(connection=Redis.from_url(s.redis_url(), socket_timeout=5)):
                if rw.pid in ours and rw.get_state() == "busy" and rw.get_current_job_id():
                    victim, job = ours[rw.pid], rw.get_current_job_id()
                    break
        except Exception:  # Redis restarting: look again
            pass
        time.sleep(0.05)
    victim = victim or next(iter(ours.values()))
    victim.signal(signal.SIGKILL)
    f.start = time.monotonic()
    f.detail = f"worker {victim.label} {'in job ' + str(job) if job else '(idle: no job seen)'}"
    s.new_worker()


def _s3(s: Shape, w: World, f: Fault) -> None:
    rng = random.Random(f.start)
    before = len(s.s3.log)

    def chaos(seen: object) -> str:
        roll = rng.random()
        return "drop" if roll < 0.08 else "reset" if roll < 0.16 else \
            f"delay:{rng.uniform(0.5, 2):.2f}" if roll < 0.36 else "pass"

    s.s3.set_rule(chaos)
    try:
        time.sleep(8)
    finally:
        s.s3.set_rule(lambda seen: "pass")
    window = [action for _, action in s.s3.log[before:]]
    f.counts = {kind: sum(a.startswith(kind) for a in window) for kind in ("drop", "reset", "delay", "pass")}


def _cut(s: Shape, w: World, f: Fault) -> None:
    f.nodes = ("a",)
    s.pg_cut.cut(10)


RUNNERS: dict[str, Callable[[Shape, World, Fault], None]] = {
    KINDS[0]: _pg_restart("fast"), KINDS[1]: _pg_restart("immediate"), KINDS[2]: _pg_pause, KINDS[3]: _redis,
    KINDS[4]: _node_kill, KINDS[5]: _worker_kill, KINDS[6]: _s3, KINDS[7]: _cut}


ROUND_SECONDS = 50.0  # about what one round of faults takes on a loaded 2-core machine


def inject(s: Shape, w: World, seconds: float, rounds: int = 2, warmup: float = 8.0) -> list[Fault]:
    """Every kind once per round, in a shuffled order, a few seconds apart (more rounds while time
    is left); the list of faults as they happened. At least `rounds` rounds, however long they take."""
    rng, done = random.Random(27), []
    gap = max(1.0, (seconds - warmup - 10 - rounds * ROUND_SECONDS) / (rounds * len(KINDS)))
    time.sleep(warmup)
    started, round_no = time.monotonic(), 0
    while round_no < rounds or time.monotonic() - started < seconds - warmup - ROUND_SECONDS - 10:
        order = list(KINDS)
        rng.shuffle(order)
        for kind in order:
            f = Fault(kind, time.monotonic())
            print(f"  {time.monotonic() - w.history.t0:6.1f} s  {kind}", flush=True)
            RUNNERS[kind](s, w, f)
            f.end = time.monotonic()
            done.append(f)
            wait_recovery(w, f)
            time.sleep(gap)
        round_no += 1
    return done
