"""Backup and restore figures for 1,000 templates (issue 36): a registry of 1,000 templates, each
with two commits of a template.json, its prompts in files, a README and test cases (made in
process, through the same use cases as a push); then `registry backup` into a directory (time,
bytes), again with nothing new (incremental: no pack copied), again after 50 more pushes,
`registry restore` onto a fresh data dir, and `registry verify` of it (git fsck per template).

    make bench   (or: python -m bench.bench_backup [--templates 1000])
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.bench_check import template_files
from registry.git.policy import RefUpdate
from registry.git.write import commit_files
from registry.services import backups, push, templates, users
from registry.settings import Settings
from workers.bootstrap import bootstrap


def _commit(c, template, files: dict[str, bytes], message: str) -> None:
    with c.open_repo(template) as repo:
        old = repo.ref_value("refs/heads/main")
        sha = commit_files(repo, files, message, "Bench <b@example.com>", "main")
    push.landed(c, template, [RefUpdate("refs/heads/main", old, sha)])


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--templates", type=int, default=1000)
    n = parser.parse_args().templates
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp_name:
        tmp = Path(tmp_name)
        c = bootstrap(Settings(data_dir=tmp / "data"), "cli").container
        users.add_user(c, "alice")
        actor = users.authenticate(c, users.create_token(c, "alice", "write"))
        started = time.perf_counter()
        made = []
        for i in range(n):
            t = templates.create(c, actor, f"bench-{i}")
            files = template_files()
            _commit(c, t, files, "first")
            files["README.md"] += f"\nRevision {i}.\n".encode()
            _commit(c, t, files, "second")
            made.append(t)
        print(f"{n} templates, 2 commits each, made in {time.perf_counter() - started:.0f} s; "
              f"blobs {_size(tmp / 'data' / 'blobs') / 1e6:.1f} MB")
        dest = tmp / "backups"
        first = backups.backup(c, str(dest))
        print(f"backup: {first.seconds:.1f} s, {first.packs_copied} packs copied, {_size(dest) / 1e6:.1f} MB written")
        again = backups.backup(c, str(dest))
        print(f"backup again, nothing new: {again.seconds:.1f} s, {again.packs_copied} packs copied, "
              f"{again.packs_reused} reused")
        for t in made[:50]:
            _commit(c, t, {**template_files(), "notes.md": b"more\n"}, "third")
        later = backups.backup(c, str(dest))
        print(f"backup after 50 pushes: {later.seconds:.1f} s, {later.packs_copied} packs copied "
              f"({later.bytes_copied / 1e3:.0f} kB)")
        c.close()
        fresh = Settings(data_dir=tmp / "restored")
        restored = backups.restore_backup(fresh, str(dest), force=False)
        print(f"restore onto a fresh data dir (search index rebuilt): {restored.seconds:.1f} s for the files, "
              f"{restored.packs} packs, {restored.bytes / 1e6:.1f} MB")
        node = bootstrap(fresh, "cli").container
        started = time.perf_counter()
        report = backups.verify_all(node)
        print(f"verify (git fsck --strict per template): {time.perf_counter() - started:.1f} s, "
              f"{report.templates} templates, {len(report.problems)} problems")
        node.close()


if __name__ == "__main__":
    main()
