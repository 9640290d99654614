"""Names of users and templates (SPEC: ^[a-z0-9][a-z0-9._-]{0,62}$, not ending in .git), and
the rules a new account's username and email address follow (`/join`, single sign-on and
`registry user add` alike)."""
from __future__ import annotations

import re

from .errors import InvalidField, InvalidName

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
NAME_RULE = "use 1-63 of a-z 0-9 . _ - , starting with a letter or digit, no '..', not ending in .git"

# Usernames that would shadow one of the site's own paths (`/{owner}` is a user's page beside
# `/login`, `/settings`, ...), or pass for the site or its staff. Compared in lower case.
RESERVED = frozenset({
    "about", "account", "accounts", "admin", "administrator", "api", "assets", "auth", "blog", "contact",
    "dashboard", "deleted", "docs", "explore", "favicon.ico", "ghost", "graphiql", "graphql", "healthz", "help", "home",
    "join", "login", "logout", "metrics", "new", "notifications", "oauth", "oidc", "openapi.json", "org",
    "orgs", "organization", "organizations", "password", "pulls", "register", "registry", "registry-bot",
    "reset", "robots.txt", "search", "security", "settings", "signin", "signout", "signup", "site",
    "sitemap.xml", "sso", "static", "staff", "status", "support", "system", "terms", "privacy", "user",
    "users", "verify", "webmaster", "well-known", "www", "anonymous", "nobody", "null", "none", "undefined"
})

# WHATWG HTML's "valid e-mail address" (what <input type=email> accepts), bounded by RFC 5321:
# a mailbox of at most 254 octets with a local part of at most 64.
EMAIL_RE = re.compile(r"[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                      r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+")
EMAIL_MAX = 254


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or len(name) > 63 or not NAME_RE.fullmatch(name) or name.endswith(".git") \
            or ".." in name:
        raise InvalidName(f"invalid {what} {name!r}: {NAME_RULE}", name=name)
    return name


def check_username(name: str) -> str:
    """A new account's name: the SPEC name rule, and none of the reserved words."""
    if not isinstance(name, str) or len(name) > 63 or not NAME_RE.fullmatch(name) or name.endswith(".git") \
            or ".." in name:
        shown = name[:70] if isinstance(name, str) else name
        raise InvalidName(f"invalid username {shown!r}: {NAME_RULE}", name=shown, field="username",
                          reason=NAME_RULE)
    if name.lower() in RESERVED:
        raise InvalidName(f"username {name!r} is reserved", name=name, field="username",
                          reason="this name is reserved")
    return name


def normalize_email(email: str) -> str:
    """An address as stored and compared: syntax checked, bounded, in lower case."""
    if not isinstance(email, str):
        raise InvalidField("email", "an email address is required")
    email = email.strip()
    if not email:
        raise InvalidField("email", "an email address is required")
    if len(email) > EMAIL_MAX:
        raise InvalidField("email", f"at most {EMAIL_MAX} characters")
    if not EMAIL_RE.fullmatch(email) or len(email.split("@", 1)[0]) > 64:
        raise InvalidField("email", "not a valid email address")
    return email.lower()
