"""The tests' SMTP server (tests/mail.py: aiosmtpd) receives over real SMTP, hands each message to
the test waiting for its recipient, once, and finds the link in it."""
from __future__ import annotations

import smtplib
import threading
import time
from email.message import EmailMessage

import pytest

from tests.mail import first_link, links


def _send(mailbox, to: str, subject: str, text: str, html: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "registry@example.test", to, subject
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    with smtplib.SMTP(mailbox.host, mailbox.port, timeout=10) as smtp:
        smtp.send_message(msg)


def test_a_message_is_waited_for_taken_once_and_its_link_found(smtp_server):
    link = "http://127.0.0.1:8000/join/verify?token=abc-123_x"
    later = threading.Timer(0.3, _send, (smtp_server, "Ivy@Example.test", "Verify your email",
                                         f"Hello,\n\nopen {link}.\n\nThanks", f'<p><a href="{link}">Verify</a></p>'))
    later.start()
    started = time.monotonic()
    message = smtp_server.wait_for_mail("ivy@example.test", timeout=10)  # waits for it; addresses ignore case
    assert time.monotonic() - started >= 0.2
    assert message["Subject"] == "Verify your email" and message["From"] == "registry@example.test"
    assert first_link(message) == link  # the text part's, without the sentence's full stop
    assert smtp_server.pending("ivy@example.test") == 0
    with pytest.raises(AssertionError, match="no mail for ivy@example.test within 0.2s"):
        smtp_server.wait_for_mail("ivy@example.test", timeout=0.2)


def test_messages_come_in_order_per_recipient_and_html_links_are_read(smtp_server):
    _send(smtp_server, "jack@example.test", "one", "no link here")
    _send(smtp_server, "kim@example.test", "other", "for kim")
    _send(smtp_server, "jack@example.test", "two", "see the page", '<p>See <a href="https://example.test/reset/1">this</a></p>')
    assert smtp_server.wait_for_mail("jack@example.test")["Subject"] == "one"
    second = smtp_server.wait_for_mail("jack@example.test")
    assert links(second) == ["https://example.test/reset/1"]  # from the HTML part: the text has none
    with pytest.raises(AssertionError, match="no link"):
        first_link(smtp_server.wait_for_mail("kim@example.test"))
    assert smtp_server.url == f"smtp://127.0.0.1:{smtp_server.port}"
