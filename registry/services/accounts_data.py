"""A user's own data and the admins' hold on accounts: the export of everything the registry
keeps about the caller (`GET /api/v1/user/export`), deleting an account (each owned template
deleted or handed to another user as the owner says; the record of what happened kept, with a
stable pseudonym where their name stood), and disabling, enabling, promoting and listing users.
"""
from __future__ import annotations

import datetime
import time
from typing import Any

from .. import indexing
from ..access import Actor
from ..accounts import tokens
from ..container import Container
from ..errors import InvalidField, PermissionDenied, TemplateNotFound, UserNotFound
from ..events import recording
from ..meta import EventFilter, Template, User
from ..meta.records_accounts import Account
from ..settings import secret_key
from . import templates as template_cases
from .accounts_factors import confirm
from .accounts_sessions import SignedIn, has_second_factor, settled

EVENTS_PAGE = 1000


def _iso(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.datetime.fromtimestamp(at, tz=datetime.UTC).isoformat().replace("+00:00", "Z")


def _times(value: Any) -> Any:
    """Every `*_at` and `time` field, wherever it stands, as an ISO 8601 date-time (UTC)."""
    if isinstance(value, list):
        return [_times(v) for v in value]
    if isinstance(value, dict):
        return {k: _iso(v) if (k.endswith("_at") or k == "time") and isinstance(v, int | float) else _times(v)
                for k, v in value.items()}
    return value


def owned_templates(c: Container, user: User) -> list[Template]:
    """Every template the user owns, private ones too (the deletion page lists them)."""
    out: list[Template] = []
    while True:
        items, total = c.meta.templates.page(user.name, len(out), 200)
        out += items
        if not items or len(out) >= total:
            return out


def export_user_data(c: Container, user: User, base_url: str | None = None) -> dict[str, Any]:
    """Everything the registry holds about `user`, as JSON-ready data."""
    account = c.accounts.account(user.id)
    base = (base_url or c.settings.public_base_url()).rstrip("/")
    activity = c.accounts.activity(user.id, user.name)
    events: list[dict[str, Any]] = []
    while True:
        page, total = c.meta.events.page(EventFilter(actor=user.name), len(events), EVENTS_PAGE)
        events += [{"id": e.id, "time": e.time, "action": e.action, "template": e.template, "payload": e.payload,
                    "request_id": e.request_id, "client_ip": e.client_ip} for e in page]
        if not page or len(events) >= total:
            break
    export: dict[str, Any] = _times({
        "profile": {"username": user.name, "display_name": account.display_name, "email": account.user.email,
                    "email_verified": account.email_verified, "is_admin": account.user.is_admin,
                    "disabled": account.disabled, "created_at": account.created_at,
                    "has_password": account.has_password},
        "two_factor": {"totp": account.totp_secret is not None,
                       "recovery_codes_left": c.accounts.recovery_codes_left(user.id),
                       "passkeys": [{"name": k.name, "transports": list(k.transports), "created_at": k.created_at,
                                     "last_used_at": k.last_used_at} for k in c.accounts.passkeys(user.id)]},
        "sso_identities": [{"issuer": i.issuer, "subject": i.subject, "email": i.email, "created_at": i.created_at,
                            "last_used_at": i.last_used_at} for i in c.accounts.identities(user.id)],
        "sessions": [{"id": s.id, "created_at": s.created_at, "last_seen_at": s.last_seen_at, "ip": s.ip,
                      "user_agent": s.user_agent} for s in c.accounts.sessions(user.id)],
        "tokens": [{"id": t.id, "scope": t.scope, "created_at": t.created_at, "expires_at": t.expires_at,
                    "last_used_at": t.last_used_at, "revoked": t.revoked} for t in c.meta.users.list_tokens(user.id)],
        "templates": [{"name": t.full_name, "visibility": t.visibility, "description": t.description,
                       "clone_url": f"{base}/{t.full_name}.git", "created_at": t.created_at,
                       "updated_at": t.updated_at} for t in owned_templates(c, user)],
        "collaborations": activity.collaborations,
        "stars": activity.stars,
        "ratings": activity.ratings,
        "pull_requests": activity.pulls,
        "reviews": activity.reviews,
        "comments": activity.comments,
        "events": events,
    })
    return export


def delete_account(c: Container, who: SignedIn, proof: str | None, templates: dict[str, str | None],
                   reauthenticated: bool = False) -> str:
    """Delete the account, given proof it is the owner (the password, a TOTP code or a recovery
    code; `reauthenticated` instead when the web layer has just had them sign in again through
    single sign-on). `templates` says for each owned template ("owner/name") None (delete it) or
    the user it goes to. Returns the pseudonym that now stands for them in the record."""
    user = settled(who)
    account = c.accounts.account(user.id)
    if not reauthenticated or account.has_password or has_second_factor(c, account):
        confirm(c, account, proof or "")
    owned = {t.full_name: t for t in owned_templates(c, user)}
    missing, unknown = sorted(set(owned) - set(templates)), sorted(set(templates) - set(owned))
    if missing or unknown:
        raise InvalidField("templates", "say for each of your templates whether it is deleted or to whom it goes"
                           + (f"; not said: {', '.join(missing[:10])}" if missing else "")
                           + (f"; not yours: {', '.join(unknown[:10])}" if unknown else ""))
    heirs = {}
    for full_name, heir in templates.items():
        if heir is not None:
            try:
                heirs[full_name] = c.accounts.account_by_name(heir)
            except UserNotFound:
                raise InvalidField("templates", f"{full_name}: there is no user {heir!r} to give it to") from None
            if heirs[full_name].id == user.id or heirs[full_name].disabled:
                raise InvalidField("templates", f"{full_name}: {heir} cannot take it")
    actor = Actor(user, "write")
    for full_name, template in owned.items():
        heir_account = heirs.get(full_name)
        if heir_account is None:
            template_cases.delete(c, actor, template.owner, template.name)
            continue
        with recording(c) as r:
            c.accounts.transfer_template(template.id, heir_account.name)
            moved = c.meta.templates.get_by_id(template.id)
            r.add(user.name, "template.transferred", moved, {"from": user.name, "to": heir_account.name})
        indexing.refresh(c, moved)
    starred = [s["template"] for s in c.accounts.activity(user.id, user.name).stars]
    name = tokens.pseudonym(secret_key(c.settings), user.id, account.created_at)
    with recording(c) as r:
        c.accounts.erase_user(user.id, user.name, name)
        r.add(name, "user.deleted", None, {})
    for full_name in starred:  # their stars went with them: the counts in search change
        owner, _, template_name = full_name.partition("/")
        try:
            indexing.refresh(c, c.meta.templates.get(owner, template_name))
        except TemplateNotFound:
            pass
    return name


# -- admins ---------------------------------------------------------------------------------
def _admin(actor: Actor | None, doing: str) -> None:
    """Operators (the CLI: actor None) and admins."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(f"only admins may {doing}")


def list_users(c: Container, actor: Actor, query: str | None, page: int, per_page: int) -> tuple[list[Account], int]:
    _admin(actor, "list users")
    if query is not None and len(query) > 254:
        raise InvalidField("q", "at most 254 characters")
    return c.accounts.list_accounts(query or None, (page - 1) * per_page, per_page)


def dashboard(c: Container, actor: Actor) -> dict[str, int]:
    """The admin dashboard's counts: accounts, templates, and what happened lately."""
    _admin(actor, "see the dashboard")
    now = time.time()

    def events(action: str, days: float) -> int:
        return c.meta.events.page(EventFilter(action=action, since=now - days * 86400), 0, 1)[1]

    return {"users": c.accounts.list_accounts(None, 0, 1)[1], "templates": c.meta.templates.page(None, 0, 1)[1],
            "sign_ins_24h": events("user.signed_in", 1), "joined_7d": events("user.joined", 7),
            "events_24h": c.meta.events.page(EventFilter(since=now - 86400), 0, 1)[1]}


def set_disabled(c: Container, actor: Actor | None, name: str, disabled: bool) -> User:
    """Disable (every session ends, every token stops working at once) or enable a user."""
    _admin(actor, "disable or enable users")
    account = c.accounts.account_by_name(name)
    if actor is not None and actor.user is not None and actor.user.id == account.id and disabled:
        raise PermissionDenied("you cannot disable your own account")
    with recording(c) as r:
        c.accounts.set_disabled(account.id, disabled)
        ended = c.accounts.end_sessions(account.id) if disabled else 0
        r.add(actor.name if actor else None, "user.disabled" if disabled else "user.enabled", None,
              {"user": name, **({"sessions_ended": ended} if disabled else {}), **({} if actor else {"via": "cli"})})
    return c.accounts.account(account.id).user


def set_admin(c: Container, actor: Actor | None, name: str, is_admin: bool) -> User:
    _admin(actor, "make admins")
    account = c.accounts.account_by_name(name)
    if actor is not None and actor.user is not None and actor.user.id == account.id and not is_admin:
        raise PermissionDenied("you cannot take your own admin rights")
    with recording(c) as r:
        c.accounts.set_admin(account.id, is_admin)
        r.add(actor.name if actor else None, "user.admin_granted" if is_admin else "user.admin_revoked", None,
              {"user": name, **({} if actor else {"via": "cli"})})
    return c.accounts.account(account.id).user


def prune(c: Container) -> int:
    """Drop expired sessions, links and ceremonies (the reconciler's full pass)."""
    return c.accounts.prune(time.time())
