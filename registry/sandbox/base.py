"""What every place a sandbox run can happen (local process, Fargate task) hands back."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .. import schemas
from ..meta import Run
from .runner import REPORT_PREFIX

LOG_LIMIT = 64 * 1024


@dataclass
class Outcome:
    report: dict[str, Any] | None  # None when the run died before reporting
    error: str | None  # why there is no report: killed, crashed, timed out
    duration_s: float
    cpu_s: float | None
    peak_memory_mb: float | None
    logs: str = ""

    @property
    def metrics(self) -> dict[str, Any]:
        return {"duration_s": self.duration_s, "cpu_s": self.cpu_s, "peak_memory_mb": self.peak_memory_mb}


class Backend(Protocol):
    name: str

    def execute(self, run: Run, payload: dict[str, Any], record_task: Callable[[str], None]) -> Outcome:
        """Run (or adopt `run.task_arn`) to the end; `record_task` is called with a task's id
        as soon as it exists, before any waiting."""
        ...


def split_output(text: str) -> tuple[dict[str, Any] | None, str, str | None]:
    """(report, logs, problem) from a runner's stdout: the report is its last REPORT line, and
    must be valid against sandbox-report.schema.json."""
    report, problem, lines = None, None, []
    for line in text.splitlines():
        if line.startswith(REPORT_PREFIX):
            try:
                report = json.loads(line[len(REPORT_PREFIX):])
            except ValueError:
                report, problem = None, "the run printed an unreadable report"
        else:
            lines.append(line)
    if report is not None:
        errors = list(schemas.validator("sandbox-report.schema.json").iter_errors(report))
        if errors:
            report, problem = None, f"the run's report is invalid: {errors[0].json_path}: {errors[0].message}"
    elif problem is None:
        problem = "the run printed no report"
    logs = "\n".join(lines)
    return report, logs[-LOG_LIMIT:], problem
