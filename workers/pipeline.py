"""From a landed push to queued checks, and the reconciler that makes sure none is lost.

The push writes pending statuses synchronously (the durable record); handing them to the
queue happens in a background thread, so a slow or absent Redis never delays `git push`.
The reconciler re-submits whatever is still owed: unqueued checks, checks pending for too
long, and (on a full pass) branch and tag tips that have no statuses at all.
"""
from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from registry.container import Container
from registry.errors import StorageError
from registry.git.policy import RefUpdate
from registry.meta import Run, Template
from registry.services import audit, checks, experiments, hooks, landing, operations, templates

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    def enqueue(self, template_id: str, sha: str, contexts: list[str]) -> None: ...
    def enqueue_run(self, run_id: str) -> None: ...
    def enqueue_unit(self, experiment_id: str, seq: int) -> None: ...
    def enqueue_delivery(self, delivery_id: str, attempt: int) -> None: ...
    def enqueue_repack(self, template_id: str) -> None: ...
    def depths(self) -> dict[str, int]: ...
    def join(self, timeout: float = 30.0) -> bool: ...
    def recover(self) -> bool:
        """Find what the queue lost (jobs of dead workers, a restarted Redis) and mark it owed;
        whether it can (RQ's can: then every waiting check is owed now). A queue that lives in
        this process has nothing to tell: False, and checks are owed once older than the delay."""



class Pipeline:
    def __init__(self, container: Container, dispatcher: Dispatcher) -> None:
        self.container = container
        self.dispatcher = dispatcher
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enqueue")
        self._stop = threading.Event()

    def on_push(self, template: Template, updates: list[RefUpdate]) -> None:
        owed = checks.record_push(self.container.meta, template, updates, checks.peeler(self.container, template))
        for sha, contexts in owed.items():
            self._later(self.submit, template.id, sha, contexts)
        if any(not u.is_create for u in updates):  # a deletion or a force push may have left garbage
            self._later(self.submit_repack, template.id)

    def _later(self, fn: Callable[..., object], *args: object) -> None:
        """Hand over in the background, in the context of now: the jobs queued are children of
        the trace of the push or request that owes them."""
        self._executor.submit(contextvars.copy_context().run, fn, *args)

    def submit_repack(self, template_id: str) -> None:
        """Best effort: a lost repack costs clone speed, never data, and the next push asks again."""
        try:
            self.dispatcher.enqueue_repack(template_id)
        except Exception as exc:
            log.warning("could not enqueue a repack of %s: %s", template_id, exc)

    def on_checks(self, template_id: str, sha: str, contexts: list[str]) -> None:
        """Checks owed outside a push (a pull request's `eval`): hand them over (or the reconciler will)."""
        self._later(self.submit, template_id, sha, contexts)

    def on_run(self, run: Run) -> None:
        """A manual sandbox run was recorded: hand it over (the reconciler retries if this fails)."""
        self._later(self.submit_run, run.id)

    def on_units(self, experiment_id: str, seqs: list[int]) -> None:
        """An experiment's units were handed out: queue them (the reconciler retries if this fails)."""
        for seq in seqs:
            self._later(self.submit_unit, experiment_id, seq)

    def submit_unit(self, experiment_id: str, seq: int) -> bool:
        try:
            self.dispatcher.enqueue_unit(experiment_id, seq)
        except Exception as exc:
            log.warning("could not enqueue unit %s of experiment %s: %s", seq, experiment_id, exc)
            return False
        return True

    def on_deliveries(self, delivery_ids: list[str]) -> None:
        """Webhook deliveries were recorded: hand them over (the reconciler retries if this fails)."""
        for delivery_id in delivery_ids:
            self._later(self.submit_delivery, delivery_id, 0)

    def submit_delivery(self, delivery_id: str, attempt: int) -> bool:
        try:
            self.dispatcher.enqueue_delivery(delivery_id, attempt)
        except Exception as exc:
            log.warning("could not enqueue delivery %s: %s", delivery_id, exc)
            return False
        return True

    def submit_run(self, run_id: str) -> bool:
        try:
            self.dispatcher.enqueue_run(run_id)
        except Exception as exc:
            log.warning("could not enqueue run %s: %s", run_id, exc)
            return False
        return True

    def submit(self, template_id: str, sha: str, contexts: list[str]) -> bool:
        try:
            self.dispatcher.enqueue(template_id, sha, contexts)
        except Exception as exc:  # Redis down: the statuses stay unqueued for the reconciler
            log.warning("could not enqueue checks for %s@%s: %s", template_id, sha[:12], exc)
            return False
        self.container.meta.checks.mark_enqueued(template_id, sha, tuple(contexts))
        return True

    def reconcile(self, full: bool = False, older_than: float | None = None) -> int:
        """Finish journalled ref writes their request could not (services/landing.py), then submit
        owed checks; returns how many commits were handed over."""
        self.container.usage.flush(self.container.meta)
        landing.catch_up(self.container)
        if older_than is None:
            older_than = time.time() - self.container.settings.requeue_after_seconds
        try:
            told = self.dispatcher.recover()
        except Exception as exc:  # Redis down: the statuses wait for the next pass
            log.warning("could not inspect the queue: %s", exc)
            return 0
        if told:  # the queue told us what it lost; enqueue is idempotent for what it still holds
            older_than = time.time() + 1
        work = checks.waiting(self.container.meta, older_than)
        if full:
            for template in templates.all_templates(self.container):
                for sha, contexts in checks.record_tips(self.container, template).items():
                    work.setdefault((template.id, sha), []).extend(contexts)
        handed = sum(self.submit(tid, sha, sorted(set(ctx))) for (tid, sha), ctx in work.items())
        # Webhook retries whose delay has passed, and attempts whose worker died (lease over).
        handed += sum(self.submit_delivery(d.id, d.attempts) for d in hooks.due(self.container))
        if full:
            audit.prune(self.container)
            try:  # at most once an hour, on whichever node gets there first
                operations.measure_storage(self.container)
            except Exception as exc:
                log.warning("could not measure storage: %s", exc)
        # Experiments' units whose hand-over or worker was lost (taken again only once their lease is over).
        handed += sum(self.submit_unit(eid, seq) for eid, seq in experiments.stalled(self.container))
        # Manual runs still queued: the dispatcher's unique job ids make a re-submit harmless.
        return handed + sum(self.submit_run(run.id) for run in self.container.meta.checks.queued_runs(older_than))

    def start(self, all_owed: bool = False, full_every: float = 300.0) -> None:
        """Reconcile in the background: fully at once (a server's start), then quickly and often,
        fully now and then. `all_owed`: every check still pending is owed now, not only those past
        the requeue delay (the first process to start with the embedded queue: a restart lost what
        it held). A pass the database or storage refuses (down at start, or later) is tried again
        on the next tick, the first full one with its `all_owed` still, so a process that starts
        while PostgreSQL is down serves (503s) and catches up once it is back, never dying of it."""
        def loop() -> None:
            last_full: float | None = None  # no full pass has succeeded yet
            wait = 0.0
            while not self._stop.wait(wait):
                wait = self.container.settings.reconcile_seconds
                try:
                    full = last_full is None or time.monotonic() - last_full > full_every
                    owed_now = time.time() + 1 if all_owed and last_full is None else None
                    self.reconcile(full=full, older_than=owed_now)
                    last_full = time.monotonic() if full else last_full
                except StorageError as exc:  # the database or storage is down: the next pass tries again
                    log.warning("reconcile postponed: %s", exc.message)
                except Exception:
                    log.exception("reconcile failed")

        threading.Thread(target=loop, name="reconcile", daemon=True).start()

    def drain(self, timeout: float = 60.0) -> None:
        """Before a planned stop (a server process replaced for its memory, a command that queued
        checks): hand over what is being submitted and, with the embedded queue, run what waits in
        it, for up to `timeout`."""
        self._executor.shutdown(wait=True)
        self.dispatcher.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._executor.shutdown(wait=True)
        try:
            self.container.usage.flush(self.container.meta)
        except Exception:
            log.exception("usage counts could not be saved")

