"""The one object holding what the use cases work on: settings, metadata, blobs, repositories,
the search index, and the listeners that hand landed pushes and requested runs to a queue.

It is built in one place per process (`Container.build`, called by the CLI's entry points)
and passed explicitly to every use case, view, dispatcher and job; nothing builds a second
one from the environment. One container means one MetaStore connection pool and one search
index writer per process.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .git import RepoStore
from .git.policy import RefUpdate
from .git.repo import TemplateRepo
from .meta import MetaStore, Run, Template, db
from .search import SearchIndex, WhooshIndex
from .search.pg_index import PostgresIndex
from .settings import Settings
from .storage import BlobStore, open_blob_store
from .usage import UsageCounter

PushListener = Callable[[Template, list[RefUpdate]], None]
RunListener = Callable[[Run], None]
DeliveryListener = Callable[[list[str]], None]


@dataclass
class Container:
    settings: Settings
    meta: MetaStore
    blobs: BlobStore
    repos: RepoStore
    # Whoever queues checks subscribes here (workers.pipeline); the core only announces.
    push_listeners: list[PushListener] = field(default_factory=list)
    run_listeners: list[RunListener] = field(default_factory=list)
    delivery_listeners: list[DeliveryListener] = field(default_factory=list)
    usage: UsageCounter = field(default_factory=UsageCounter)
    # Jobs waiting per queue, for operators' metrics (set by whoever runs the queue).
    queue_depths: Callable[[], dict[str, int]] | None = None
    _search: SearchIndex | None = None
    _search_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, settings: Settings, migrate: bool = True) -> Container:
        """From settings: the metadata database (migrated to the newest schema, unless the caller
        knows it is), blobs, repos."""
        blobs = open_blob_store(settings)
        return cls(settings, db.open_store(settings, migrate), blobs, RepoStore(blobs, settings.pack_cache))

    def close(self) -> None:
        """Let go of the database connections (a process about to fork carries none into its children)."""
        db.dispose(self.meta)

    @property
    def search(self) -> SearchIndex:
        """The gallery's search index, opened on first use (commands that never search don't
        create it); one per container, so one writer per process."""
        with self._search_lock:
            if self._search is None:
                if self.settings.search_backend == "postgres":
                    self._search = PostgresIndex(db.engine_of(self.meta))
                else:
                    self._search = WhooshIndex(self.settings.data_dir / "search")
            return self._search

    def open_repo(self, template: Template) -> TemplateRepo:
        """The template's repository as it is now; use it as a context manager."""
        return self.repos.open(template.id)

    def announce_push(self, template: Template, updates: list[RefUpdate]) -> None:
        """Refs moved (push, merge, fork, import): every listener hears of it once."""
        for listener in self.push_listeners:
            listener(template, updates)

    def announce_run(self, run: Run) -> None:
        for listener in self.run_listeners:
            listener(run)

    def announce_deliveries(self, delivery_ids: list[str]) -> None:
        """Webhook deliveries were recorded (committed): the queue sends them."""
        for listener in self.delivery_listeners:
            listener(delivery_ids)
