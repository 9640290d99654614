"""A check, a run, a delivery or a repack carried out on a given container, with the retry policy:
what the jobs of both queues call. The embedded dispatcher passes its container; RQ's jobs get
the worker's bootstrapped system as their first argument (workers.worker).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import Counter

from registry.container import Container
from registry.errors import RunNotFound, TemplateNotFound
from registry.services import checks, experiments, hooks, maintenance, runs

from . import observe

log = logging.getLogger(__name__)
DELIVERIES = Counter("registry_webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"])


def _retrying(label: str, work: Callable[[], object], give_up: Callable[[BaseException], None],
              may_retry: Callable[[], bool]) -> None:
    """Transient errors propagate while a retry remains; anything else, or the last transient
    one, goes to `give_up` (so nothing stays pending because its job died quietly)."""
    try:
        work()
    except checks.TRANSIENT as exc:
        if may_retry():
            log.warning("%s: %s; will retry", label, exc)
            raise
        give_up(exc)
    except Exception as exc:
        log.exception("%s failed", label)
        give_up(exc)


def run_check(c: Container, context: str, template_id: str, sha: str, may_retry: Callable[[], bool]) -> None:
    """Run a check; a final failure becomes an `error` status."""
    with observe.job(context, template_id=template_id, sha=sha) as fields:
        def work() -> None:
            status = checks.run(c, context, template_id, sha)
            fields["state"] = status.state if status is not None else None
        _retrying(f"{context} {template_id}@{sha[:12]}", work,
                  lambda exc: checks.give_up(c, context, template_id, sha, exc), may_retry)


def run_delivery(c: Container, delivery_id: str, may_retry: Callable[[], bool] | None = None) -> None:
    """One attempt at a webhook delivery. Its retries are the delivery's own (a delay that
    doubles, read by the reconciler), never the queue's: a queue retry could send it twice."""
    with observe.job("deliver", delivery_id=delivery_id) as fields:
        try:
            outcome = hooks.deliver(c, delivery_id)
        except Exception:
            log.exception("delivery %s", delivery_id)  # the lease runs out and the reconciler resubmits
            return
        if outcome is not None:
            fields["state"] = outcome.status
            DELIVERIES.labels(outcome.status).inc()


def run_repack(c: Container, template_id: str, may_retry: Callable[[], bool] | None = None) -> None:
    """The background repack after a deletion or force push (services.maintenance.compact)."""
    with observe.job("repack", template_id=template_id) as fields:
        _repack(c, template_id, fields)


def _repack(c: Container, template_id: str, fields: dict[str, str | None]) -> None:
    try:
        if maintenance.compact(c, template_id):
            fields["state"] = "repacked"
    except TemplateNotFound:
        pass  # deleted since the push
    except Exception:
        log.exception("repack of %s", template_id)  # the next push asks again; `registry gc` too


def run_manual(c: Container, run_id: str, may_retry: Callable[[], bool]) -> None:
    """Carry out a sandbox run asked for by hand, and give its commit the run's status."""
    with observe.job("run", run_id=run_id):
        try:
            run = c.meta.checks.get_run(run_id)
        except RunNotFound:
            return  # its template was deleted
        _retrying(f"run {run_id}", lambda: checks.settle(c, c.meta.templates.get_by_id(run.template_id),
                                                          runs.execute(c, run_id)),
                  lambda exc: runs.abandon(c, run, exc), may_retry)


def run_unit(c: Container, experiment_id: str, seq: int, may_retry: Callable[[], bool]) -> list[int]:
    """One unit of an experiment; the units it handed out next (the caller queues them)."""
    with observe.job("experiment", experiment_id=experiment_id, seq=str(seq)):
        try:
            return experiments.run_unit(c, experiment_id, seq)
        except checks.TRANSIENT as exc:
            if may_retry():
                log.warning("unit %s of experiment %s: %s; will retry", seq, experiment_id, exc)
                raise
            log.exception("unit %s of experiment %s", seq, experiment_id)
        except Exception:
            log.exception("unit %s of experiment %s", seq, experiment_id)  # the reconciler takes it again
        return []
