"""Recovery codes: ten single-use codes of 80 random bits each, shown once when TOTP is enrolled
(or the set is renewed) and stored as SHA-256 only (80 random bits need no slow hash). A code is
spent by one conditional UPDATE (AccountRepository.use_recovery_code): two requests with the
same code, one wins."""
from __future__ import annotations

import base64
import hashlib
import secrets

COUNT = 10
_BYTES = 10  # 80 bits: 16 base32 characters
MAX_INPUT = 64


def new_codes() -> list[str]:
    """Ten fresh codes, as shown to the user: four groups of four, lower case."""
    codes = []
    for _ in range(COUNT):
        raw = base64.b32encode(secrets.token_bytes(_BYTES)).decode().lower()
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def normalize(code: str) -> str | None:
    """A code as typed (any case, spaces or dashes anywhere), or None when it cannot be one."""
    if not isinstance(code, str) or len(code) > MAX_INPUT:
        return None
    plain = "".join(ch for ch in code.lower() if ch not in " -\t")
    if len(plain) != 16 or any(ch not in "abcdefghijklmnopqrstuvwxyz234567" for ch in plain):
        return None
    return plain


def hash_code(code: str) -> str:
    plain = normalize(code)
    if plain is None:
        raise ValueError("not a recovery code")
    return hashlib.sha256(plain.encode()).hexdigest()
