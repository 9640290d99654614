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
