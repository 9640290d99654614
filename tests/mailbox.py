"""A real SMTP server for tests (aiosmtpd, in a thread of the test process) and the messages it
received. `with mailbox() as box:` gives `box.url` for REGISTRY_SMTP_URL and `box.messages`."""
from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    url: str
    messages: list[EmailMessage] = field(default_factory=list)
    received: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.received:
            self.messages.append(msg)
            self.received.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def link(self, address: str, path: str, wait: float = 10.0) -> str:
        """The last link to `path` mailed to `address`, waiting up to `wait` seconds for it (some
        mail is sent in the background)."""
        deadline = time.monotonic() + wait
        with self.received:
            while True:
                for msg in reversed(self.to(address)):
                    found = re.search(r"https?://\S*" + re.escape(path) + r"\S*", msg.get_content())
                    if found:
                        return found.group(0)
                if not self.received.wait(max(0.0, deadline - time.monotonic())):
                    raise AssertionError(f"no mail to {address} with a link to {path}: "
                                         f"{[m['Subject'] for m in self.messages]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mailbox() -> Iterator[Mailbox]:
    port = _free_port()
    box = Mailbox(f"smtp://127.0.0.1:{port}")
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
