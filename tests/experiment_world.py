"""A template with variants planted for experiments: each variant's prompt holds a `coin: P`
line, so the tests' model server (tests/modelserver.py) answers `heads` with probability P,
deterministically per (prompt, repetition); every case asserts `heads` in the output. So a
variant's true pass rate is P, and a winner or a tie is planted by the choice of P."""
from __future__ import annotations

import base64
import json

from tests.unit.usecases import MINIMAL

CASES = 20


def files(p: float, cases: int = CASES, delay_ms: int = 0, label: str = "") -> dict[str, bytes]:
    config = {**MINIMAL["promptConfig"], "parameters": [{"name": "topic", "type": "string", "required": True}],
              "userPromptTemplate": f"coin: {p}\n" + (f"delay-ms: {delay_ms}\n" if delay_ms else "") +
                                    (f"Variant {label}.\n" if label else "") + "Flip for {{ topic }}."}
    manifest = {**MINIMAL, "promptConfig": config}
    tests = [{"name": f"case-{i:02d}", "parameters": {"topic": f"topic {i}"},
              "assert": [{"type": "contains", "value": "heads", "target": "output"}]} for i in range(cases)]
    return {"template.json": json.dumps(manifest, indent=2).encode(),
            "tests/cases.json": json.dumps(tests, indent=2).encode()}


def plant(commit, template, variants: dict[str, float], cases: int = CASES, delay_ms: int = 0) -> None:
    """Commit each variant on its branch (`commit(template, files, branch)`, as tests/unit/usecases.World.commit)."""
    for branch, p in variants.items():
        commit(template, files(p, cases, delay_ms, branch), branch)


def make_via_api(client, owner: str, name: str, variants: dict[str, float], cases: int = CASES) -> None:
    """The template made over the REST API (`client`: httpx on /api/v1 as `owner`), the first
    variant on main and each other on a branch of its own made from it."""
    assert client.post("/templates", json={"name": name}).status_code == 201
    parent = None
    for branch, p in variants.items():
        changes = [{"path": path, "content_base64": base64.b64encode(data).decode()}
                   for path, data in files(p, cases, label=branch).items()]
        body = {"branch": "main", "parent": parent, "message": f"{branch}\n", "changes": changes}
        if parent is not None:
            body["new_branch"] = branch
        made = client.post(f"/templates/{owner}/{name}/commits", json=body)
        assert made.status_code == 201, made.text
        parent = parent or made.json()["sha"]
