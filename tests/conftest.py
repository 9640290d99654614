from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.services import aws_env, make_bucket, moto_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def s3_bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in aws_env(moto_endpoint).items():
        monkeypatch.setenv(key, value)
    name = f"t-{uuid.uuid4().hex[:12]}"
    make_bucket(moto_endpoint, name)
    return name


# Files that take longest first, so that with xdist (--dist loadfile hands out files in this
# order) no long file starts last and runs alone at the end. Measured with --durations=0.
SLOW_FIRST = ("test_openapi_conformance", "test_serve_workers", "test_import", "test_s3_faults", "test_two_nodes",
              "test_queue_recovery", "test_postgres_node", "test_forks", "test_webhooks", "test_sandbox_fargate",
              "test_limits", "test_client", "test_pipeline", "test_events", "test_tokens", "test_push_race",
              "test_search_api", "test_database_restart", "test_review_in_browser", "test_social_in_browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: the rest keep their order
