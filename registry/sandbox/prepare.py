"""Check out a template at a sha for a sandbox run: its resolved manifest (extends applied,
prompt files read) and its test cases (tests/*.json, each file checked against
test-case.schema.json). The result is the runner's whole input: runs need no repo access."""
from __future__ import annotations

from typing import Any

from .. import jsonsafe, schemas
from ..container import Container
from ..errors import PathNotFound
from ..git import browse
from ..manifests import manifest_at
from ..meta import Template

Case = dict[str, Any]


def load_cases(c: Container, template: Template,
               sha: str) -> tuple[dict[str, Any] | None, list[tuple[str, Case]], list[dict[str, str]]]:
    """(resolved manifest, [(file, case)], problems) of a commit; each problem is {path: the
    file, message: a one-line sentence that starts with it}."""
    with manifest_at(c, template, sha) as checked:
        if not checked.ok:
            first = checked.problems[0]
            message = f"template.json {first.path}: the manifest does not validate: {first.message}"
            return None, [], [_problem("template.json", message)]
        with c.open_repo(template) as repo:
            try:
                listing = browse.tree(repo, sha, "tests")
            except PathNotFound:
                listing = {"type": "dir", "entries": []}
        read = checked.files
        assert read is not None
        cases: list[tuple[str, Case]] = []
        problems: list[dict[str, str]] = []
        validator = schemas.validator("test-case.schema.json")
        for entry in listing.get("entries", []):
            if entry["type"] != "file" or not entry["name"].endswith(".json"):
                continue
            try:
                data: Any = jsonsafe.loads(read(entry["path"]) or b"")
            except ValueError as exc:
                problems.append(_problem(entry["path"], f"{entry['path']}: bad test file: invalid JSON ({exc})"))
                continue
            errors = list(validator.iter_errors(data))
            if errors:
                where = f"{entry['path']} {errors[0].json_path}"
                problems.append(_problem(entry["path"], f"{where}: bad test file: {errors[0].message}"))
                continue
            cases += [(entry["path"], case) for case in (data if isinstance(data, list) else [data])]
        return checked.manifest, cases, problems


def _problem(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message}
