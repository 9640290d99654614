"""A template with variants planted for experiments: each variant's prompt holds a `coin: P`
line, so the tests' model server (tests/modelserver.py) answers `heads` with probability P,
deterministically per (prompt, repetition); every case asserts `heads` in the output. So a
variant's true pass rate is P, and a winner or a tie is planted by the choice of P."""
from __future__ import annotations

import json
from pathlib import Path

from tests.unit.usecases import MINIMAL

CASES = 20


def files(p: float, cases: int = CASES, delay_ms: int = 0) -> dict[str, bytes]:
    config = {**MINIMAL["promptConfig"], "parameters": [{"name": "topic", "type": "string", "required": True}],
              "userPromptTemplate": f"coin: {p}\n" + (f"delay-ms: {delay_ms}\n" if delay_ms else "") +
                                    "Flip for {{ topic }}."}
    manifest = {**MINIMAL, "promptConfig": config}
    tests = [{"name": f"case-{i:02d}", "parameters": {"topic": f"topic {i}"},
              "assert": [{"type": "contains", "value": "heads", "target": "output"}]} for i in range(cases)]
    return {"template.json": json.dumps(manifest, indent=2).encode(),
            "tests/cases.json": json.dumps(tests, indent=2).encode()}


def plant(commit, template, variants: dict[str, float], cases: int = CASES, delay_ms: int = 0) -> None:
    """Commit each variant on its branch (`commit(template, files, branch)`, as tests/unit/usecases.World.commit)."""
    for branch, p in variants.items():
        commit(template, files(p, cases, delay_ms), branch)


__all__ = ["CASES", "Path", "files", "plant"]
