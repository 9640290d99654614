"""The sandbox check: read tests/*.json at a commit, run them (locally for now), summarise."""
from __future__ import annotations

import json
from typing import Any

from .. import schemas
from ..git import browse
from ..meta import Status, Template
from .local import run_local


def load_cases(registry, template: Template, sha: str) -> tuple[dict | None, list[tuple[str, dict]], list[str]]:
    """(resolved manifest, [(file, case)], problems) of a commit."""
    from ..checks import manifest_at

    with manifest_at(registry, template, sha) as checked:
        repo = registry.open_repo(template)
        try:
            try:
                listing = browse.tree(repo, sha, "tests")
            except browse.PathNotFound:
                listing = {"type": "dir", "entries": []}
        finally:
            repo.close()
        cases: list[tuple[str, dict]] = []
        problems: list[str] = []
        validator = schemas.validator("test-case.schema.json")
        for entry in listing.get("entries", []):
            if entry["type"] != "file" or not entry["name"].endswith(".json"):
                continue
            try:
                data: Any = json.loads(checked.files(entry["path"]) or b"")
            except ValueError as exc:
                problems.append(f"{entry['path']}: invalid JSON ({exc})")
                continue
            errors = list(validator.iter_errors(data))
            if errors:
                problems.append(f"{entry['path']} {errors[0].json_path}: {errors[0].message}")
                continue
            cases += [(entry["path"], case) for case in (data if isinstance(data, list) else [data])]
        return checked.manifest, cases, problems


def run_sandbox(registry, template: Template, sha: str) -> Status:
    manifest, cases, problems = load_cases(registry, template, sha)
    if problems:
        return Status(template.id, sha, "sandbox", "failure", f"bad test file: {problems[0]}"[:500],
                      [{"path": p.split(" ", 1)[0], "message": p} for p in problems])
    if not cases:
        return Status(template.id, sha, "sandbox", "success", "no test cases (tests/*.json)")
    settings = registry.settings
    outcome = run_local(manifest or {}, cases, timeout_s=settings.sandbox_timeout_seconds,
                        memory_mb=settings.sandbox_memory_mb)
    metrics = f"{outcome.duration_s:.2f} s, cpu {outcome.cpu_s:.2f} s"
    if outcome.error:
        return Status(template.id, sha, "sandbox", "error", f"{outcome.error} ({metrics})"[:500])
    report = outcome.report
    bad = [c for c in report["cases"] if c["outcome"] != "passed"]
    if bad:
        first = bad[0]
        return Status(template.id, sha, "sandbox", "failure",
                      f"case {first['name']!r} ({first['file']}) {first['outcome']}: {first['failures'][0]}"[:500],
                      [{"path": c["file"], "message": f"{c['name']}: {'; '.join(c['failures'])}"} for c in bad])
    return Status(template.id, sha, "sandbox", "success", f"{report['passed']} cases passed ({metrics})")
