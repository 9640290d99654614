"""A pull request's evaluation: each test case on the base and on the head, and what changed."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class AssertionOut(BaseModel):
    type: str
    value: Any = Field(default=None, description="as the test case gives it (long values cut)")
    target: Literal["prompt", "output"]
    passed: bool
    reason: str = Field(description="`ok`, or why it failed")


class TokensOut(BaseModel):
    input: int = Field(description="the provider's count when the model was asked, else the prompt's estimate")
    output: int


class CaseSideOut(BaseModel):
    prompt: str = Field(description="the rendered prompts, system then user")
    output: str | None = Field(description="the model's answer; null without a provider or an output assertion")
    passed: bool
    assertions: list[AssertionOut] = Field(description="a case that could not run has one, of type `error`")
    tokens: TokensOut
    latency_ms: float | None
    cost: float | None = Field(description="USD of its model calls at the price table's prices; null: no price")


class CaseOut(BaseModel):
    name: str
    file: str
    base: CaseSideOut | None = Field(description="null when the base has no such case, or it is not evaluated yet")
    head: CaseSideOut | None
    change: Literal["same", "changed", "regression", "fixed"]


class CheckOut(BaseModel):
    state: str
    description: str


class SummarySideOut(BaseModel):
    sha: str | None = Field(description="the commit evaluated: the merge base for `base`")
    state: Literal["done", "pending", "error"] = Field(description="pending: some cases are not evaluated yet")
    cases: int
    evaluated: int
    passed: int
    failed: int
    pass_rate: float | None
    cost: float
    latency_ms: float | None = Field(description="mean over the cases that asked the model")
    tokens: TokensOut
    problems: list[str] = Field(description="why test cases could not be read")
    check: CheckOut | None = Field(default=None, description="the head's `eval` check")


class SummaryOut(BaseModel):
    base: SummarySideOut
    head: SummarySideOut


class EvaluationOut(BaseModel):
    summary: SummaryOut
    cases: list[CaseOut]
