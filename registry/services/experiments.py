"""A/B experiments as use cases: start one over a template's variants (refs), carry out its units
on the worker pool, cancel it, and find the units whose hand-over or worker was lost.

An experiment runs every variant x case x repetition. Its unit is one part (at most
`experiment_unit_cases`) of one variant's chosen cases, once: one sandbox run (the configured
backend, as a run's), so a template's Jinja never runs in the worker itself, and each unit stays
well within the sandbox's timeout. At most `experiment_concurrency` units of an experiment are
queued or running at once (`meta.experiments.hand_out`): that bounds its calls toward the model
whatever the number of workers; each unit that ends hands out the next, which its caller queues.
The provider's 429s and 5xx are retried with backoff where the call is made
(registry/sandbox/provider.py).
"""
from __future__ import annotations

import re
import time
from typing import Any

from ..access import Actor, Level
from ..container import Container
from ..errors import ExperimentNotFound, InvalidField, RefNotFound
from ..experiments import trials as judging
from ..git import browse
from ..meta import Experiment, Run, Template, Unit
from ..sandbox import cost, prepare
from ..sandbox.base import Backend
from ..settings import Settings
from . import budget, guard, runs
from .checks import TRANSIENT

MAX_ATTEMPTS = 3  # a unit's tries (a worker that died while running it)
MAX_REF = 255
MAX_CASE_NAME = 200
PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}")


def start(c: Container, actor: Actor, owner: str, name: str, variants: list[str], cases: list[str] | None,
          repetitions: int, model: str | None) -> Experiment:
    """Record an experiment and hand its first units to the queue."""
    template = guard.template(c, actor, owner, name, Level.WRITE)
    guard.writer(actor, "start an experiment")
    settings = c.settings
    _bounds(settings, variants, cases, repetitions, model)
    budget.ensure(c, template.owner)
    resolved = _resolve(c, template, variants)
    available = _cases_of(c, template, resolved)
    chosen = cases if cases is not None else sorted(available)
    missing = [case for case in chosen if case not in available]
    if missing:
        raise InvalidField("cases", f"{missing[0]!r} is not a test case of every variant")
    if not chosen:
        raise InvalidField("variants", "the variants have no test case in common (tests/*.json)")
    trials = len(variants) * len(chosen) * repetitions
    if trials > settings.experiment_max_trials:
        raise InvalidField("repetitions", f"{len(variants)} variants x {len(chosen)} cases x {repetitions} repetitions "
                           f"is {trials} trials, over the limit of {settings.experiment_max_trials}")
    experiment = c.meta.experiments.add(template.id, actor.name, resolved, chosen, repetitions, model,
                                        settings.experiment_unit_cases)
    c.announce_units(experiment.id, c.meta.experiments.hand_out(experiment.id, settings.experiment_concurrency))
    return experiment


def _bounds(settings: Settings, variants: list[str], cases: list[str] | None, repetitions: int,
            model: str | None) -> None:
    if not 2 <= len(variants) <= settings.experiment_max_variants:
        raise InvalidField("variants", f"give 2 to {settings.experiment_max_variants} refs, not {len(variants)}")
    if any(not v or len(v) > MAX_REF for v in variants):
        raise InvalidField("variants", f"each ref has 1 to {MAX_REF} characters")
    if len(set(variants)) != len(variants):
        raise InvalidField("variants", "each ref once")
    if not 1 <= repetitions <= settings.experiment_max_repetitions:
        raise InvalidField("repetitions", f"1 to {settings.experiment_max_repetitions}, not {repetitions}")
    if cases is not None:
        if not 1 <= len(cases) <= settings.experiment_max_cases:
            raise InvalidField("cases", f"give 1 to {settings.experiment_max_cases} case names, or leave it out")
        if any(not case or len(case) > MAX_CASE_NAME for case in cases) or len(set(cases)) != len(cases):
            raise InvalidField("cases", f"each case name once, 1 to {MAX_CASE_NAME} characters")
    if model is not None:
        if not PROVIDER_NAME.fullmatch(model):
            raise InvalidField("provider", "a model name: letters, digits and . _ : / @ -, at most 100")
        if not settings.sandbox_provider_url:
            raise InvalidField("provider", "no model provider is configured (REGISTRY_SANDBOX_PROVIDER_URL)")


def _resolve(c: Container, template: Template, refs: list[str]) -> list[tuple[str, str]]:
    resolved = []
    with c.open_repo(template) as repo:
        for ref in refs:
            try:
                resolved.append((ref, browse.resolve_commit(repo, ref).id.decode()))
            except RefNotFound:
                raise InvalidField("variants", f"no branch, tag or commit {ref!r}") from None
    return resolved


def _cases_of(c: Container, template: Template, resolved: list[tuple[str, str]]) -> set[str]:
    """The names of the cases every variant has (each variant's manifest and tests must check)."""
    common: set[str] | None = None
    for ref, sha in resolved:
        manifest, cases, problems = prepare.load_cases(c, template, sha)
        if problems or manifest is None:
            why = problems[0]["message"] if problems else "no manifest"
            raise InvalidField("variants", f"{ref}: {why}")
        names = {str(case.get("name", "")) for _file, case in cases}
        common = names if common is None else common & names
    return common or set()


def cancel(c: Container, actor: Actor, owner: str, name: str, experiment_id: str) -> Experiment:
    template = guard.template(c, actor, owner, name, Level.WRITE)
    guard.writer(actor, "cancel an experiment")
    experiment = of_template(c, template, experiment_id)
    c.meta.experiments.cancel(experiment.id)
    return c.meta.experiments.get(experiment.id)


def of_template(c: Container, template: Template, experiment_id: str) -> Experiment:
    """The experiment, if it is one of `template`'s (else not found)."""
    experiment = c.meta.experiments.get(experiment_id)
    if experiment.template_id != template.id:
        raise ExperimentNotFound(f"experiment {experiment_id} not found")
    return experiment


def run_unit(c: Container, experiment_id: str, seq: int, backend: Backend | None = None) -> list[int]:
    """Carry out one unit (the worker's job) and hand out the next: the seqs the caller queues."""
    meta, settings = c.meta, c.settings
    unit = meta.experiments.start_unit(experiment_id, seq, MAX_ATTEMPTS, time.time() - lease(settings))
    if unit is None:
        return _advance(c, experiment_id)
    experiment = meta.experiments.get(experiment_id)
    if experiment.final:
        meta.experiments.finish_unit(experiment_id, seq, "cancelled", [])
        return []
    template = meta.templates.get_by_id(experiment.template_id)
    refused = budget.refusal(c, template.owner)
    if refused is not None:  # the owner's monthly model budget ran out meanwhile: the rest is not run
        meta.experiments.finish_unit(experiment_id, seq, "error", [], refused[:300])
        meta.experiments.cancel(experiment_id)
        meta.experiments.update(experiment_id, state="failed", summary=refused[:500])
        return []
    meta.experiments.update(experiment_id, state="running", summary="running", started_at=time.time(),
                            expect=("queued",))
    try:
        state, found, error, spent = _carry_out(c, experiment, unit, backend)
    except TRANSIENT as exc:  # storage or database: queued again for the queue's retry, while attempts remain
        if unit.attempts < MAX_ATTEMPTS:
            meta.experiments.finish_unit(experiment_id, seq, "queued", [], str(exc)[:300])
            raise
        state, found, error, spent = "error", [], f"{type(exc).__name__}: {exc}"[:300], 0.0
    except Exception as exc:
        state, found, error, spent = "error", [], f"{type(exc).__name__}: {exc}"[:300], 0.0
    meta.experiments.finish_unit(experiment_id, seq, state, found, error, spent)
    return _advance(c, experiment_id)


def lease(settings: Settings) -> float:
    """Seconds after which a unit still queued or running is taken to be lost (its worker died)."""
    return 2 * settings.sandbox_timeout_seconds + settings.requeue_after_seconds


def _carry_out(c: Container, experiment: Experiment, unit: Unit,
               backend: Backend | None) -> tuple[str, list[dict[str, Any]], str | None, float]:
    """(state, trials, error, what the model calls cost) of one unit."""
    template = c.meta.templates.get_by_id(experiment.template_id)
    ref, sha = experiment.variants[unit.variant]
    manifest, cases, problems = prepare.load_cases(c, template, sha)
    if problems or manifest is None:
        return "error", [], (problems[0]["message"] if problems else "no manifest")[:300], 0.0
    wanted = set(experiment.part(unit.part))
    cases = [(file, case) for file, case in cases if case.get("name") in wanted]
    backend = backend or runs.backend_for(c)
    # Not a run of its own (no record, no status): the backend is handed one to name its task by.
    run = Run(f"{experiment.id}-{unit.seq}-{unit.attempts}", template.id, sha, ref, "experiment",
              experiment.requested_by, "running", backend.name)
    try:
        outcome = backend.execute(run, runs.payload(c.settings, manifest, cases, experiment.provider),
                                  lambda task: None)
    finally:
        if backend.name == "fargate":  # its staged input, once the task ended
            runs.discard_input(c, run)
    if outcome.error or outcome.report is None:
        return "error", [], f"{ref}: {outcome.error or 'no report'}"[:300], 0.0
    spent = float(outcome.report.get("model_usd") or 0.0)
    return "done", judging.from_report(outcome.report, cost.calls_per_case(manifest)), None, spent


def _advance(c: Container, experiment_id: str) -> list[int]:
    """Hand out what may run next; when every unit has ended, the experiment has too."""
    meta = c.meta
    experiment = meta.experiments.get(experiment_id)
    if experiment.final:
        return []
    handed = meta.experiments.hand_out(experiment_id, c.settings.experiment_concurrency)
    if handed:
        return handed
    units = meta.experiments.units(experiment_id)
    if all(u.final for u in units):
        verdict = judging.verdict(experiment, units)
        errors = sum(1 for u in units if u.state == "error")
        summary = (f"winner {verdict.winner}" if verdict.winner else "no significant difference") + \
            (f" (p = {verdict.p_value:.3g})" if verdict.p_value is not None else "") + \
            (f"; {errors} of {len(units)} units failed" if errors else "")
        state = "failed" if errors == len(units) else "finished"
        meta.experiments.update(experiment_id, state=state, summary=summary, finished_at=time.time(),
                                expect=("queued", "running"))
    return []


def stalled(c: Container, older_than: float | None = None) -> list[tuple[str, int]]:
    """Units whose hand-over or worker was lost (the reconciler queues them again)."""
    return c.meta.experiments.stalled_units(older_than if older_than is not None else time.time() - lease(c.settings))

