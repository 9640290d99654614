"""Names of users and templates (SPEC: ^[a-z0-9][a-z0-9._-]{0,62}$, not ending in .git)."""
from __future__ import annotations

import re

from .errors import InvalidName

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name.endswith(".git") or ".." in name:
        raise InvalidName(
            f"invalid {what} {name!r}: use 1-63 of a-z 0-9 . _ - , starting with a letter or digit, "
            "no '..', not ending in .git", name=name)
    return name
