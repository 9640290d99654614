"""Single sign-on through the OpenID Connect provider of REGISTRY_OIDC_ISSUER (_CLIENT_ID,
_CLIENT_SECRET, _NAME on the button). The login's state, nonce and PKCE verifier are kept
server-side (a challenge keyed by the state, taken once, ten minutes).

An identity (issuer, subject) seen before signs its account in. A new one becomes a new account
(`sso_join`, as REGISTRY_SIGNUP allows), or is linked to an existing account only once its owner
has signed in to it and confirmed (`sso_link`): never by a matching email address alone.
"""
from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

from ..accounts import tokens
from ..accounts.oidc import Claims, OidcClient, Pending
from ..container import Container
from ..errors import AccountDisabled, InvalidField, InvalidInput, InvalidLink, SignupClosed
from ..events import recording
from ..meta import User
from ..meta.records_accounts import Identity
from ..names import check_username
from .accounts import check_display_name

LOGIN_SECONDS = 600.0
LINK_SECONDS = 1800.0
MAX_NEXT = 2000

_clients: dict[tuple[str, str], OidcClient] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class SsoOutcome:
    """What came back from the provider: a known identity's `user`, or a new identity's
    `pending` handle (for sso_join or sso_link) with its claims; `next` as given to sso_begin."""

    user: User | None
    pending: str | None
    claims: Claims
    next: str


def enabled(c: Container) -> bool:
    s = c.settings
    return bool(s.oidc_issuer and s.oidc_client_id)


def button_name(c: Container) -> str:
    return c.settings.oidc_name or "single sign-on"


def _client(c: Container) -> OidcClient:
    s = c.settings
    if not (s.oidc_issuer and s.oidc_client_id):
        raise InvalidInput("single sign-on is not configured on this registry")
    key = (s.oidc_issuer, s.oidc_client_id)
    with _clients_lock:  # one per provider and process: discovery and keys are cached in it
        if key not in _clients:
            _clients[key] = OidcClient(s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret)
        return _clients[key]


def sso_begin(c: Container, redirect_uri: str, next_path: str = "/") -> str:
    """The provider's authorization URL to send the browser to. `next_path` is kept with the
    login and handed back by `sso_finish` (the web layer checks it is a path of this site)."""
    if not isinstance(next_path, str) or len(next_path) > MAX_NEXT:
        next_path = "/"
    url, pending = _client(c).begin(redirect_uri)
    c.accounts.put_challenge(tokens.hash_secret(pending.state), "oidc.login", None,
                             {**asdict(pending), "next": next_path}, time.time() + LOGIN_SECONDS)
    return url


def sso_finish(c: Container, state: str, code: str) -> SsoOutcome:
    """The browser came back with `state` and `code`: the login it names is used up, the code
    exchanged and the ID token verified."""
    taken = c.accounts.take_challenge(tokens.hash_secret(state), "oidc.login", time.time()) \
        if tokens.well_formed(state) else None
    if taken is None:
        raise InvalidLink("this single sign-on attempt has expired or was already used: start again")
    data = taken.data
    pending = Pending(str(data["state"]), str(data["nonce"]), str(data["verifier"]), str(data["redirect_uri"]))
    claims = _client(c).finish(code, pending)
    next_path = str(data.get("next") or "/")
    known = c.accounts.identity(claims.issuer, claims.subject)
    if known is not None:
        account = c.accounts.account(known.user_id)
        if account.disabled:
            raise AccountDisabled(f"the account {account.name} is disabled")
        c.accounts.touch_identity(claims.issuer, claims.subject, time.time())
        return SsoOutcome(account.user, None, claims, next_path)
    handle = tokens.new_token()
    c.accounts.put_challenge(tokens.hash_secret(handle), "oidc.identity", None, asdict(claims),
                             time.time() + LINK_SECONDS)
    return SsoOutcome(None, handle, claims, next_path)


def _identity(c: Container, handle: str) -> Claims:
    taken = c.accounts.take_challenge(tokens.hash_secret(handle), "oidc.identity", time.time()) \
        if tokens.well_formed(handle) else None
    if taken is None:
        raise InvalidLink("this single sign-on attempt has expired or was already used: start again")
    return Claims(**taken.data)


def sso_join(c: Container, handle: str, username: str, invite: str | None = None) -> User:
    """A new account (no password) for a new identity, as REGISTRY_SIGNUP allows; the provider's
    address comes with it when the provider has verified it and no account holds it yet."""
    mode = c.settings.signup
    if mode == "closed":
        raise SignupClosed("joining is closed on this registry: ask an admin for an account")
    if mode == "invite" and not invite:
        raise SignupClosed("joining this registry needs an invite link from an admin")
    name = check_username(username)
    if invite is not None and not tokens.well_formed(invite):
        raise InvalidLink("this invite link is not valid (used, expired or mistyped)")
    with recording(c) as r:  # a refusal below leaves the identity and the invite for another try
        claims = _identity(c, handle)
        if invite and c.accounts.take_link("invite", tokens.hash_secret(invite), time.time()) is None:
            raise InvalidLink("this invite link is not valid (used, expired or mistyped)")
        # Only an address the provider vouches for, and no account holds: an unverified claim to
        # someone's address must not take it from them.
        email = claims.email if claims.email and claims.email_verified \
            and c.accounts.account_by_login(claims.email) is None else None
        account = c.accounts.create_account(name, email, None, email_verified=email is not None,
                                            display_name=_shown(claims.name))
        c.accounts.link_identity(account.id, claims.issuer, claims.subject, claims.email)
        r.add(name, "user.joined", None, {"via": "sso"})
    return account.user


def _shown(name: str | None) -> str | None:
    try:
        return check_display_name(name[:100] if name else None)
    except InvalidField:
        return None  # the provider's name is a courtesy, not a requirement


def sso_link(c: Container, user: User, handle: str) -> Identity:
    """Link a new identity to the signed-in user's account (they confirm: this is theirs)."""
    claims = _identity(c, handle)
    with recording(c) as r:
        identity = c.accounts.link_identity(user.id, claims.issuer, claims.subject, claims.email)
        r.add(user.name, "user.sso_linked", None, {"issuer": claims.issuer})
    return identity


def my_identities(c: Container, user: User) -> list[Identity]:
    return c.accounts.identities(user.id)
