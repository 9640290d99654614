"""Plain-HTTP clients of the pages: a form's CSRF token, and a client signed in with a user's API
token through /login (the session cookie then rides along)."""
from __future__ import annotations

import re

import httpx


def csrf(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def signed_in(env, user: str) -> httpx.Client:
    """A client of `env`'s pages signed in as `user` (with the Origin header forms need)."""
    client = httpx.Client(base_url=env.url, timeout=30, headers={"Origin": env.url})
    form = {"csrf": csrf(client.get("/login").text), "user": user, "token": env.tokens[user], "next": "/"}
    answer = client.post("/login", data=form)
    assert answer.status_code == 303, answer.text[-500:]
    return client
