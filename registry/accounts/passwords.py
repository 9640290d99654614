"""Passwords: argon2id hashes (argon2-cffi's `PasswordHasher` with its current defaults, so a
hash made under older parameters is re-made at the next successful sign-in) and the policy a
new password meets: 10 characters or more, at most 1,024 bytes of UTF-8 (refused before any
hashing or estimating: the cost of both grows with the input), and not weak by zxcvbn.

`verify_unknown` spends what `verify` spends, so an unknown user and a wrong password take
about the same time.
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import InvalidField

MIN_CHARS = 10
MAX_BYTES = 1024
MIN_SCORE = 3  # zxcvbn's 0-4; below 3 is "guessable" to "very guessable"
ESTIMATE_CHARS = 100  # zxcvbn's time grows with length; what follows adds strength it need not see

_hasher = PasswordHasher()
# zxcvbn keeps the user inputs of a call in a module-global dictionary: two calls at once would
# each score against the other's inputs.
_zxcvbn_lock = threading.Lock()


def check_size(password: str) -> str:
    """The bounds, before anything else is done with the password."""
    if not isinstance(password, str) or not password:
        raise InvalidField("password", "a password is required")
    if len(password) > MAX_BYTES or len(password.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InvalidField("password", f"at most {MAX_BYTES} bytes")
    return password


def check_policy(password: str, user_inputs: Iterable[str | None] = ()) -> str:
    """A new password: bounded, long enough, and not weak (zxcvbn, told the username and email
    so that a password made of them scores as weak)."""
    check_size(password)
    if len(password) < MIN_CHARS:
        raise InvalidField("password", f"at least {MIN_CHARS} characters")
    inputs = [i for i in user_inputs if i]
    inputs += [part for i in inputs for part in i.split("@")]  # the email's local part and domain
    score, warning = _strength(password[:ESTIMATE_CHARS], tuple(inputs))
    if score < MIN_SCORE:
        raise InvalidField("password", "too easy to guess" + (f": {warning.rstrip('.')}" if warning else "")
                           + "; add more words, or make it longer and less predictable")
    return password


def _strength(password: str, inputs: tuple[str, ...]) -> tuple[int, str]:
    from zxcvbn import zxcvbn

    with _zxcvbn_lock:
        result: dict[str, Any] = zxcvbn(password, user_inputs=list(inputs), max_length=ESTIMATE_CHARS)
    feedback = result.get("feedback") or {}
    return int(result["score"]), str(feedback.get("warning") or "")


def hash_password(password: str) -> str:
    return _hasher.hash(check_size(password))


def verify(stored_hash: str, password: str) -> tuple[bool, bool]:
    """Whether `password` matches `stored_hash`, and (when it does) whether the hash should be
    re-made with today's parameters. A password past the bounds never matches."""
    try:
        check_size(password)
    except InvalidField:
        verify_unknown()
        return False, False
    try:
        _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_unknown() -> None:
    """The work of one `verify`, for a user who does not exist or has no password."""
    try:
        _hasher.verify(_dummy_hash(), "not the password")
    except VerificationError:
        pass
