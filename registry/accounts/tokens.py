"""The secrets accounts hand out — session ids, one-time link tokens, ceremony handles — made at
random and kept only as their SHA-256 (each carries 256 bits: no salt or slow hash is needed
for a guess to be hopeless), and the pseudonym a deleted account's name becomes in the record."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TypeGuard

DAY = 86400.0
# How long each one-time link works.
LINK_SECONDS = {"invite": 7 * DAY, "reset": 3600.0, "verify": 2 * DAY}
MAX_TOKEN = 256  # longer "tokens" are not ours: refused before any hashing


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def well_formed(token: object) -> TypeGuard[str]:
    return isinstance(token, str) and 0 < len(token) <= MAX_TOKEN


def pseudonym(secret_key: str, user_id: int, created_at: float) -> str:
    """What stands for a deleted account in the events it leaves: the same for all of them, not
    to be turned back into the account without the secret key, and never a username (':')."""
    mac = hmac.new(secret_key.encode(), f"deleted-user:{user_id}:{created_at!r}".encode(), hashlib.sha256)
    return "deleted:" + mac.hexdigest()[:16]
