"""The account mechanisms on their own: password policy and hashing, usernames and addresses,
TOTP, recovery codes, one-time secrets and pseudonyms, mail through a real SMTP server."""
from __future__ import annotations

import re
import time

import pytest
from argon2 import PasswordHasher

from registry.accounts import passwords, recovery, tokens, totp
from registry.accounts.mail import SmtpMailer, mailer_for
from registry.errors import InvalidField, InvalidInput, InvalidName
from registry.names import check_username, normalize_email
from registry.settings import Settings
from tests.mailbox import mailbox

GOOD = "violet-lantern-orbit-57"


# -- passwords ----------------------------------------------------------------------------------
@pytest.mark.parametrize("password, reason", [
    ("", "a password is required"),
    ("Sh0rt!x", "at least 10 characters"),
    ("password123", "too easy to guess"),
    ("aaaaaaaaaaaaaaaa", "too easy to guess"),
    ("qwertyuiop12", "too easy to guess"),
])
def test_weak_or_short_passwords_are_refused_naming_the_field(password, reason):
    with pytest.raises(InvalidField) as refused:
        passwords.check_policy(password)
    assert refused.value.field == "password" and reason in refused.value.reason
    assert refused.value.details == {"field": "password", "reason": refused.value.reason}


def test_a_password_made_of_the_username_or_address_is_weak():
    assert passwords.check_policy("quixoticwalrus77", ()) == "quixoticwalrus77"  # strong for anyone else
    with pytest.raises(InvalidField):
        passwords.check_policy("quixoticwalrus77", ("quixoticwalrus", "qw@example.com"))
    with pytest.raises(InvalidField):
        passwords.check_policy("zorblattfrumious", ("bob", "zorblattfrumious@example.com"))  # the local part


def test_a_password_past_1024_bytes_is_refused_before_any_hashing_or_estimating(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("no work on an oversized password")

    class Forbidden:
        hash = verify = forbidden

    monkeypatch.setattr(passwords, "_strength", forbidden)
    monkeypatch.setattr(passwords, "_hasher", Forbidden())
    for too_long in ("x" * 1025, "é" * 513):  # 513 characters, 1026 bytes
        for check in (passwords.check_policy, passwords.hash_password):
            with pytest.raises(InvalidField) as refused:
                check(too_long)
            assert "1024 bytes" in refused.value.reason
    assert passwords.check_size("é" * 512)  # exactly 1024 bytes


def test_a_long_strong_password_is_estimated_on_its_start_only():
    long_one = GOOD + "x" * 1000
    started = time.perf_counter()
    assert passwords.check_policy(long_one) == long_one
    assert time.perf_counter() - started < 2.0


def test_hashes_are_argon2id_and_verify():
    hashed = passwords.hash_password(GOOD)
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, GOOD) == (True, False)
    assert passwords.verify(hashed, GOOD + "x") == (False, False)
    assert passwords.verify("not a hash", GOOD) == (False, False)
    assert passwords.verify(hashed, "x" * 2000) == (False, False)


def test_a_hash_made_with_older_parameters_asks_to_be_remade():
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert passwords.verify(old, GOOD) == (True, True)
    assert passwords.verify(old, "wrong password!") == (False, False)


def test_the_dummy_verify_costs_about_what_a_verify_costs():
    hashed = passwords.hash_password(GOOD)
    passwords.verify_unknown()  # its hash is made on first use

    def median(work) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return sorted(times)[2]

    real, dummy = median(lambda: passwords.verify(hashed, "wrong password!")), median(passwords.verify_unknown)
    assert 0.5 < dummy / real < 2.0


# -- usernames and addresses --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["admin", "api", "settings", "login", "join", "static", "openapi.json", "users"])
def test_reserved_usernames_are_refused(name):
    with pytest.raises(InvalidName) as refused:
        check_username(name)
    assert refused.value.details["field"] == "username" and "reserved" in refused.value.message


@pytest.mark.parametrize("name", ["Alice", "-alice", "alice.git", "a..b", "a" * 64, "", "al ice", "ålice"])
def test_usernames_follow_the_name_rule(name):
    with pytest.raises(InvalidName):
        check_username(name)


def test_good_usernames_pass():
    for name in ("alice", "a", "bob-2", "c.d_e", "administrator2", "x" * 63):
        assert check_username(name) == name


def test_addresses_are_checked_bounded_and_lowered():
    assert normalize_email(" Alice@Example.COM ") == "alice@example.com"
    for bad in ("", "alice", "alice@", "@example.com", "a b@example.com", "alice@example", "alice@-x.com",
                "x" * 65 + "@example.com", "a@" + "b" * 250 + ".com"):
        with pytest.raises(InvalidField) as refused:
            normalize_email(bad)
        assert refused.value.field == "email"


# -- TOTP --------------------------------------------------------------------------------------------
def test_totp_matches_within_one_step_either_way_and_says_which():
    secret = totp.new_secret()
    assert len(secret) == 32
    now = 1_700_000_000.0
    step = int(now // 30)
    assert totp.match(secret, totp.code_at(secret, now), now) == step
    assert totp.match(secret, totp.code_at(secret, now - 30), now) == step - 1
    assert totp.match(secret, totp.code_at(secret, now + 30), now) == step + 1
    assert totp.match(secret, totp.code_at(secret, now - 90), now) is None
    code = totp.code_at(secret, now)
    assert totp.match(secret, f"{code[:3]} {code[3:]}", now) == step
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６", "1" * 100):
        assert totp.match(secret, bad, now) is None


def test_enrolment_gives_an_otpauth_uri_and_an_svg_without_script():
    got = totp.enrolment("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice", "reg.example.com")
    assert got.uri.startswith("otpauth://totp/reg.example.com:alice?") and "secret=JBSWY3DPEHPK3PXP" in got.uri
    assert got.qr_svg.startswith("<svg") and "<path" in got.qr_svg
    assert "script" not in got.qr_svg.lower() and "style=" not in got.qr_svg.lower()


# -- recovery codes ---------------------------------------------------------------------------------
def test_recovery_codes_are_ten_distinct_high_entropy_codes_read_as_typed():
    codes = recovery.new_codes()
    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", c) for c in codes)
    code = codes[0]
    assert recovery.hash_code(code) == recovery.hash_code(code.upper().replace("-", " "))
    assert recovery.hash_code(code) != recovery.hash_code(codes[1])
    assert recovery.normalize("too-short") is None and recovery.normalize("x" * 100) is None
    assert recovery.normalize("1111-1111-1111-1111") is None  # not base32


# -- one-time secrets and pseudonyms ------------------------------------------------------------
def test_secrets_are_random_and_kept_as_hashes():
    a, b = tokens.new_token(), tokens.new_token()
    assert a != b and len(a) >= 43
    assert tokens.hash_secret(a) == tokens.hash_secret(a) != tokens.hash_secret(b)
    assert tokens.well_formed(a) and not tokens.well_formed("") and not tokens.well_formed("x" * 257)
    assert not tokens.well_formed(None)


def test_pseudonyms_are_stable_per_account_and_never_a_username():
    p = tokens.pseudonym("key", 7, 1234.5)
    assert p == tokens.pseudonym("key", 7, 1234.5)
    assert p != tokens.pseudonym("key", 8, 1234.5)  # another account
    assert p != tokens.pseudonym("key", 7, 9999.0)  # a later account that was given the same id
    assert p != tokens.pseudonym("other key", 7, 1234.5)
    with pytest.raises(InvalidName):
        check_username(p)


# -- mail ------------------------------------------------------------------------------------------
def test_mail_goes_through_a_real_smtp_server():
    with mailbox() as box:
        mailer = mailer_for(Settings(smtp_url=box.url, mail_from="Registry <noreply@reg.example.com>"))
        assert mailer is not None
        mailer.send("alice@example.com", "Hello", "A link: https://reg.example.com/join?invite=abc\n")
    assert len(box.messages) == 1
    msg = box.messages[0]
    assert msg["To"] == "alice@example.com" and msg["Subject"] == "Hello"
    assert msg["From"] == "Registry <noreply@reg.example.com>" and msg["Message-ID"]
    assert box.link("alice@example.com", "/join?invite=") == "https://reg.example.com/join?invite=abc"


def test_no_smtp_url_means_no_mailer_and_a_bad_one_is_refused():
    assert mailer_for(Settings()) is None
    with pytest.raises(InvalidInput):
        SmtpMailer("http://example.com", "x@example.com")
    mailer = SmtpMailer("smtps://us%40er:p%3Ass@mail.example.com", "x@example.com")
    assert (mailer.user, mailer.password, mailer.port, mailer.tls) == ("us@er", "p:ss", 465, True)
