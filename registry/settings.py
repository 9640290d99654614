"""One frozen settings object, built once from the environment (see SPEC.md, Configuration)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", frozen=True, extra="ignore")

    data_dir: Path = Path("./.registry")
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    redis_url: str | None = None
    sandbox: Literal["local", "fargate"] = "local"
    base_url: str | None = None
    # Largest pack a single push may send; larger pushes are refused whole.
    max_push_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    # Largest single file a push may add.
    max_file_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # Checks pipeline: worker heartbeat (a killed worker's job is retried after ~2 of these),
    # RQ registry maintenance, and how often owed-but-unqueued checks are handed over again.
    job_heartbeat_seconds: int = Field(default=30, ge=1)
    worker_maintenance_seconds: int = Field(default=60, ge=1)
    reconcile_seconds: float = Field(default=10.0, gt=0)
    requeue_after_seconds: float = Field(default=300.0, gt=0)
    # Where immutable packs fetched from the blob store are kept between requests.
    pack_cache_dir: Path | None = None

    @property
    def metadata_db(self) -> Path:
        return self.data_dir / "registry.sqlite3"

    @property
    def pack_cache(self) -> Path:
        return self.pack_cache_dir or (self.data_dir / "cache" / "packs")

    def public_base_url(self, host: str = "127.0.0.1", port: int = 8000) -> str:
        return (self.base_url or f"http://{host}:{port}").rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
