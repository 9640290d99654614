"""Joining and signing in with a password; changing and resetting it; invites; address
verification and the profile. Sessions are in accounts_sessions.py, second factors in
accounts_factors.py, single sign-on in accounts_sso.py, a user's data in accounts_data.py.

Every input is bounded and checked before any slow work (a password is hashed only once the
username, address and password itself have passed), and every refusal of a form's input names
the field (`InvalidField`, `InvalidName`, `AlreadyExists` with `field`). Sign-in answers an
unknown user and a wrong password with the same error in about the same time.
"""
from __future__ import annotations

import logging
import threading
import time

from ..access import Actor
from ..accounts import passwords, tokens
from ..accounts.mail import mailer_for
from ..container import Container
from ..errors import (
    AccountDisabled,
    AlreadyExists,
    InvalidField,
    InvalidInput,
    InvalidLink,
    PermissionDenied,
    SignupClosed,
    WrongCredentials,
)
from ..events import recording
from ..meta import User
from ..meta.records_accounts import Account
from ..names import check_username, normalize_email
from .accounts_sessions import SignedIn, settled

log = logging.getLogger(__name__)

MAX_LOGIN = 254
MAX_DISPLAY_NAME = 100
# Where each one-time link leads (pages of the web layer).
LINK_PATHS = {"invite": "/join?invite=", "reset": "/login/reset?token=", "verify": "/join/verify?token="}


def link_url(c: Container, kind: str, token: str, base_url: str | None = None) -> str:
    return (base_url or c.settings.public_base_url()).rstrip("/") + LINK_PATHS[kind] + token


def mail_enabled(c: Container) -> bool:
    return bool(c.settings.smtp_url)


def _send_later(c: Container, to: str, subject: str, body: str) -> None:
    """Mail in the background: the caller's answer must not take longer when there is someone
    to mail (a reset request for an existing account against one for nobody)."""
    threading.Thread(target=_send, args=(c, to, subject, body), name="mail", daemon=True).start()


def _send(c: Container, to: str, subject: str, body: str) -> bool:
    """Mail one message; a failure is logged, not raised (the change it follows has landed)."""
    mailer = mailer_for(c.settings)
    if mailer is None:
        return False
    try:
        mailer.send(to, subject, body)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        log.warning("could not send mail (%s): %s", subject, exc)
        return False
    return True


# -- joining -------------------------------------------------------------------------------
def invite_email(c: Container, invite: str) -> str | None:
    """The address an unused, unexpired invite was made for (the join form shows it), or None."""
    if not tokens.well_formed(invite):
        return None
    link = c.accounts.peek_link("invite", tokens.hash_secret(invite), time.time())
    return link.email if link is not None else None


def join(c: Container, username: str, email: str, password: str, invite: str | None = None,
         display_name: str | None = None, base_url: str | None = None) -> User:
    """A new account at /join, as REGISTRY_SIGNUP allows: `open` to anyone, `invite` with an
    admin's unused invite link (used up here), `closed` to no one."""
    mode = c.settings.signup
    if mode == "closed":
        raise SignupClosed("joining is closed on this registry: ask an admin for an account")
    invite = invite or None
    if invite is not None and not tokens.well_formed(invite):
        raise InvalidLink("this invite link is not valid (used, expired or mistyped)")
    if mode == "invite" and invite is None:
        raise SignupClosed("joining this registry needs an invite link from an admin")
    name = check_username(username)
    address = normalize_email(email)
    passwords.check_policy(password, (name, address))
    shown = check_display_name(display_name)
    password_hash = passwords.hash_password(password)
    with recording(c) as r:
        if invite is not None and c.accounts.take_link("invite", tokens.hash_secret(invite), time.time()) is None:
            raise InvalidLink("this invite link is not valid (used, expired or mistyped)")
        account = c.accounts.create_account(name, address, password_hash, display_name=shown)
        r.add(name, "user.joined", None, {"via": "invite" if invite else "signup"})
    send_verification(c, account.user, base_url)
    return account.user


def check_display_name(value: str | None) -> str | None:
    """A display name as given, stripped; None for none."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_DISPLAY_NAME or any(ord(ch) < 32 for ch in value):
        raise InvalidField("display_name", f"at most {MAX_DISPLAY_NAME} characters, on one line")
    return value.strip()


# -- signing in ------------------------------------------------------------------------------
def authenticate(c: Container, login: str, password: str) -> User:
    """The user with this username or address and password. Unknown user, no password (single
    sign-on only) and wrong password: the same WrongCredentials, after the same hashing work. A
    hash made under older argon2 parameters is re-made now that the password is known."""
    passwords.check_size(password)
    if not isinstance(login, str) or not login.strip() or len(login) > MAX_LOGIN:
        passwords.verify_unknown()
        raise WrongCredentials("wrong username, email or password")
    account = c.accounts.account_by_login(login)
    if account is None or account.password_hash is None:
        passwords.verify_unknown()
        raise WrongCredentials("wrong username, email or password")
    ok, rehash = passwords.verify(account.password_hash, password)
    if not ok:
        raise WrongCredentials("wrong username, email or password")
    if account.disabled:
        raise AccountDisabled(f"the account {account.name} is disabled")
    if rehash:
        c.accounts.set_password(account.id, passwords.hash_password(password))
    return account.user


# -- passwords -------------------------------------------------------------------------------
def change_password(c: Container, who: SignedIn, current: str, new: str) -> None:
    """A new password, given the current one (an account that has none, made by single sign-on,
    sets its first). Every session but the caller's ends, and any reset link still out stops
    working."""
    user = settled(who)
    account = c.accounts.account(user.id)
    if account.password_hash is not None:
        passwords.check_size(current)
        if not passwords.verify(account.password_hash, current)[0]:
            raise InvalidField("current_password", "this is not your current password")
    passwords.check_policy(new, (account.name, account.user.email))
    new_hash = passwords.hash_password(new)
    with recording(c) as r:
        c.accounts.set_password(user.id, new_hash)
        c.accounts.drop_links(user.id, "reset")
        ended = c.accounts.end_sessions(user.id, keep=who.session.id)
        r.add(user.name, "user.password_changed", None, {"sessions_ended": ended})


def request_reset(c: Container, login: str, base_url: str | None = None) -> None:
    """Mail a single-use reset link to the account's address, if there is such an account. The
    caller hears the same either way (whether an account exists is not for strangers to learn)."""
    if not mail_enabled(c):
        raise InvalidInput("this registry sends no mail: ask an admin to reset your password")
    if not isinstance(login, str) or not login.strip() or len(login) > MAX_LOGIN:
        raise InvalidField("user", "enter your username or email address")
    account = c.accounts.account_by_login(login)
    if account is None or account.disabled or not account.user.email:
        return
    url = _new_link(c, account, "reset", None, base_url)
    _send_later(c, account.user.email, "Reset your password",
          f"Someone (hopefully you) asked to reset the password of {account.name}.\n\n"
          f"Choose a new one here within the hour (the link works once):\n{url}\n\n"
          "If it was not you, ignore this mail: your password stays as it is.\n")


def make_reset_link(c: Container, actor: Actor | None, name: str, base_url: str | None = None) -> str:
    """Operators (`registry user reset-password`, actor None) and admins: a single-use reset link
    for `name`, to hand over by other means than mail."""
    _require_admin(actor, "make reset links")
    return _new_link(c, c.accounts.account_by_name(name), "reset", actor, base_url)


def _new_link(c: Container, account: Account, kind: str, actor: Actor | None, base_url: str | None) -> str:
    token = tokens.new_token()
    with recording(c) as r:
        c.accounts.drop_links(account.id, kind)  # the newest link is the one that works
        c.accounts.add_link(kind, tokens.hash_secret(token), account.id, account.user.email,
                            actor.user.id if actor and actor.user else None, time.time() + tokens.LINK_SECONDS[kind])
        r.add(actor.name if actor else None, f"user.{kind}_link_created", None,
              {"user": account.name, **({} if actor else {"via": "cli"})})
    return link_url(c, kind, token, base_url)


def reset_with_token(c: Container, token: str, new_password: str) -> User:
    """A new password through a reset link (used up here). Every session of the account ends."""
    if not tokens.well_formed(token):
        raise InvalidLink("this reset link is not valid (used, expired or mistyped)")
    link = c.accounts.peek_link("reset", tokens.hash_secret(token), time.time())
    if link is None or link.user_id is None:
        raise InvalidLink("this reset link is not valid (used, expired or mistyped)")
    account = c.accounts.account(link.user_id)
    passwords.check_policy(new_password, (account.name, account.user.email))
    new_hash = passwords.hash_password(new_password)
    with recording(c) as r:
        if c.accounts.take_link("reset", tokens.hash_secret(token), time.time()) is None:
            raise InvalidLink("this reset link is not valid (used, expired or mistyped)")
        c.accounts.set_password(account.id, new_hash)
        ended = c.accounts.end_sessions(account.id)
        if link.email and link.email == account.user.email and not account.email_verified and mail_enabled(c):
            c.accounts.mark_email_verified(account.id, link.email)  # the mail reached them there
        r.add(account.name, "user.password_reset", None, {"sessions_ended": ended})
    return account.user


# -- invites -------------------------------------------------------------------------------
def make_invite(c: Container, actor: Actor | None, email: str, base_url: str | None = None) -> str:
    """Operators (`registry user invite`, actor None) and admins: a single-use invite link for
    `email`, mailed to it when the registry sends mail; returned either way."""
    _require_admin(actor, "invite people")
    address = normalize_email(email)
    if c.accounts.account_by_login(address) is not None:
        raise AlreadyExists("an account with this email address exists", field="email",
                            reason="an account with this email address exists")
    token = tokens.new_token()
    with recording(c) as r:
        c.accounts.add_link("invite", tokens.hash_secret(token), None, address,
                            actor.user.id if actor and actor.user else None, time.time() + tokens.LINK_SECONDS["invite"])
        r.add(actor.name if actor else None, "user.invited", None, {} if actor else {"via": "cli"})
    url = link_url(c, "invite", token, base_url)
    _send(c, address, "You are invited to the prompt template registry",
          f"You are invited to join the prompt template registry.\n\nJoin here within 7 days (the link works once):\n"
          f"{url}\n")
    return url


def _require_admin(actor: Actor | None, doing: str) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(f"only admins may {doing}")


# -- address verification and profile ---------------------------------------------------------
def send_verification(c: Container, user: User, base_url: str | None = None) -> bool:
    """Mail a verification link to the account's address, when there is mail, an address and it
    is not verified yet; whether one was sent."""
    account = c.accounts.account(user.id)
    if not mail_enabled(c) or not account.user.email or account.email_verified:
        return False
    token = tokens.new_token()
    with recording(c):
        c.accounts.drop_links(account.id, "verify")
        c.accounts.add_link("verify", tokens.hash_secret(token), account.id, account.user.email, None,
                            time.time() + tokens.LINK_SECONDS["verify"])
    return _send(c, account.user.email, "Confirm your email address",
                 f"Confirm that {account.user.email} is the address of {account.name} on the prompt template "
                 f"registry:\n{link_url(c, 'verify', token, base_url)}\n")


def verify_email(c: Container, token: str) -> User:
    """The address a verification link was sent to is the account's (used up here); only while it
    still is the account's address."""
    if not tokens.well_formed(token):
        raise InvalidLink("this verification link is not valid (used, expired or mistyped)")
    with recording(c) as r:
        link = c.accounts.take_link("verify", tokens.hash_secret(token), time.time())
        if link is None or link.user_id is None or link.email is None \
                or not c.accounts.mark_email_verified(link.user_id, link.email):
            raise InvalidLink("this verification link is not valid (used, expired or mistyped)")
        account = c.accounts.account(link.user_id)
        r.add(account.name, "user.email_verified", None, {})
    return account.user


def update_profile(c: Container, who: SignedIn, display_name: str | None, email: str | None,
                   base_url: str | None = None) -> Account:
    """The display name, and the address (a new one is unverified until its link is followed)."""
    user = settled(who)
    shown = check_display_name(display_name)
    account = c.accounts.account(user.id)
    address = normalize_email(email) if email is not None and email.strip() else account.user.email
    with recording(c) as r:
        c.accounts.set_profile(user.id, shown)
        if address != account.user.email:
            c.accounts.set_email(user.id, address, verified=False)
            c.accounts.drop_links(user.id, "verify")
            r.add(user.name, "user.email_changed", None, {})
        if shown != account.display_name:
            r.add(user.name, "user.profile_updated", None, {})
    if address != account.user.email:
        send_verification(c, user, base_url)
    return c.accounts.account(user.id)


def account_of(c: Container, user: User) -> Account:
    """The caller's account as the settings pages show it."""
    return c.accounts.account(user.id)
