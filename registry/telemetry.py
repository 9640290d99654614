"""Traces, with OpenTelemetry: spans for what the registry does (git RPCs, checks, sandbox runs,
webhook deliveries, queue jobs), SQL, S3 and outbound HTTP, exported by OTLP over HTTP.

Off, and costless, unless the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces-only
variant) is set: then `configure` installs the SDK, its batch exporter and the SQLAlchemy,
botocore and httpx instrumentations, once per process and before the process opens its
database. Otherwise nothing is installed: the API's tracer is a no-op whose spans cost a
function call, and `carrier()` is empty. Every OTEL_* variable keeps its standard meaning
(service name, sampler, batch delays, headers, ...), read by the SDK itself.

Trace context crosses the queue as a W3C `traceparent` carrier (`carrier()` where a job is
queued, `restored()` where it runs), so a push's checks are children of the push.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span

log = logging.getLogger(__name__)
tracer = trace.get_tracer("registry")
_configured: list[bool] = []


def enabled() -> bool:
    """Whether this process exports traces: an OTLP endpoint is named and the SDK not disabled."""
    named = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return bool(named) and os.environ.get("OTEL_SDK_DISABLED", "").lower() != "true"


def configure(role: str) -> bool:
    """Install the SDK and the instrumentations when traces are on (once per process; a forked
    server process calls it itself, so no exporter thread crosses a fork). Whether they are on."""
    if _configured:
        return _configured[0]
    if not enabled():
        _configured.append(False)
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import OTEL_SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get(OTEL_SERVICE_NAME) or "prompt-registry"
    provider = TracerProvider(resource=Resource.create({"service.name": name, "registry.role": role}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    BotocoreInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    _configured.append(True)
    log.info("traces exported by OTLP (service %s, role %s)", name, role)
    return True


def trace_engine(engine: Any) -> None:
    """Spans for every statement of a SQLAlchemy engine (meta.engine makes each one through here);
    nothing when traces are off."""
    if not (_configured and _configured[0]):
        return
    from opentelemetry import metrics
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    usage = metrics.get_meter("registry").create_up_down_counter("db.client.connections.usage")
    EngineTracer(trace.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine, usage)  # type: ignore[no-untyped-call]


def shutdown() -> None:
    """Send what the batch holds (a process about to end)."""
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "shutdown", None)
    if callable(flush):
        flush()


@contextmanager
def span(name: str, attributes: Mapping[str, str | int | float | bool] | None = None) -> Iterator[Span]:
    """A span around a piece of work, current inside the block (a no-op when traces are off)."""
    with tracer.start_as_current_span(name, attributes=dict(attributes or {})) as current:
        yield current


def note(**attributes: str | int | float | bool | None) -> None:
    """Add attributes to the current span (pack sizes, outcomes): nothing when traces are off."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({k: v for k, v in attributes.items() if v is not None})


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers, for a job to carry; empty when there is none."""
    headers: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(headers)
    return headers


@contextmanager
def restored(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Run the block in the trace context a job carried (none: a trace of its own)."""
    if not headers:
        yield
        return
    token = context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        context.detach(token)


def ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, as hex, for logs and answers; None outside one."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")
