"""A real SMTP server for tests (aiosmtpd's Controller, on a free port of 127.0.0.1) that keeps what
it receives, parsed, for `Mailbox.wait_for_mail`; `first_link` pulls the link out of a message."""
from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.services import free_port

MAX_MESSAGE_BYTES = 1024 * 1024
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class Received:
    recipients: list[str]  # the envelope's RCPT TO, lowercased
    message: EmailMessage


@dataclass
class Mailbox:
    """Messages the server received and no test has taken yet (`wait_for_mail` takes them)."""

    host: str
    port: int
    _pending: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        """For REGISTRY_SMTP_URL: plain SMTP, no TLS, no login."""
        return f"smtp://{self.host}:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        raw = envelope.original_content or envelope.content or b""
        parsed = email.message_from_bytes(raw if isinstance(raw, bytes) else raw.encode(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._cond:
            self._pending.append(Received([r.lower() for r in envelope.rcpt_tos], parsed))
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for_mail(self, to: str, timeout: float = 10.0) -> EmailMessage:
        """The oldest message for `to` (an envelope recipient) not taken yet, waiting up to `timeout`
        seconds for it; taken, so the next call waits for the next one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, got in enumerate(self._pending):
                    if to.lower() in got.recipients:
                        return self._pending.pop(i).message
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({r for got in self._pending for r in got.recipients})
                    raise AssertionError(f"no mail for {to} within {timeout}s (waiting mail is for: {seen or 'nobody'})")
                self._cond.wait(left)

    def pending(self, to: str) -> int:
        """How many messages for `to` are waiting (to show that none was sent)."""
        with self._cond:
            return sum(to.lower() in got.recipients for got in self._pending)


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v and v.startswith(("http://", "https://"))]


def links(message: EmailMessage) -> list[str]:
    """The http(s) links of a message: its text part's URLs, else its HTML part's hrefs."""
    text = message.get_body(preferencelist=("plain",))
    if text is not None:
        found = [u.rstrip(".,;:!?)]") for u in _URL.findall(text.get_content())]
        if found:
            return found
    html = message.get_body(preferencelist=("html",))
    if html is None:
        return []
    parser = _Hrefs()
    parser.feed(html.get_content())
    return parser.hrefs


def first_link(message: EmailMessage) -> str:
    found = links(message)
    assert found, f"no link in the mail {message['Subject']!r}:\n{message.as_string()[:2000]}"
    return found[0]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox("127.0.0.1", free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port, data_size_limit=MAX_MESSAGE_BYTES)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
