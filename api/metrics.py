"""/metrics: Prometheus text. Counters of this process (requests, rate-limit refusals, push
sizes, webhook attempts made here) and figures read at scrape time that cover every node and
worker: jobs waiting per queue, push-to-final-status latency per check, deliveries by status."""
from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from registry.container import Container
from registry.services import operations

PUSH_BYTES = Histogram("registry_push_bytes", "Size of git push requests (bytes received)",
                       buckets=(1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9))


class _Shared(Collector):
    def __init__(self, container: Container) -> None:
        self.container = container
        self._read_at = float("-inf")
        self._last: operations.Stored | None = None
        self.latency = operations.LatencyHistogram()  # grows by what ended since the last scrape
        self._counted_at = float("-inf")
        self._counted: dict[str, int] = {}

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        c = self.container
        depth = GaugeMetricFamily("registry_queue_depth", "Jobs waiting per queue (embedded: and running)",
                                  labels=["queue"])
        for queue, n in sorted(operations.queue_depths(c).items()):
            depth.add_metric([queue], n)
        yield depth
        latency = HistogramMetricFamily("registry_check_latency_seconds",
                                        "From a push (its checks recorded pending) to each check's final status",
                                        labels=["context"])
        for context, (counts, total, n) in sorted(self.latency.read(c).items()):
            buckets = [(str(b), v) for b, v in zip(operations.LATENCY_BOUNDS, counts, strict=True)]
            latency.add_metric([context], buckets + [("+Inf", n)], total)
        yield latency
        hooks = GaugeMetricFamily("registry_webhook_deliveries", "Webhook deliveries by status", labels=["status"])
        for status, n in sorted(self._deliveries().items()):
            hooks.add_metric([status], n)
        yield hooks
        if (disk := operations.disk(c)) is not None:  # statvfs: free, total
            yield GaugeMetricFamily("registry_data_disk_free_bytes", "Free bytes on the data dir's file system",
                                    value=disk[0])
            yield GaugeMetricFamily("registry_data_disk_total_bytes", "Size of the data dir's file system",
                                    value=disk[1])
        if (stored := self._stored()) is not None:
            yield GaugeMetricFamily("registry_storage_bytes", "Bytes of repository blobs, as last measured (hourly)",
                                    value=stored.bytes)
            yield GaugeMetricFamily("registry_storage_measured_timestamp_seconds",
                                    "When the repository blobs were last measured", value=stored.at)

    def _deliveries(self) -> dict[str, int]:
        """Deliveries by status, counted at most once a minute per process (a count of the whole
        table, which grows with the retention period)."""
        now = time.monotonic()
        if now - self._counted_at > 60:
            self._counted_at, self._counted = now, operations.delivery_counts(self.container)
        return self._counted

    def _stored(self) -> operations.Stored | None:
        """The last storage measurement, read from its blob at most once a minute per process."""
        now = time.monotonic()
        if now - self._read_at > 60:
            self._read_at, self._last = now, operations.stored_bytes(self.container)
        return self._last


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(REGISTRY) + generate_latest(registry)


def shared_registry(container: Container) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Shared(container))
    return registry
