"""A file's shared document: a pycrdt (Yrs) document whose `Y.Text` named `content` is the file.

A document is made from the file's text once, by `seed`, with a fixed client id: two servers
seeding the same file at once make byte-identical items, which merge into one copy instead of
two (the duplicated text of rooms re-created from disk). After that the text only changes by
updates: from editors, or from the server as a diff (`replace_text`), so concurrent typing is
merged, never overwritten.

pycrdt indexes text in UTF-8 bytes (Yjs in the browser in UTF-16 units; the updates agree), and
cuts a character in two if asked to: every offset here is converted from characters first.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pycrdt import Decoder, Doc, Text, TransactionEvent, get_update

from ..meta import StoredDoc

YDoc = Doc[Any]
TEXT = "content"
SEED_CLIENT = 1  # the client id of every seed (see the module doc)
EMPTY_UPDATE = b"\x00\x00"


def new_doc() -> tuple[YDoc, Text]:
    doc: YDoc = Doc()
    return doc, doc.get(TEXT, type=Text)


def seed(text: str) -> bytes:
    """The update that makes a new document of `text`: the same bytes wherever it is made."""
    doc: YDoc = Doc(client_id=SEED_CLIENT)
    content = doc.get(TEXT, type=Text)
    if text:
        content.insert(0, text)
    return doc.get_update()


def load(stored: StoredDoc) -> tuple[YDoc, Text]:
    """The document as stored: its snapshot and every update after it."""
    doc, text = new_doc()
    doc.apply_update(stored.snapshot)
    for _, update in stored.updates:
        doc.apply_update(update)
    return doc, text


def compacted(stored: StoredDoc) -> bytes:
    """One update holding the stored document (deleted text garbage-collected): the new snapshot."""
    doc, _ = load(stored)
    return doc.get_update()


def text_of(update: bytes) -> str:
    doc, text = new_doc()
    doc.apply_update(update)
    return str(text)


def state_vector(state: bytes) -> dict[int, int]:
    """A Yjs state vector ({client: next clock}) from its encoding."""
    decoder = Decoder(state)
    if not state:
        return {}
    count = decoder.read_var_uint()
    found = {}
    for _ in range(count):
        client = decoder.read_var_uint()
        found[client] = decoder.read_var_uint()
    return found


def encode_state(state: dict[int, int]) -> bytes:
    """A state vector's encoding (as Yjs writes it)."""
    from .protocol import uint

    return uint(len(state)) + b"".join(uint(client) + uint(clock) for client, clock in state.items())


def integrated(doc: YDoc, update: bytes) -> bool:
    """Whether everything `update` inserts is now part of `doc` (applied to it), not held back
    waiting for changes the document has never seen: what is left of it past the document's
    state holds no insertions (its first number, the count of clients with structs, is 0)."""
    return get_update(update, doc.get_state())[:1] == b"\x00"


def replace_text(doc: YDoc, text: Text, new: str) -> bytes | None:
    """Change `text` into `new` by the smallest edits a line diff (refined to characters) finds,
    in one transaction; the update it made, or None when nothing changed. Text typed elsewhere
    concurrently survives: only what differs is deleted or inserted."""
    old = str(text)
    if old == new:
        return None
    made: list[bytes] = []

    def keep(event: TransactionEvent) -> None:
        made.append(event.update)

    subscription = doc.observe(keep)
    try:
        with doc.transaction():
            for start, end, insert in reversed(list(_edits(old, new))):
                a, b = _bytes(old, start), _bytes(old, end)
                if b > a:
                    del text[a:b]
                if insert:
                    text.insert(a, insert)
    finally:
        doc.unobserve(subscription)
    return made[0] if made else None


def _bytes(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _edits(old: str, new: str) -> Iterable[tuple[int, int, str]]:
    """(start, end, insert) in characters of `old`, in order, not overlapping."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    old_at, new_at = _starts(old_lines), _starts(new_lines)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a, b = old[old_at[i1]:old_at[i2]], new[new_at[j1]:new_at[j2]]
        prefix = _common_prefix(a, b)
        suffix = _common_prefix(a[prefix:][::-1], b[prefix:][::-1])
        yield old_at[i1] + prefix, old_at[i2] - suffix, b[prefix:len(b) - suffix]


def _starts(lines: list[str]) -> list[int]:
    at = [0]
    for line in lines:
        at.append(at[-1] + len(line))
    return at


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
