"""The read side of A/B experiments for routes and pages (beside registry/views.py): access-checked
reads that return an experiment with its verdict so far, computed from its units' trials."""
from __future__ import annotations

from dataclasses import dataclass

from .access import Actor
from .container import Container
from .experiments import stats, trials
from .experiments.stats import VariantSummary
from .meta import Experiment, Template
from .services import guard
from .services.experiments import of_template

__all__ = ["ExperimentView", "VariantSummary", "experiment", "experiments", "state"]


@dataclass(frozen=True)
class ExperimentView:
    template: Template
    experiment: Experiment
    verdict: stats.Verdict
    progress: dict[str, int]
    errors: list[str]  # why units failed, one line each (at most 5)


def experiment(c: Container, actor: Actor, owner: str, name: str, experiment_id: str) -> ExperimentView:
    template = guard.template(c, actor, owner, name)
    found = of_template(c, template, experiment_id)
    units = c.meta.experiments.units(found.id)
    return ExperimentView(template, found, trials.verdict(found, units), trials.progress(found, units),
                          [f"{found.variants[u.variant][0]}: {u.error}" for u in units if u.state == "error"][:5])


def experiments(c: Container, actor: Actor, owner: str, name: str, offset: int,
                limit: int) -> tuple[Template, list[Experiment], int]:
    template = guard.template(c, actor, owner, name)
    items, total = c.meta.experiments.page(template.id, offset, limit)
    return template, items, total


def state(c: Container, actor: Actor, owner: str, name: str, experiment_id: str) -> Experiment:
    """The experiment alone (its state and units done), for a live feed's frequent polls."""
    return of_template(c, guard.template(c, actor, owner, name), experiment_id)
