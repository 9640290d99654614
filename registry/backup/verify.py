"""`registry verify`: every template checked, after a restore or at any time.

For each template of the metadata: its refs document exists, every pack it names is stored, its
refs resolve to objects held, `git fsck --strict` finds its objects sound and connected (the C
git CLI, on a bare repository whose packs are the stored files, linked), and each pull request
row has its `refs/pull/N/head`. Across the store: no refs document belongs to no template.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.objects import ObjectID

from ..errors import BackupError, TemplateNotFound
from ..git import RepoStore
from ..git.gc import DOC_SUFFIX
from ..git.repo import TemplateRepo
from ..meta import MetaStore, Template
from ..storage import BlobNotFound

FSCK_TIMEOUT = 600.0
THREADS = 2


@dataclass(frozen=True)
class Problem:
    template: str  # owner/name, or a repo id when no template names it
    message: str


@dataclass
class VerifyReport:
    templates: int = 0
    problems: list[Problem] = field(default_factory=list)


def verify(meta: MetaStore, repos: RepoStore, templates: list[Template],
           progress: Callable[[str], None] = lambda m: None) -> VerifyReport:
    report = VerifyReport(len(templates))
    with ThreadPoolExecutor(THREADS, thread_name_prefix="verify") as pool:
        for i, found in enumerate(pool.map(lambda t: list(_template(meta, repos, t)), templates), 1):
            report.problems += found
            if i % 100 == 0:
                progress(f"{i}/{len(templates)} templates")
    known = {t.id for t in templates}
    for key in repos.blobs.list("repos/"):
        if key.endswith(DOC_SUFFIX) and (repo_id := key[len("repos/"):-len(DOC_SUFFIX)]) not in known:
            report.problems.append(Problem(repo_id, "a refs document that no template names"))
    return report


def _template(meta: MetaStore, repos: RepoStore, template: Template) -> Iterator[Problem]:
    name = template.full_name
    try:
        repo = repos.open(template.id)
    except TemplateNotFound:
        yield Problem(name, "no refs document: the repository is missing")
        return
    with repo:
        doc = repo.doc
        missing = [p for p in doc.packs for ext in (".pack", ".idx") if not repos.blobs.exists(p + ext)]
        for pack in sorted(set(missing)):
            yield Problem(name, f"pack {pack} is named but not stored")
        if missing:
            return
        for ref, sha in sorted(doc.refs.items()):
            if not repo.object_store.contains_packed(ObjectID(sha.encode())):
                yield Problem(name, f"{ref} names {sha}, which no pack holds")
        if not doc.head.startswith("refs/heads/"):
            yield Problem(name, f"HEAD names {doc.head}, not a branch")
        yield from (Problem(name, line) for line in _fsck(repo))
    pulls, _ = meta.pulls.page(template.id, "all", 0, 100_000)
    for pull in pulls:
        if f"refs/pull/{pull.number}/head" not in doc.refs:
            yield Problem(name, f"pull request #{pull.number} has no refs/pull/{pull.number}/head")


def _fsck(repo: TemplateRepo) -> list[str]:
    """`git fsck --strict` on the repository as stored: what it reports as wrong, one line each."""
    with tempfile.TemporaryDirectory(prefix="registry-verify-") as tmp:
        git_dir = Path(tmp) / "repo.git"
        _git(["init", "-q", "--bare", str(git_dir)])
        packs = git_dir / "objects" / "pack"
        try:
            for i, key in enumerate(repo.doc.packs):
                base = repo.object_store.local_pack(key)
                for ext in (".pack", ".idx"):
                    os.symlink(base.with_suffix(ext), packs / f"pack-{i:05d}{ext}")
        except BlobNotFound as exc:
            return [f"a pack could not be read: {exc.message}"]
        lines = [f"{sha} {ref}\n" for ref, sha in sorted(repo.doc.refs.items())]
        (git_dir / "packed-refs").write_text("# pack-refs with: sorted\n" + "".join(lines))
        (git_dir / "HEAD").write_text(f"ref: {repo.doc.head}\n")
        done = _git(["--git-dir", str(git_dir), "fsck", "--strict", "--no-progress", "--no-dangling"])
    if done.returncode == 0:
        return []
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return [f"git fsck: {line}" for line in said[:20]] or [f"git fsck exited {done.returncode}"]


def _git(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=FSCK_TIMEOUT, env=env)
    except FileNotFoundError:
        raise BackupError("git is not installed: `registry verify` runs git fsck") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"git {args[-4] if len(args) > 3 else args[0]} took longer than {FSCK_TIMEOUT:.0f} s") from None
