"""An in-process container for use-case tests: SQLite and local blobs in a temp dir, three users
and their actors, and helpers to commit files the way a push would."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from registry.access import ANONYMOUS, Actor
from registry.container import Container
from registry.git.policy import RefUpdate
from registry.git.write import commit_files
from registry.meta import Template
from registry.services import push, users
from registry.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"
MINIMAL = json.loads((EXAMPLES / "minimal.template.json").read_text())


@dataclass
class World:
    c: Container
    alice: Actor
    bob: Actor
    carol: Actor
    carol_ro: Actor
    admin: Actor
    anon: Actor = ANONYMOUS

    @classmethod
    def make(cls, tmp: Path) -> World:
        c = Container.build(Settings(data_dir=tmp / "data", sandbox_timeout_seconds=20))
        for name in ("alice", "bob", "carol"):
            users.add_user(c, name)
        users.add_user(c, "root", is_admin=True)
        actor = lambda name, scope="write": users.authenticate(c, users.create_token(c, name, scope))  # noqa: E731
        return cls(c, actor("alice"), actor("bob"), actor("carol"), actor("carol", "read"), actor("root", "admin"))

    def commit(self, template: Template, files: dict[str, bytes], branch: str = "main",
               message: str = "edit\n") -> str:
        """Commit `files` as the whole tree of `branch` and run what a landed push runs."""
        with self.c.open_repo(template) as repo:
            old = repo.ref_value(f"refs/heads/{branch}")
            sha = commit_files(repo, files, message, "T <t@example.com>", branch)
        push.landed(self.c, template, [RefUpdate(f"refs/heads/{branch}", old, sha)])
        return sha


def manifest_files(**changes: object) -> dict[str, bytes]:
    return {"template.json": json.dumps({**MINIMAL, **changes}, indent=2).encode() + b"\n"}
