"""Per-request data loaders: each read of the schema goes through one, so a query that names the
same template, pull request or list twice (aliases, fragments, the same head template behind
twenty pull requests) reads it once, and a page of pull requests gets its reviews and comments in
two statements, not two per pull request.

Every loader calls a view or a use case (the same access checks as REST), one thread hop per
batch: the views block on the database and the blobs, the event loop must not.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from registry import views
from registry.access import Actor
from registry.container import Container
from registry.errors import RegistryError
from registry.meta.records import Comment, Review, Template
from registry.services import guard, merging, pulls

Named = tuple[str, str]  # (owner, name)


def _each(fn: Callable[[Any], Any], key: Callable[[Any], Any] | None = None) -> DataLoader[Any, Any]:
    """A loader whose batch calls `fn` per key in one thread hop; a domain error fails its key only."""
    def batch(keys: list[Any]) -> list[Any]:
        out: list[Any] = []
        for key in keys:
            try:
                out.append(fn(key))
            except RegistryError as exc:
                out.append(exc)
        return out

    async def load(keys: list[Any]) -> list[Any]:
        return await run_in_threadpool(batch, keys)
    return DataLoader(load, cache_key_fn=key)


class Loaders:
    """One set per request (or per WebSocket operation): what one actor may read, read once."""

    def __init__(self, c: Container, actor: Callable[[], Actor]) -> None:
        self.c, self._actor = c, actor
        a = lambda: self._actor()  # noqa: E731  (the WebSocket's actor is known after the handshake)
        self.detail = _each(lambda k: views.template_detail(c, a(), *k))
        self.page = _each(lambda k: views.template_page(c, a(), *k))
        self.by_id = _each(lambda k: guard.template_by_id(c, a(), k))
        self.versions = _each(lambda k: views.versions(c, a(), *k))
        self.branches = _each(lambda k: views.branches(c, a(), *k))
        self.tags = _each(lambda k: views.tags(c, a(), *k))
        self.forks = _each(lambda k: views.forks(c, a(), *k))
        self.pull = _each(lambda k: pulls.get_pull(c, a(), *k)[1])
        self.pull_files = _each(lambda k: pulls.files(c, a(), *k))
        self.pull_commits = _each(lambda k: pulls.commits(c, a(), *k))
        self.mergeability = _each(lambda k: merging.mergeability(c, a(), *k))
        self.reviews: DataLoader[tuple[str, str, int], list[Review]] = DataLoader(self._reviews)
        self.comments: DataLoader[tuple[str, str, int], list[Comment]] = DataLoader(self._comments)
        self.pull_head = _each(lambda pull: views.pull_head(c, pull), key=lambda pull: pull.head_template_id)
        self.run = _each(lambda k: views.run(c, a(), k))

    @property
    def actor(self) -> Actor:
        return self._actor()

    async def _talk(self, keys: list[tuple[str, str, int]], which: int) -> list[Any]:
        """Reviews (0) or comments (1) of the pull requests asked for, grouped by template."""
        def read() -> list[Any]:
            by_template: dict[Named, list[int]] = {}
            for owner, name, number in keys:
                by_template.setdefault((owner, name), []).append(number)
            found: dict[tuple[str, str, int], Any] = {}
            for (owner, name), numbers in by_template.items():
                try:
                    both = views.pulls_talk(self.c, self.actor, owner, name, numbers)
                except RegistryError as exc:
                    found.update({(owner, name, n): exc for n in numbers})
                    continue
                found.update({(owner, name, n): items for n, items in both[which].items()})
            return [found[k] for k in keys]
        return await run_in_threadpool(read)

    async def _reviews(self, keys: list[tuple[str, str, int]]) -> Sequence[list[Review] | BaseException]:
        return await self._talk(keys, 0)

    async def _comments(self, keys: list[tuple[str, str, int]]) -> Sequence[list[Comment] | BaseException]:
        return await self._talk(keys, 1)

    def prime_template(self, template: Template) -> None:
        self.by_id.prime(template.id, template)

