"""API tokens: what a token is (never the token, except once at creation)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TokenInfo(BaseModel):
    id: int
    scope: Literal["read", "write", "admin"]
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked: bool


class NewToken(BaseModel):
    scope: Literal["read", "write", "admin"] = "write"
    expires_days: float | None = Field(default=None, gt=0, le=3650)


class CreatedToken(TokenInfo):
    token: str = Field(description="the token itself: shown this once, stored only hashed")
