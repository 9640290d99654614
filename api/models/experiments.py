"""Experiments' request and response bodies (SPEC: `POST .../experiments {variants, cases?,
repetitions, provider?}`, `GET .../experiments/{id}` -> `{state, variants: [{ref, pass_rate,
interval, latency_ms, cost}], winner?, p_value}`); the fields past SPEC's are listed in README."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NewExperiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: list[str] = Field(min_length=2, max_length=50, description="refs: branches, tags or commits")
    cases: list[str] | None = Field(default=None, max_length=1000, description="names of test cases (default: all)")
    repetitions: int = Field(default=1, ge=1, le=1000)
    provider: str | None = Field(default=None, max_length=100, description="the model to ask (default: configured)")


class Started(BaseModel):
    id: str


class VariantOut(BaseModel):
    ref: str
    sha: str
    trials: int
    passes: int
    pass_rate: float | None
    interval: list[float] | None = Field(description="Wilson 95% interval of the pass rate")
    latency_ms: float | None = Field(description="mean latency of a trial (the model call's, else the case's)")
    latency_ms_interval: list[float] | None = Field(description="bootstrap 95% interval of the mean")
    cost: float | None = Field(description="mean cost of a trial, USD")
    cost_interval: list[float] | None = Field(description="bootstrap 95% interval of the mean")


class ExperimentOut(BaseModel):
    id: str
    template: str
    state: Literal["queued", "running", "finished", "cancelled", "failed"]
    summary: str
    variants: list[VariantOut]
    winner: str | None = Field(default=None, description="present only when one variant is significantly better")
    p_value: float | None = Field(description="the Holm-adjusted p-value that decides (best vs the others)")
    cases: list[str] = Field(description="the names of the cases run (every case the variants share, unless asked)")
    repetitions: int
    provider: str | None
    requested_by: str | None
    progress: dict[str, int] = Field(description="units by state, trials done, trials left out (provider errors)")
    errors: list[str]
    created_at: float
    started_at: float | None
    finished_at: float | None
