"""Syntax highlighting on the server (Pygments; no script): a file's text as one line of markup
per line, each token a span whose class static/highlight.css colours (Pygments' xcode style,
whose every colour passes WCAG AA contrast on white)."""
from __future__ import annotations

from markupsafe import Markup, escape
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

STYLE = "xcode"
SCOPE = ".hl"
MAX_HIGHLIGHTED = 256 * 1024  # larger texts are shown plain (lexers are regular expressions over hostile text)


def css() -> str:
    """The stylesheet static/highlight.css holds (a test keeps the two the same)."""
    return HtmlFormatter(style=STYLE).get_style_defs(SCOPE) + "\n"


def _lexer(filename: str, text: str) -> Lexer:
    if len(text) > MAX_HIGHLIGHTED:
        return TextLexer()
    try:
        return get_lexer_for_filename(filename, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def _css_class(ttype: _TokenType) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def lines(text: str, filename: str) -> list[Markup]:
    """One markup string per line of `text` (a final newline ends the last line; it adds none)."""
    out: list[list[str]] = [[]]
    for ttype, value in _lexer(filename, text).get_tokens(text):
        cls = _css_class(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                out.append([])
            if part:
                out[-1].append(f'<span class="{cls}">{escape(part)}</span>' if cls else str(escape(part)))
    if text.endswith("\n") and not out[-1]:
        out.pop()
    return [Markup("".join(line)) for line in out]
