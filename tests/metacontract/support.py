"""What every part of the MetaStore contract shares: a commit id, and a template to hang things on."""
from __future__ import annotations

from registry.meta import MetaStore, Template

SHA = "a" * 40


def add_template(meta: MetaStore, owner: str = "alice", name: str = "t", parent: str | None = None,
                 tid: str | None = None) -> Template:
    return meta.templates.add(Template(tid or f"{owner}-{name}", owner, name, "public", "d", parent, 1.0, 1.0))
