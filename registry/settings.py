"""One frozen settings object, built once from the environment (see SPEC.md, Configuration)."""
from __future__ import annotations

import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# List prices (USD per 1M input and output tokens) of common models, as published by their vendors
# in 2025; a model missing here has no price, and its `cost` assertions say so.
MODEL_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1": (2.00, 8.00), "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40), "o3-mini": (1.10, 4.40), "claude-3-5-haiku-latest": (0.80, 4.00),
    "claude-3-5-sonnet-latest": (3.00, 15.00), "claude-sonnet-4-0": (3.00, 15.00), "claude-opus-4-0": (15.00, 75.00),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", frozen=True, extra="ignore")

    data_dir: Path = Path("./.registry")
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    # Where `local` storage keeps repo blobs; several nodes on one host may share it.
    blob_dir: Path | None = None
    redis_url: str | None = None
    # Metadata database: unset = SQLite in data_dir; postgresql://user@host:port/db = PostgreSQL.
    database_url: str | None = None
    # Gallery search: whoosh files in data_dir, or PostgreSQL full text (the default on PostgreSQL).
    search: Literal["whoosh", "postgres"] | None = None
    sandbox: Literal["local", "fargate"] = "local"
    base_url: str | None = None
    # Largest pack a single push may send; larger pushes are refused whole.
    max_push_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    # Largest single file a push may add (its inflated size, read from the object header).
    max_file_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # Objects one push may hold (its pack header's count, checked before any is read): each costs
    # the indexer some hundreds of bytes however small it is. jinja's whole history is 16,000.
    max_push_objects: int = Field(default=200_000, gt=0)
    # Largest JSON or form request body (git requests are bounded by max_push_bytes).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Requests per minute per client IP without valid credentials / per token; 0 = no limit.
    rate_limit_anonymous: int = Field(default=300, ge=0)
    rate_limit_token: int = Field(default=5000, ge=0)
    # GraphQL: the most one query may cost (computed before it runs), and the points per minute a
    # token (or, without one, a client IP) may spend, in the rate limiter's store; 0 = no budget.
    graphql_max_cost: int = Field(default=5000, gt=0)
    graphql_cost_per_minute: int = Field(default=50_000, ge=0)
    graphql_cost_per_minute_anonymous: int = Field(default=10_000, ge=0)
    # One of several server processes whose private memory (what it does not share with the
    # others: heap grown by large pushes and kept, caches) passes this many MB, while its queue is
    # idle, finishes its requests and is replaced by a fresh fork; 0 = never.
    serve_recycle_mb: int = Field(default=72, ge=0)
    # Checks pipeline: worker heartbeat (a killed worker's job is retried after ~2 of these),
    # RQ registry maintenance, and how often owed-but-unqueued checks are handed over again.
    job_heartbeat_seconds: int = Field(default=10, ge=1)
    worker_maintenance_seconds: int = Field(default=60, ge=1)
    reconcile_seconds: float = Field(default=10.0, gt=0)
    requeue_after_seconds: float = Field(default=300.0, gt=0)
    # Sandbox runs: wall-clock limit, memory and vCPUs per run (local rlimits; Fargate task size
    # comes from its task definition, these figures price it).
    sandbox_timeout_seconds: float = Field(default=30.0, gt=0)
    sandbox_memory_mb: int = Field(default=1024, ge=128)
    sandbox_vcpu: float = Field(default=0.25, gt=0)
    # Fargate on-demand prices (us-east-1, Linux/x86): per vCPU-second and per GB-second.
    price_vcpu_second: float = Field(default=0.04048 / 3600, ge=0)
    price_gb_second: float = Field(default=0.004445 / 3600, ge=0)
    # REGISTRY_SANDBOX=fargate: where tasks run (subnets and security groups comma-separated),
    # where their logs go, and the longest pause between two polls of a task.
    fargate_cluster: str = "sandbox"
    fargate_task_definition: str = "sandbox"
    fargate_container: str = "sandbox"
    fargate_subnets: str = ""
    fargate_security_groups: str = ""
    fargate_assign_public_ip: bool = False
    fargate_log_group: str = "/registry/sandbox"
    fargate_log_stream_prefix: str = "sandbox"
    fargate_poll_max_seconds: float = Field(default=10.0, gt=0)
    # An OpenAI- or Anthropic-compatible endpoint for tests that target the model's output.
    sandbox_provider_url: str | None = None
    sandbox_provider_kind: Literal["openai", "anthropic"] = "openai"
    sandbox_provider_model: str = "gpt-4o-mini"
    sandbox_provider_key: str | None = None
    # A model call's attempts (429s, 5xx and connection failures are retried) and first backoff.
    sandbox_provider_attempts: int = Field(default=4, ge=1, le=10)
    sandbox_provider_backoff_s: float = Field(default=0.5, ge=0, le=10)
    # Model prices, USD per 1M tokens [input, output], by model (or kind:model): the one table
    # runs, evaluations and experiments are priced from. REGISTRY_MODEL_PRICES (JSON) replaces it.
    model_prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(MODEL_PRICES))
    # Monthly model spend per owner (UTC calendar month) past which runs are refused; unset = none.
    run_budget_usd: float | None = Field(default=None, ge=0)
    # Signs browser session cookies; unset = a key kept in data_dir (set it when several api
    # processes serve the pages).
    secret_key: str | None = None
    # Events: recorded with every change (off only to measure their cost), kept this many days.
    record_events: bool = True
    event_retention_days: float = Field(default=365.0, gt=0)
    # Webhooks: targets allowed although loopback/private/link-local (host[:port] or CIDR,
    # comma-separated), the wait for a receiver, the first retry's delay (doubling after each
    # failure) and the attempts before a delivery is `failed`.
    webhook_allow: str = ""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_backoff_seconds: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=6, ge=1)
    # A/B experiments: units (one variant's cases, once) of one experiment queued or running at
    # once (the bound on its calls toward the model), and the bounds of what one may ask for.
    experiment_concurrency: int = Field(default=4, ge=1)
    experiment_max_variants: int = Field(default=5, ge=2)
    experiment_max_repetitions: int = Field(default=20, ge=1)
    experiment_max_cases: int = Field(default=100, ge=1)
    experiment_max_trials: int = Field(default=5000, ge=1)  # variants x cases x repetitions
    experiment_unit_cases: int = Field(default=10, ge=1)  # cases per unit: one sandbox run, within its timeout
    # Where immutable packs fetched from the blob store are kept between requests.
    pack_cache_dir: Path | None = None
    # Accounts: who may join at /join (open, with an admin's invite link, or nobody), mail for
    # address verification and password resets (smtp:// or smtps://user:pass@host:port; unset =
    # no mail, admins reset), who must have a second factor to use the web, single sign-on through
    # an OpenID Connect provider (discovery from the issuer; the name is the button's).
    signup: Literal["open", "invite", "closed"] = "open"
    smtp_url: str | None = None
    mail_from: str | None = None
    require_2fa: Literal["none", "admins", "all"] = "none"
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str | None = None
    # Web sessions (not in SPEC.md): ended after this long without a request, and this long after
    # sign-in whatever happens.
    session_idle_hours: float = Field(default=72.0, gt=0)
    session_max_days: float = Field(default=14.0, gt=0)
    # Live co-editing of drafts (not in SPEC.md): the largest WebSocket message, the messages and
    # bytes one connection may send per second (ten seconds' worth at once), the largest file a
    # draft holds, how often a connection's session and role are checked again, and how often a
    # draft's rooms read what other processes stored (a safety net under Redis's notes).
    draft_max_message_bytes: int = Field(default=256 * 1024, gt=0)
    draft_messages_per_second: float = Field(default=60.0, gt=0)
    draft_bytes_per_second: float = Field(default=256 * 1024, gt=0)
    draft_max_text_bytes: int = Field(default=1024 * 1024, gt=0)
    draft_recheck_seconds: float = Field(default=30.0, gt=0)
    draft_poll_seconds: float | None = Field(default=None, gt=0)
    # Operating it: /metrics needs `Authorization: Bearer` with this token when set; logs are one
    # line per request and per job, as text or as one JSON object per line.
    metrics_token: str | None = None
    log_format: Literal["text", "json"] = "text"

    @field_validator("model_prices", mode="before")
    @classmethod
    def _prices_from_json(cls, value: object) -> object:
        """JSON text too (as the environment gives it to a caller that passes it on as a value)."""
        return json.loads(value) if isinstance(value, str) else value

    @property
    def search_backend(self) -> str:
        return self.search or ("postgres" if self.database_url else "whoosh")

    @property
    def metadata_db(self) -> Path:
        return self.data_dir / "registry.sqlite3"

    @property
    def pack_cache(self) -> Path:
        return self.pack_cache_dir or (self.data_dir / "cache" / "packs")

    @staticmethod
    def split(value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]

    def public_base_url(self, host: str = "127.0.0.1", port: int = 8000) -> str:
        return (self.base_url or f"http://{host}:{port}").rstrip("/")


def secret_key(settings: Settings) -> str:
    """REGISTRY_SECRET_KEY, or a key made once and kept in the data directory (one server). It
    signs session cookies and keys the pseudonyms of deleted accounts."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
