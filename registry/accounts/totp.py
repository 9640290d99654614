"""TOTP (RFC 6238, pyotp): enrolment with a random secret, its otpauth:// URI and a QR code
rendered here as inline SVG (segno: plain paths, no script), and matching a code within one
time step either way (valid_window=1). `match` returns the step it matched, so the caller can
refuse a step already used (AccountRepository.advance_totp_step): a code is good once."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

import pyotp
import segno

DIGITS = 6
WINDOW = 1  # steps accepted either side of now: clocks drift, people type slowly


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, for typing into an app by hand
    uri: str  # otpauth://totp/...
    qr_svg: str  # an <svg> element, no script


def new_secret() -> str:
    return pyotp.random_base32()  # 32 characters: 160 bits, as RFC 4226 recommends


def enrolment(secret: str, account: str, issuer: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=f"QR code to add {issuer} to an authenticator app")
    return Enrolment(secret, uri, svg)


def normalize(code: object) -> str | None:
    """Six digits as typed (spaces allowed), or None."""
    if not isinstance(code, str) or len(code) > 16:
        return None
    digits = code.replace(" ", "").strip()
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def match(secret: str, code: str, now: float) -> int | None:
    """The time step `code` is right for, within WINDOW steps of `now`; None when it is wrong."""
    digits = normalize(code)
    if digits is None:
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    found = None
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(candidate), digits) and found is None:
            found = candidate  # every candidate is compared: the time spent says nothing
    return found


def code_at(secret: str, now: float) -> str:
    """The code for `now` (tests, and nothing else, compute codes)."""
    return pyotp.TOTP(secret).at(int(now))

