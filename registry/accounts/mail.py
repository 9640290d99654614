"""Mail: a tiny `Mailer` protocol the account use cases send through, and its SMTP
implementation (smtplib) configured by REGISTRY_SMTP_URL (`smtp://` or `smtps://`,
`user:pass@host:port`) and REGISTRY_MAIL_FROM. Unset, there is no mailer: the use cases say so
and admins hand out links instead (`registry user reset-password`).

`smtp://` upgrades to TLS with STARTTLS when the server offers it; `smtps://` is TLS from the
first byte. Each send is one connection, bounded by a timeout.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..errors import InvalidInput
from ..settings import Settings

TIMEOUT = 10.0


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    def __init__(self, url: str, sender: str, timeout: float = TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise InvalidInput("REGISTRY_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://...")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        msg.set_content(body)
        context = ssl.create_default_context()
        if self.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if not self.tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user is not None:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


def mailer_for(settings: Settings) -> Mailer | None:
    """The configured mailer, or None when the registry sends no mail."""
    if not settings.smtp_url:
        return None
    sender = settings.mail_from or formataddr(("Prompt registry", f"registry@{urlsplit(settings.smtp_url).hostname}"))
    return SmtpMailer(settings.smtp_url, sender)
