"""The one object holding what the use cases work on: settings, metadata, blobs, repositories,
the search index, and the listeners that hand landed pushes and requested runs to a queue.

It is built in one place per process (`workers.bootstrap`, called by the CLI's entry points),
finished: its listeners, queue depths and usage peers are given at construction and nothing
changes it afterwards. It is passed explicitly to every use case, view, dispatcher and job;
nothing builds a second one from the environment. One container means one MetaStore connection
pool and one search index writer per process.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .accounts.store import AccountRepository
from .drafts.bus import Note
from .git import RepoStore
from .git.policy import RefUpdate
from .git.repo import TemplateRepo
from .meta import MetaStore, Run, Template, db
from .search import SearchIndex, WhooshIndex
from .search.pg_index import PostgresIndex
from .settings import Settings
from .storage import BlobStore, open_blob_store
from .usage import Peers, UsageCounter

PushListener = Callable[[Template, list[RefUpdate]], None]
RunListener = Callable[[Run], None]
DeliveryListener = Callable[[list[str]], None]
EventListener = Callable[[int], None]
DraftListener = Callable[[Note], None]
UnitListener = Callable[[str, list[int]], None]  # an experiment's id, the units handed out
ChecksListener = Callable[[str, str, list[str]], None]  # template id, sha, contexts


@dataclass(frozen=True)
class Listeners:
    """Who hears what the core announces: whoever queues checks (workers.pipeline, wired in by
    workers.bootstrap); the core only announces."""
    push: tuple[PushListener, ...] = ()
    run: tuple[RunListener, ...] = ()
    delivery: tuple[DeliveryListener, ...] = ()
    event: tuple[EventListener, ...] = ()  # events committed: the newest one's id (live feeds)
    draft: tuple[DraftListener, ...] = ()  # a draft's document or state changed (its rooms, everywhere)
    units: tuple[UnitListener, ...] = ()  # an experiment's units were handed out: queue them
    checks: tuple[ChecksListener, ...] = ()  # checks owed without a push (a pull request's `eval`)


@dataclass(frozen=True)
class Container:
    settings: Settings
    meta: MetaStore
    blobs: BlobStore
    repos: RepoStore
    listeners: Listeners = Listeners()
    usage: UsageCounter = field(default_factory=UsageCounter)
    # Jobs waiting per queue, for operators' metrics (from whoever runs the queue).
    queue_depths: Callable[[], dict[str, int]] | None = None
    _search: list[SearchIndex] = field(default_factory=list, repr=False, compare=False)  # opened on first use
    _search_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def build(cls, settings: Settings, migrate: bool = True, listeners: Listeners = Listeners(),
              queue_depths: Callable[[], dict[str, int]] | None = None, peers: Peers | None = None) -> Container:
        """From settings: the metadata database (migrated to the newest schema, unless the caller
        knows it is), blobs, repos; with the process's listeners, its queue's depths and, beside
        other server processes, the peers its usage counter asks to flush."""
        blobs = open_blob_store(settings)
        return cls(settings, db.open_store(settings, migrate), blobs, RepoStore(blobs, settings.pack_cache),
                   listeners, UsageCounter(peers), queue_depths)

    def close(self) -> None:
        """Let go of the database connections (a process about to fork carries none into its children)."""
        db.dispose(self.meta)

    @property
    def search(self) -> SearchIndex:
        """The gallery's search index, opened on first use (commands that never search don't
        create it); one per container, so one writer per process."""
        with self._search_lock:
            if not self._search:
                if self.settings.search_backend == "postgres":
                    self._search.append(PostgresIndex(db.engine_of(self.meta)))
                else:
                    self._search.append(WhooshIndex(self.settings.data_dir / "search"))
            return self._search[0]

    @property
    def accounts(self) -> AccountRepository:
        """Accounts' sign-in data, sessions and factors, on the metadata database and inside its
        transactions (`meta.atomic()`)."""
        return self.meta.accounts

    def open_repo(self, template: Template) -> TemplateRepo:
        """The template's repository as it is now; use it as a context manager."""
        return self.repos.open(template.id)

    def announce_push(self, template: Template, updates: list[RefUpdate]) -> None:
        """Refs moved (push, merge, fork, import): every listener hears of it once."""
        for listener in self.listeners.push:
            listener(template, updates)

    def announce_run(self, run: Run) -> None:
        for listener in self.listeners.run:
            listener(run)

    def announce_units(self, experiment_id: str, seqs: list[int]) -> None:
        """Units of an experiment were handed out (recorded as queued): the queue runs them."""
        for listener in self.listeners.units:
            listener(experiment_id, seqs)

    def announce_events(self, newest_id: int) -> None:
        """Events were recorded (committed), up to `newest_id`: live feeds may read them now."""
        for listener in self.listeners.event:
            listener(newest_id)

    def announce_draft(self, note: Note) -> None:
        """The server stored a change of a draft (a rebase, a form's edit, a commit): the rooms of
        every process hear of it; they read what was stored from the database."""
        for listener in self.listeners.draft:
            listener(note)

    def announce_checks(self, template_id: str, sha: str, contexts: list[str]) -> None:
        """Pending statuses were recorded outside a push (a pull request opened or moved): the queue
        runs them (the reconciler would, later, if nobody hears)."""
        for listener in self.listeners.checks:
            listener(template_id, sha, contexts)

    def announce_deliveries(self, delivery_ids: list[str]) -> None:
        """Webhook deliveries were recorded (committed): the queue sends them."""
        for listener in self.listeners.delivery:
            listener(delivery_ids)
