"""HTML for the pages: one Jinja2 environment (autoescaped: everything from a repository is
hostile), README markdown rendered without raw HTML and sanitized to an allowlist, unified
diffs split into numbered rows, and the security headers every page carries."""
from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from registry.services import prompts

from . import session as sessions

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}
_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_TAGS = {"a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code", "pre",
         "blockquote", "table", "thead", "tbody", "tr", "th", "td", "img", "del"}
_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def markdown(text: str) -> Markup:
    """README markdown: raw HTML is not rendered, and the result keeps only allowlisted tags,
    attributes and URL schemes (no javascript:, no data: links)."""
    html = _MD.render(text)
    return Markup(nh3.clean(html, tags=_TAGS, attributes=_ATTRS, url_schemes={"http", "https", "mailto"},
                            link_rel="noopener noreferrer nofollow"))


def prompt_html(prompt: prompts.Prompt) -> Markup:
    """A prompt as a visitor reads it: Markdown rendered when it is kept in a .md file, else its
    text as written; parameter uses marked, template tags set apart, everything else escaped."""
    marks = [_mark(seg) for seg in prompt.segments if seg.kind != "text"]
    if not prompt.markdown:
        return Markup("").join(_mark(seg) if seg.kind != "text" else escape(seg.text) for seg in prompt.segments)
    holes, n = [], 0
    for seg in prompt.segments:  # each marked segment becomes a private-use placeholder Markdown leaves alone
        if seg.kind == "text":
            holes.append(seg.text.replace("\ue000", "").replace("\ue001", ""))
        else:
            holes.append(f"\ue000{n}\ue001")
            n += 1
    html = str(markdown("".join(holes)))
    return Markup(re.sub("\ue000(\\d+)\ue001", lambda m: str(marks[int(m.group(1))]), html))


def _mark(seg: prompts.Segment) -> Markup:
    if seg.kind == "param":
        return Markup('<mark class="param">{}</mark>').format(seg.text)
    return Markup('<span class="jinja-tag">{}</span>').format(seg.text)


def diff_rows(patch: str | None) -> list[dict[str, Any]]:
    """Unified diff -> rows {kind: hunk|add|del|ctx, old, new, text} with line numbers."""
    rows: list[dict[str, Any]] = []
    old = new = 0
    for line in (patch or "").splitlines():
        if line.startswith(("--- ", "+++ ")) and not rows:
            continue
        match = HUNK.match(line)
        if match:
            old, new = int(match.group(1)), int(match.group(2))
            rows.append({"kind": "hunk", "old": None, "new": None, "text": line})
        elif line.startswith("+"):
            rows.append({"kind": "add", "old": None, "new": new, "text": line[1:]})
            new += 1
        elif line.startswith("-"):
            rows.append({"kind": "del", "old": old, "new": None, "text": line[1:]})
            old += 1
        elif line.startswith(" "):
            rows.append({"kind": "ctx", "old": old, "new": new, "text": line[1:]})
            old, new = old + 1, new + 1
    return rows


def split_rows(rows: list[dict[str, Any]]) -> list[tuple[dict | None, dict | None]]:
    """Side-by-side pairs: deletions beside the additions that follow them."""
    pairs: list[tuple[dict | None, dict | None]] = []
    dels: list[dict] = []
    adds: list[dict] = []

    def flush() -> None:
        for i in range(max(len(dels), len(adds))):
            pairs.append((dels[i] if i < len(dels) else None, adds[i] if i < len(adds) else None))
        dels.clear()
        adds.clear()

    for row in rows:
        if row["kind"] == "del":
            if adds:
                flush()
            dels.append(row)
        elif row["kind"] == "add":
            adds.append(row)
        else:
            flush()
            pairs.append((row, row))
    flush()
    return pairs


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def _when(at: float | None) -> str:
    """An epoch time as UTC, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at else ""


ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
# What a refused form field is called on the page (InvalidField names the field; the page names it for a person).
FIELD_LABELS = {"username": "Username", "email": "Email address", "password": "Password", "user": "Username or email",
                "new_password": "New password", "current_password": "Current password", "display_name": "Display name",
                "code": "Code", "recovery_code": "Recovery code", "proof": "Password or code", "confirm": "Confirm",
                "templates": "Your templates", "passkey": "Passkey", "name": "Passkey name", "token": "Link",
                "invite": "Invite", "q": "Search"}


# Messages a redirect may ask for by name (`?notice=`): never text from the request itself.
NOTICES = {
    "joined": "Welcome! Your account is ready.",
    "verify_sent": "We sent a link to your address: follow it to confirm the address.",
    "verified": "Your email address is confirmed.",
    "password_changed": "Your password is changed. Every other session has been signed out.",
    "password_reset": "Your password is set. Sign in with it now.",
    "profile_saved": "Your profile is saved.",
    "totp_removed": "The authenticator app is removed. Every other session has been signed out.",
    "passkey_removed": "The passkey is removed. Every other session has been signed out.",
    "session_ended": "That session is signed out.",
    "sessions_ended": "Every other session is signed out.",
    "linked": "Single sign-on is linked to your account: you may sign in with it from now on.",
    "deleted": "Your account is deleted.",
    "signed_out": "You are signed out.",
    "enrol": "This registry asks you to set up a second factor (an authenticator app or a passkey) before you go on.",
}


def _field_label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


# The editor's highlighting by a file's path: JSON, Markdown (prompts/ without a known suffix), Jinja2.
LANGUAGES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".j2": "jinja2", ".jinja": "jinja2",
             ".jinja2": "jinja2"}


def editor_language(path: str) -> str:
    suffix = path[path.rfind("."):].lower() if "." in path else ""
    return LANGUAGES.get(suffix, "markdown" if path.startswith("prompts/") else "")


ENV.filters.update(json=_json, short=_short, markdown=markdown, when=_when, prompt_html=prompt_html,
                   field_label=_field_label, editor_language=editor_language)
ENV.globals.update(diff_rows=diff_rows, split_rows=split_rows)


def script_csp(nonce: str) -> str:
    """A page with the editor: script from this site only, and styles from this site or carrying
    this response's nonce (CodeMirror injects its styles with it); never unsafe-inline or -eval."""
    return CSP.replace("style-src 'self'", f"script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
                       "connect-src 'self'")


# the bundles in static/ (web/src/*.js)
SCRIPTS = ("editor", "copy", "form", "passkeys", "graphiql", "drafts", "news", "live")


def page(request: Request, template_name: str, /, status_code: int = 200,
         script: bool | str | tuple[str, ...] = False, **context: Any) -> HTMLResponse:
    """A page; `script` names a bundle of static/ to load, or several (True: the editor), and
    allows them, and styles carrying this response's nonce."""
    bundles = ("editor",) if script is True else (script,) if isinstance(script, str) else script or ()
    if unknown := [b for b in bundles if b not in SCRIPTS]:
        raise ValueError(f"no script bundle {unknown[0]!r}")
    me = sessions.actor(request)
    nonce = secrets.token_urlsafe(18) if script else None
    joining = sessions.container(request).settings.signup != "closed"
    context.setdefault("notice", NOTICES.get(request.query_params.get("notice", "")))
    html = ENV.get_template(template_name).render(request=request, me=me, csrf=sessions.csrf(request), nonce=nonce,
                                                  bundles=bundles, joining=joining, **context)
    headers = {**HEADERS, "Content-Security-Policy": script_csp(nonce)} if nonce else HEADERS
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    sessions.cookie(request, response)
    return response
