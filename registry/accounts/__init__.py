"""Accounts: what people sign in with and how it is checked — passwords (argon2id), usernames and
addresses (registry/names.py), TOTP and recovery codes, passkeys (WebAuthn), single sign-on
(OpenID Connect), one-time links, sessions, mail — and the AccountRepository protocol they are
stored through (`store.py`; its SQL implementation is registry/meta/sql_accounts.py).

Pure mechanisms: the use cases that combine them, with their access checks and events, are in
registry/services/accounts*.py. Nothing here imports a web or queue library.
"""
