"""Where a process is wired, once (cosmicpython's bootstrap): `bootstrap(settings, role)` builds
the container, the dispatcher and the pipeline the process needs and returns them finished. The
pipeline's listeners, the queue's depths and the usage peers are given to the container at
construction; nothing changes the result afterwards, and it is passed explicitly: to the app, to
the embedded queue's jobs (through the dispatcher), to RQ's jobs (through workers.worker).

Roles:
- serve: a server process; checks go to RQ with REGISTRY_REDIS_URL, else to the embedded queue;
  drafts' notes between processes through Redis (else this process's rooms only);
- batch: a command that queues checks and waits for them (`import`, `checks requeue`): the same;
- worker: `registry worker`: the container its jobs run on (their queue is RQ's);
- cli: every other command, and serve's supervisor before it forks: the container alone.

Runtime facts are arguments, never settings: how many processes serve on the port, the peers
the usage counter asks to flush (api.flushboard), whether the schema is migrated already. A
forked server process gets the settings its supervisor read; it never reads the environment.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from registry import telemetry
from registry.container import Container, Listeners
from registry.settings import Settings
from registry.usage import Peers

from .draftbus import LocalBus, make
from .drafts import DraftFollower
from .pipeline import Dispatcher, Pipeline

Role = Literal["serve", "batch", "worker", "cli"]
QUEUEING: tuple[Role, ...] = ("serve", "batch")


@dataclass(frozen=True)
class System:
    """What one process runs on."""

    role: Role
    container: Container
    pipeline: Pipeline | None = None  # the roles that queue checks
    processes: int = 1  # serve: how many processes serve on the port
    # serve: what carries drafts' notes between processes (Redis, or this process alone), and
    # what merges drafts onto their branches when these move
    bus: LocalBus | None = None
    drafts: DraftFollower | None = None

    @property
    def queue(self) -> Pipeline:
        """The pipeline, for the roles that have one."""
        if self.pipeline is None:
            raise RuntimeError(f"a {self.role} process queues no checks")
        return self.pipeline

    @property
    def dispatcher(self) -> Dispatcher:
        return self.queue.dispatcher


def bootstrap(settings: Settings, role: Role, *, processes: int = 1, peers: Peers | None = None,
              migrate: bool = True) -> System:
    """Everything a process of `role` needs, wired. `processes`: how many serve on the port;
    `peers`: the other server processes (none when alone); `migrate`: False when the caller knows
    the schema is at its newest (a forked server process: its supervisor migrated it)."""
    bells = _bells(settings)
    if role in ("serve", "batch", "worker"):  # before the database is opened: its engine is traced
        telemetry.configure(role)
    if role not in QUEUEING:
        return System(role, Container.build(settings, migrate, Listeners(event=bells), peers=peers), None, processes)
    # The container announces to the pipeline, and the pipeline and its dispatcher work on the
    # container: its listeners reach them through this frame, which assigns both before returning.
    pipeline: Pipeline
    dispatcher: Dispatcher
    bus = make(settings.redis_url, settings.data_dir) if role == "serve" else None
    follower = DraftFollower()
    listeners = Listeners(push=(lambda template, updates: pipeline.on_push(template, updates),
                                lambda template, updates: follower.on_push(container, template, updates)),
                          run=(lambda run: pipeline.on_run(run),),
                          units=(lambda experiment_id, seqs: pipeline.on_units(experiment_id, seqs),),
                          checks=(lambda template_id, sha, contexts: pipeline.on_checks(template_id, sha, contexts),),
                          delivery=(lambda delivery_ids: pipeline.on_deliveries(delivery_ids),), event=bells,
                          draft=(bus.announce,) if bus is not None else ())
    container = Container.build(settings, migrate, listeners, lambda: dispatcher.depths(), peers)
    dispatcher = _dispatcher(container)
    pipeline = Pipeline(container, dispatcher)
    return System(role, container, pipeline, processes, bus, follower)


def _bells(settings: Settings) -> tuple[Callable[[int], None], ...]:
    """Who hears that events were committed: every node, through Redis, when there is one."""
    if not settings.redis_url:
        return ()
    from .notify import RedisBell

    return (RedisBell(settings.redis_url),)


def _dispatcher(container: Container) -> Dispatcher:
    """RQ when REGISTRY_REDIS_URL is set, else the embedded in-process queue."""
    if container.settings.redis_url:
        from .rq_queue import RQDispatcher, connect

        return RQDispatcher(connect(container.settings.redis_url), container)
    from .embedded import EmbeddedDispatcher

    return EmbeddedDispatcher(container)
