"""RQDispatcher's bookkeeping against fakeredis (the real redis-server is in integration tests)."""
from __future__ import annotations

import fakeredis
import pytest
from rq import Queue
from rq.job import Job

from registry.container import Container
from registry.meta import Status, Template
from registry.settings import Settings
from workers.rq_queue import RQDispatcher, job_id


@pytest.fixture
def setup(tmp_path):
    container = Container.build(Settings(data_dir=tmp_path))
    container.meta.templates.add(Template("t1", "alice", "x", "public", "", None, 0, 0))
    container.meta.checks.add_pending_statuses("t1", "a" * 40, ("validate", "index", "sandbox"))
    redis = fakeredis.FakeRedis()
    return RQDispatcher(redis, container), container, redis


def test_enqueue_is_idempotent_and_sandbox_waits_for_validate(setup):
    dispatcher, registry, redis = setup
    for _ in range(2):
        dispatcher.enqueue("t1", "a" * 40, ["validate", "index", "sandbox"])
    checks = Queue("checks", connection=redis)
    assert sorted(checks.job_ids) == sorted([job_id("validate", "t1", "a" * 40), job_id("index", "t1", "a" * 40)])
    assert Queue("sandbox", connection=redis).job_ids == []  # validate still owed: it chains sandbox
    registry.meta.checks.set_status(Status("t1", "a" * 40, "validate", "success", "ok"))
    dispatcher.enqueue("t1", "a" * 40, ["sandbox"])
    assert Queue("sandbox", connection=redis).job_ids == [job_id("sandbox", "t1", "a" * 40)]


def test_a_job_that_failed_for_good_becomes_an_error_status(setup):
    dispatcher, registry, redis = setup
    dispatcher.enqueue("t1", "a" * 40, ["index"])
    job = Job.fetch(job_id("index", "t1", "a" * 40), connection=redis)
    job.set_status("failed")
    dispatcher.enqueue("t1", "a" * 40, ["index"])
    states = {s.context: s.state for s in registry.meta.checks.get_statuses("t1", "a" * 40)}
    assert states["index"] == "error"
