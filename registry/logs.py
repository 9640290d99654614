"""Logs: one line per record, as text or as one JSON object (`REGISTRY_LOG_FORMAT`), each with
the time (UTC), level, logger and message, the request id and trace id of the work it belongs
to, and the fields its caller gave (`extra={"fields": {...}}`: the request log's user, template,
route, status, duration and bytes; a job's kind, outcome and duration).

What is logged is chosen by the callers, never dumped: no header, query string, body or
credential is a field, so no token reaches a log (a test greps the suite's logs for every token
it made)."""
from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from . import telemetry
from .events.record import REQUEST

ACCESS = "registry.access"  # one line per request
JOBS = "registry.jobs"  # one line per queue job


def _stamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _context(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = getattr(record, "fields", None)
    if isinstance(fields, Mapping):
        out.update(fields)
    if "request_id" not in out and (request_id := REQUEST.get().request_id) is not None:
        out["request_id"] = request_id
    if "trace_id" not in out and (found := telemetry.ids()) is not None:
        out["trace_id"], out["span_id"] = found
    return out


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {"time": _stamp(record), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        body.update({k: v for k, v in _context(record).items() if v is not None})
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={_quoted(v)}" for k, v in _context(record).items() if v is not None)
        line = f"{_stamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        line += f" {extra}" if extra else ""
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _quoted(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c in '"=' for c in text) else text


def configure(log_format: str, level: int = logging.WARNING) -> None:
    """The process's logging: one handler on stderr in the chosen format; warnings and above from
    everyone, and the request and job lines (INFO) of the registry's own loggers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in (ACCESS, JOBS, "registry.telemetry"):
        logging.getLogger(name).setLevel(logging.INFO)
