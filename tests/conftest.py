from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.services import aws_env, make_bucket, moto_server


@pytest.fixture(scope="session", autouse=True)
def _no_token_in_any_log(tmp_path_factory) -> Iterator[None]:
    """After every test of the session (of this xdist worker): no token it made is in any log its
    servers, workers and commands wrote (REGISTRY_LOG_FORMAT's request and job lines included)."""
    yield
    from tests import secrets_seen

    leaked = secrets_seen.leaks(tmp_path_factory.getbasetemp())
    assert not leaked, "tokens in logs:\n" + "\n".join(leaked[:20])


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


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """A real OpenID provider (tests/oidc): `.issuer`, `.client_id`, `.client_secret`,
    `.redirect_uri` (a held port nothing answers on), `.password` (any username signs in with it),
    `.register(redirect_uri)` for a client of a relying party started later."""
    from tests.oidc import run_provider

    with run_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) keeping what it receives: `.url` for REGISTRY_SMTP_URL,
    `.wait_for_mail(to, timeout)`; tests.mail.first_link(message) for the link in it."""
    from tests.mail import smtp_server as serve

    with serve() as mailbox:
        yield mailbox


# Files that take longest first, so that with xdist (--dist loadfile hands out files in this
# order) no long file starts last and runs alone at the end. Measured with --durations=0.
SLOW_FIRST = ("test_openapi_conformance", "test_openapi_conformance_b", "test_openapi_conformance_c", "test_serve_workers", "test_import", "test_s3_faults", "test_two_nodes",
              "test_queue_recovery", "test_postgres_node", "test_forks", "test_webhooks", "test_sandbox_fargate",
              "test_limits", "test_accounts_abuse", "test_accounts_in_browser", "test_accounts_web", "test_client", "test_pipeline", "test_events", "test_tokens", "test_push_race",
              "test_search_api", "test_database_restart", "test_review_in_browser", "test_social_in_browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: the rest keep their order


@pytest.fixture
def model_server():
    """The tests' own model server (tests/modelserver.py), fresh for each test: `.url` (OpenAI's
    base, for SANDBOX_PROVIDER_URL), `.env(kind, model)`, `.fail(status, times, retry_after)`,
    `.slow(seconds)`, `.requests`; it answers deterministically from the prompt."""
    from tests.modelserver import model_server as serve

    with serve() as server:
        yield server
