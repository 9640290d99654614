"""Promoting an experiment's winner: a pull request that brings the winning variant, as it was
tested, into the default branch. The variant's branch is its head while it still points at the
tested commit; otherwise (it moved, or the variant was a tag or a commit) a branch
`experiment-{id}` is made at the tested commit first, as a push of that ref by the promoter.
Promoting again while that pull request is open answers it rather than opening another."""
from __future__ import annotations

from ..access import Actor, Level
from ..container import Container
from ..errors import InvalidInput
from ..experiments import trials
from ..git.policy import RefUpdate
from ..git.refsdoc import ZERO_SHA
from ..meta import Pull
from . import commits, guard, pulls
from .experiments import of_template


def promote(c: Container, actor: Actor, owner: str, name: str, experiment_id: str) -> Pull:
    guard.writer(actor, "promote a variant")
    template = guard.template(c, actor, owner, name, Level.WRITE)
    experiment = of_template(c, template, experiment_id)
    if experiment.state != "finished":
        raise InvalidInput(f"the experiment is {experiment.state}: only a finished one has a winner to promote")
    verdict = trials.verdict(experiment, c.meta.experiments.units(experiment.id))
    if verdict.winner is None:
        raise InvalidInput("no variant is significantly better than the others: there is no winner to promote")
    ref, sha = next(v for v in experiment.variants if v[0] == verdict.winner)
    with c.open_repo(template) as repo:
        default = repo.default_branch.removeprefix("refs/heads/")
        if repo.head_sha == sha:
            raise InvalidInput(f"the winner {ref} is the tip of {default} already")
        head = ref if ref != default and repo.doc.refs.get(f"refs/heads/{ref}") == sha else f"experiment-{experiment.id}"
        already = [p for p in c.meta.pulls.open_from(template.id, head)
                   if p.template_id == template.id and p.base_branch == default and p.head_sha == sha]
        if already:  # promoted before (a second click, a reload): that pull request, not another
            return already[0]
        if f"refs/heads/{head}" not in repo.doc.refs:
            commits.push_objects(c, actor, template, repo, RefUpdate(f"refs/heads/{head}", ZERO_SHA, sha), [])
    winner = next(v for v in verdict.variants if v.ref == verdict.winner)
    body = (f"Experiment {experiment.id} found `{ref}` ({sha[:12]}) better than every other variant: pass rate "
            f"{winner.pass_rate:.1%} over {winner.trials} trials, p = {verdict.p_value:.3g} (Holm-adjusted).\n\n"
            + "\n".join(f"- `{v.ref}`: {v.pass_rate:.1%} of {v.trials}" for v in verdict.variants
                        if v.pass_rate is not None))
    return pulls.open_pull(c, actor, owner, name, f"Promote {ref}, the winner of experiment {experiment.id}",
                           body, head, default)
