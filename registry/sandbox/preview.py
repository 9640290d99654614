"""Renders one template's prompts in a confined child process (registry.services.prompts sends the
templates that are not plainly linear here): JSON {system, user, values} on stdin, one JSON line
{system, user, error} on stdout.

    python -m registry.sandbox.preview < input.json
"""
from __future__ import annotations

import json
import sys

from jinja2 import TemplateError

from .runner import ENV, confine

MEMORY_MB = 256
CPU_SECONDS = 2
LIMIT = 200_000


def main() -> int:
    payload = json.loads(sys.stdin.read())  # before the limits: the input is already bounded by its sender
    confine(MEMORY_MB, CPU_SECONDS, CPU_SECONDS + 1)
    out: dict[str, str | None] = {"system": "", "user": "", "error": None}
    try:
        for key in ("system", "user"):
            out[key] = ENV.from_string(str(payload.get(key, ""))).render(payload.get("values") or {})[:LIMIT]
    except (TemplateError, RecursionError, ValueError, TypeError, ArithmeticError, MemoryError) as exc:
        out = {"system": "", "user": "", "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
