"""Browser sessions: server-side records the cookie names by a random secret (only its hash is
kept), revocable one by one or all at once, with an idle and an absolute lifetime
(REGISTRY_SESSION_IDLE_HOURS, REGISTRY_SESSION_MAX_DAYS).

A session begins when a first factor passes (password, single sign-on, or a passkey that is
two factors on its own). If the account has a second factor enrolled and the session has not
passed it, `SignedIn.needs_second_factor` says so and the web layer lets it do nothing else; if
REGISTRY_REQUIRE_2FA asks this user for a factor they lack, `must_enrol` says so. Passing a
factor, or any change of privilege, gives the session a new secret (`rotate`): a secret seen
before the change is worth nothing after it.

A session begun with an API token (`start_with_token`: the /login form's token, SPEC's "user +
token") acts with that token's scope, never more, and ends as soon as the token is revoked or
expires (the next request finds it gone). Other sessions act with the user's full rights.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .. import access
from ..accounts import tokens
from ..container import Container
from ..errors import PermissionDenied, TokenNotFound, Unauthenticated
from ..events import recording
from ..meta import User
from ..meta.records_accounts import Account, Session

TOUCH_EVERY = 60.0  # seconds between two writes of a session's last use
MAX_IP = 64
MAX_USER_AGENT = 300


@dataclass(frozen=True)
class SignedIn:
    session: Session
    user: User
    needs_second_factor: bool  # a factor is enrolled and this session has not passed it yet
    must_enrol: bool  # REGISTRY_REQUIRE_2FA asks this user for a factor they have not enrolled
    scope: str = "write"  # what it may do: its token's scope, else "admin" for admins, else "write"

    @property
    def complete(self) -> bool:
        """Signed in for everything (not only for finishing the sign-in)."""
        return not self.needs_second_factor and not self.must_enrol


def settled(who: SignedIn) -> User:
    """The session's user, if it is past its second factor. Changes to the account itself take
    the session, never a bare user: a session still waiting for its second factor knows the
    password, and must not use it to remove the factor it has not passed, move the address or
    delete the account. (A session REGISTRY_REQUIRE_2FA sends to enrol may enrol.)"""
    if who.needs_second_factor:
        raise PermissionDenied("finish signing in with your second factor first")
    return who.user


def has_second_factor(c: Container, account: Account) -> bool:
    return account.totp_secret is not None or bool(c.accounts.passkeys(account.id))


def second_factor_required(c: Container, account: Account) -> bool:
    """Whether REGISTRY_REQUIRE_2FA asks this user for a second factor."""
    policy = c.settings.require_2fa
    return policy == "all" or (policy == "admins" and account.user.is_admin)


def _signed_in(c: Container, session: Session, account: Account, token_scope: str | None = None) -> SignedIn:
    enrolled = has_second_factor(c, account)
    scope = token_scope or ("admin" if account.user.is_admin else "write")
    return SignedIn(session, account.user, enrolled and not session.second_factor,
                    not enrolled and second_factor_required(c, account), scope)


def _token_scope(c: Container, session: Session, now: float) -> str | None:
    """The scope of the token a token sign-in used; None when it has been revoked or expired."""
    try:
        token = c.meta.users.get_token(session.token_id or 0)
    except TokenNotFound:
        return None
    if token.revoked or (token.expires_at is not None and token.expires_at < now) or token.user_id != session.user_id:
        return None
    return token.scope


def start(c: Container, user: User, method: str, ip: str | None = None, user_agent: str | None = None,
          second_factor: bool = False, token_id: int | None = None, token_scope: str | None = None,
          ) -> tuple[str, SignedIn]:
    """A new session for a user whose first factor (`method`: password, sso, passkey, token) just
    passed; its secret, for the cookie, is returned this once. `second_factor`: the method was
    two factors on its own (a user-verified passkey). `token_id`: see `start_with_token`."""
    now = time.time()
    secret = tokens.new_token()
    settings = c.settings
    expires = now + settings.session_max_days * 86400
    with recording(c) as r:
        session = c.accounts.add_session(tokens.hash_secret(secret), user.id, _clip(ip, MAX_IP),
                                         _clip(user_agent, MAX_USER_AGENT), second_factor, now,
                                         min(now + settings.session_idle_hours * 3600, expires), expires,
                                         token_id=token_id)
        r.add(user.name, "user.signed_in", None, {"method": method, "session": session.id})
    return secret, _signed_in(c, session, c.accounts.account(user.id), token_scope)


MAX_TOKEN = 200  # an API token is 47 characters; anything far longer is not one


def start_with_token(c: Container, login: str, token: str, ip: str | None = None,
                     user_agent: str | None = None) -> tuple[str, SignedIn]:
    """A session begun with an API token of the user `login` (username or address) names. It
    acts with the token's scope and ends with the token; a second factor, where enrolled, still
    follows (the token is a first factor, like a password)."""
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise Unauthenticated("invalid token")
    found = c.meta.users.find_token(access.hash_token(token.strip()))
    actor = access.authenticate(c.meta, token.strip())  # revoked, expired, disabled: refused
    assert actor.user is not None and found is not None
    given = login.strip().lower() if isinstance(login, str) else ""
    if given not in (actor.user.name, (actor.user.email or "").lower()) or not given:
        raise Unauthenticated("that token does not belong to that user")
    return start(c, actor.user, "token", ip, user_agent, token_id=found[0].id, token_scope=actor.scope)


def current(c: Container, secret: str | None, now: float | None = None) -> SignedIn | None:
    """The live session a cookie's secret names, or None (unknown, ended, idle or too old, or its
    user disabled: such a session is ended here). Its last use is written at most once a minute."""
    if not tokens.well_formed(secret):
        return None
    now = time.time() if now is None else now
    session = c.accounts.find_session(tokens.hash_secret(secret))
    if session is None:
        return None
    account = c.accounts.account(session.user_id)
    token_scope = _token_scope(c, session, now) if session.token_id is not None else None
    if not session.alive(now) or account.disabled or (session.token_id is not None and token_scope is None):
        c.accounts.end_session(session.user_id, session.id)
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        idle_until = min(now + c.settings.session_idle_hours * 3600, session.expires_at)
        c.accounts.touch_session(session.id, now, idle_until)
    return _signed_in(c, session, account, token_scope)


def rotate(c: Container, secret: str, second_factor: bool | None = None) -> tuple[str, SignedIn]:
    """A new secret for a live session (the old one stops working), at every change of privilege;
    `second_factor=True` when the session has just passed one."""
    signed_in = current(c, secret)
    if signed_in is None:
        raise Unauthenticated("the session has ended: sign in again")
    passed = signed_in.session.second_factor if second_factor is None else second_factor
    fresh = tokens.new_token()
    c.accounts.rotate_session(signed_in.session.id, tokens.hash_secret(fresh), passed)
    session = c.accounts.find_session(tokens.hash_secret(fresh))
    assert session is not None
    return fresh, _signed_in(c, session, c.accounts.account(signed_in.user.id),
                             signed_in.scope if session.token_id is not None else None)


def sign_out(c: Container, secret: str | None) -> None:
    """End the session this secret names (nothing if none)."""
    if not tokens.well_formed(secret):
        return
    session = c.accounts.find_session(tokens.hash_secret(secret))
    if session is not None:
        c.accounts.end_session(session.user_id, session.id)


def my_sessions(c: Container, user: User) -> list[Session]:
    """The user's sessions, most recently used first (the sessions page: device, IP, last seen)."""
    now = time.time()
    return [s for s in c.accounts.sessions(user.id) if s.alive(now)]


def end(c: Container, user: User, session_id: int) -> bool:
    """End one of the user's sessions ("sign out" on the sessions page); others' are not found."""
    with recording(c) as r:
        ended = c.accounts.end_session(user.id, session_id)
        if ended:
            r.add(user.name, "user.session_ended", None, {"session": session_id})
    return ended


def end_others(c: Container, user: User, keep_secret: str | None) -> int:
    """"Sign out everywhere else": every session of the user but the one `keep_secret` names."""
    keep = c.accounts.find_session(tokens.hash_secret(keep_secret)) if tokens.well_formed(keep_secret) else None
    with recording(c) as r:
        ended = c.accounts.end_sessions(user.id, keep=keep.id if keep and keep.user_id == user.id else None)
        r.add(user.name, "user.sessions_ended", None, {"sessions_ended": ended})
    return ended


def session_id_of(c: Container, secret: str | None) -> int | None:
    """The public id of the session a secret names (to keep it while ending the others)."""
    if not tokens.well_formed(secret):
        return None
    session = c.accounts.find_session(tokens.hash_secret(secret))
    return session.id if session is not None else None


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None
