"""git fsck's rules for incoming objects (fsck.c, as `receive.fsckObjects` applies them).

Each check reads an object's raw bytes (as they arrive in a pack, before anything is stored)
and returns why it must be refused, naming git's rule id, or None. Refused: tree entry names
that are empty, `.`, `..`, contain a slash, or that some filesystem reads as `.git` (any case,
HFS+ ignorable code points, NTFS trailing dots/spaces, alternate streams and the `git~1`
short name); duplicate or unsorted entries; unknown or zero-padded modes; `.gitmodules` as a
symlink; commits and tags whose headers are missing, out of order or malformed (idents,
dates, time zones). Whether a commit's tree is a tree, and the like, is checked by the caller
once the whole pack is known (`TypeExpectations`).
"""
from __future__ import annotations

import re
import unicodedata
from itertools import islice
from operator import itemgetter

from dulwich.objects import parse_tree

# 100664: old repositories have it, and git accepts it unless fsck is --strict.
MODES = {b"100644", b"100755", b"100664", b"120000", b"40000", b"160000"}
MODE_DIR, MODE_LINK = b"40000", b"120000"
HEX40 = re.compile(rb"[0-9a-f]{40}\Z")
# Code points HFS+ ignores when comparing names (git's next_hfs_char).
HFS_IGNORED = {0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
               0x206A, 0x206B, 0x206C, 0x206D, 0x206E, 0x206F, 0xFEFF}
MAX_DATE = 2 ** 63 - 1
TAG_TYPES = {b"commit", b"tree", b"blob", b"tag"}


def _hfs_is(name: bytes, target: str) -> bool:
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    folded = "".join(ch for ch in text if ord(ch) not in HFS_IGNORED)
    return unicodedata.normalize("NFC", folded).casefold() == target


# What NTFS reads as .git / .gitmodules: any case, trailing dots and spaces dropped, an alternate
# data stream (`:...`) ignored, or the 8.3 short names; `\` separates path components there.
NTFS_DOTGIT = re.compile(rb"(?i)(\.git|git~1)[. ]*(:.*)?\Z", re.S)
NTFS_GITMODULES = re.compile(rb"(?i)(\.gitmodules|gitmod~[1-9]|gi7eba~[1-9])[. ]*(:.*)?\Z", re.S)


def is_dotgit(name: bytes) -> bool:
    return _hfs_is(name, ".git") or any(NTFS_DOTGIT.match(part) for part in name.split(b"\\"))


def is_dotgitmodules(name: bytes) -> bool:
    return _hfs_is(name, ".gitmodules") or any(NTFS_GITMODULES.match(part) for part in name.split(b"\\"))


def _sort_key(name: bytes, mode: bytes) -> bytes:
    return name + b"/" if mode == MODE_DIR else name


TreeEntries = list[tuple[bytes, int, bytes]]  # (name, mode, hex sha), as dulwich's parse_tree gives them
# A tree made only of entries with a known mode and a non-empty name without a slash or NUL...
WELL_FORMED = re.compile(rb"(?:(?:100644|100755|100664|120000|40000|160000) [^\0/]+\0.{20})*", re.S)
# ...and no name that some filesystem could read as .git or .gitmodules: each of those spells
# "git" or "gi7eba" in ASCII, any case, or has a non-ASCII byte (HFS+ ignorables, case folding).
SUSPECT = (b"git", b"gi7eba")
_NAME = itemgetter(0)


def _suspect(name: bytes) -> bool:
    if not name.isascii():
        return True
    lowered = name.lower()
    return b"git" in lowered or b"gi7eba" in lowered  # SUSPECT


def _no_dotgit(entries: TreeEntries, names: list[bytes]) -> bool:
    """No entry some filesystem reads as .git (nor a symlink as .gitmodules): one search over
    all the names, and the exact rules only for names that spell one of SUSPECT (.gitignore)."""
    if not _suspect(b"\0".join(names)):
        return True
    return not any(is_dotgit(name) or mode == 0o120000 and is_dotgitmodules(name)
                   for name, mode, _ in entries if _suspect(name))


_ENTRY_END = re.compile(rb"\0(.{20})", re.S)


def split_tree(raw: bytes) -> tuple[list[bytes], list[bytes]] | None:
    """A well-formed tree's "mode name" heads and raw ids, in one C-level split (None when not
    well-formed). Whether a tree breaks a rule depends on its heads alone: a tree that repeats
    another's heads with new ids (most trees of a history) needs no check of its own."""
    if not WELL_FORMED.fullmatch(raw):
        return None
    parts = _ENTRY_END.split(raw)  # a name holds no NUL: each NUL ends one, 20 id bytes follow
    return parts[0:-1:2], parts[1::2]


def check_tree(raw: bytes) -> tuple[str | None, TreeEntries]:
    """Why a tree breaks git's rules (or None), and its entries when it does not.

    Most trees are checked without a Python loop per entry: the structure by one regex, the
    names by one search over them all, order and uniqueness by C-level comparisons. A tree
    that fails any of these goes through `tree_problem`, which finds (and names) the rule."""
    if WELL_FORMED.fullmatch(raw):
        entries = list(parse_tree(raw, 20))  # a list from the C parser; the pure-Python one yields
        names = list(map(_NAME, entries))
        # git sorts a directory as if its name ended in "/"
        keys = ([name + b"/" if mode == 0o040000 else name for name, mode, _ in entries]
                if b"40000 " in raw else names)
        unique = set(names)
        if (len(unique) == len(names) and b"." not in unique and b".." not in unique
                and _no_dotgit(entries, names)
                and all(map(bytes.__lt__, keys, islice(keys, 1, None)))):
            return None, entries
    problem = tree_problem(raw)
    return problem, ([] if problem else list(parse_tree(raw, 20, strict=True)))


# Trees past this size are checked a slice of entries at a time (`large_tree_problem`): a list
# of every entry of a 4 MiB tree (170,000 of them) took 40 MB (issue 29).
LARGE_TREE = 256 << 10
CHUNK_ENTRIES = 4096


def tree_runs(raw: bytes) -> list[bytes] | None:
    """A tree as runs of CHUNK_ENTRIES entries, in order, if it is WELL_FORMED (else None): each
    entry's head holds no NUL and its id is 20 bytes, so the NUL searched from where one entry
    ends is the next one's (a C-level search, every CHUNK_ENTRIES-th end kept). Each run is
    matched alone: over a whole large tree the regex engine keeps a backtracking record per
    entry (30 MB for a 4 MiB tree). Runs that each match make a tree that matches, and a tree
    that matches splits into runs that do. The runs are copies: a tree's size again at most."""
    runs, start = [], 0
    for found in islice(_ENTRY_END.finditer(raw), CHUNK_ENTRIES - 1, None, CHUNK_ENTRIES):
        runs.append(raw[start:found.end()])
        start = found.end()
    if start < len(raw):
        runs.append(raw[start:])
    return runs if all(map(WELL_FORMED.fullmatch, runs)) else None


def large_tree_problem(runs: list[bytes]) -> str | None:
    """`check_tree`'s verdict on a tree given as its `tree_runs`, in memory bounded by a run of
    entries (and the names of its directories) however large the tree. The same rules: names
    checked per run, order strict within a run and across runs (so a name repeats only as a file
    and a directory, which sort apart: found from the directories' names), and a tree failing
    any of them goes through `tree_problem`, which names the rule."""
    directories: set[bytes] = set()
    if any(b"40000 " in run for run in runs):
        for run in runs:
            directories.update(name for name, mode, _ in parse_tree(run, 20) if mode == 0o040000)
    last: bytes | None = None
    for run in runs:
        entries = list(parse_tree(run, 20))
        names = list(map(_NAME, entries))
        keys = [name + b"/" if mode == 0o040000 else name for name, mode, _ in entries] if directories else names
        if (len(set(names)) != len(names) or b"." in names or b".." in names or not _no_dotgit(entries, names)
                or (last is not None and not last < keys[0])
                or not all(map(bytes.__lt__, keys, islice(keys, 1, None)))
                or (directories and any(mode != 0o040000 and name in directories for name, mode, _ in entries))):
            return tree_problem(b"".join(runs))
        last = keys[-1]
    return None


def tree_problem(raw: bytes) -> str | None:
    """Why a tree's raw content breaks git's rules, or None (an entry at a time: `check_tree`
    is the fast way to the same answer)."""
    pos, names = 0, set()
    previous: tuple[bytes, bytes] | None = None
    while pos < len(raw):
        space = raw.find(b" ", pos)
        nul = raw.find(b"\0", space + 1) if space != -1 else -1
        if space == -1 or nul == -1 or nul + 21 > len(raw):
            return "malformed entry (badTree)"
        mode, name = raw[pos:space], raw[space + 1:nul]
        pos = nul + 21
        shown = name.decode("utf-8", "replace")
        if mode.startswith(b"0"):
            return f"entry '{shown}' has a zero-padded mode {mode.decode('ascii', 'replace')} (zeroPaddedFilemode)"
        if mode not in MODES:
            return f"entry '{shown}' has an invalid mode {mode.decode('ascii', 'replace')} (badFilemode)"
        if not name:
            return "an entry has an empty name (emptyName)"
        if b"/" in name:
            return f"entry '{shown}' contains a slash (fullPathname)"
        if name == b".":
            return "entry '.' is not allowed (hasDot)"
        if name == b"..":
            return "entry '..' is not allowed (hasDotdot)"
        if is_dotgit(name):
            return f"entry '{shown}' is not allowed (hasDotgit)"
        if mode == MODE_LINK and is_dotgitmodules(name):
            return f"entry '{shown}' is a symlink (gitmodulesSymlink)"
        if name in names:
            return f"duplicate entry '{shown}' (duplicateEntries)"
        key = _sort_key(name, mode)
        if previous is not None and previous[1] > key:
            return f"entries are not sorted at '{shown}' (treeNotSorted)"
        previous = (name, key)
        names.add(name)
    return None


IDENT = re.compile(rb"(?P<name>[^<>\n]*)<(?P<email>[^<>\n]*)> (?P<date>\S+) (?P<tz>\S+)\Z")


def ident_problem(line: bytes, what: str) -> str | None:
    """An author, committer or tagger line: `Name <email> 1700000000 +0100`."""
    found = IDENT.match(line)
    if found is None:
        if b"<" not in line:
            return f"bad {what} line: no email (missingEmail)"
        if b">" not in line:
            return f"bad {what} line: unterminated email (badEmail)"
        return f"bad {what} line (badIdent)"
    if not found["name"]:
        return f"bad {what} line: no name before the email (missingNameBeforeEmail)"
    if not found["name"].endswith(b" "):
        return f"bad {what} line: no space before the email (missingSpaceBeforeEmail)"
    date = found["date"]
    if not date.isdigit():
        return f"bad {what} date {date.decode('ascii', 'replace')!r} (badDate)"
    if len(date) > 1 and date.startswith(b"0"):
        return f"bad {what} date: zero-padded (zeroPaddedDate)"
    if int(date) > MAX_DATE:
        return f"bad {what} date: out of range (badDateOverflow)"
    tz = found["tz"]
    if len(tz) != 5 or tz[:1] not in (b"+", b"-") or not tz[1:].isdigit():
        return f"bad {what} time zone {tz.decode('ascii', 'replace')!r} (badTimezone)"
    return None


def _header(raw: bytes) -> list[bytes] | str:
    head, sep, _ = raw.partition(b"\n\n")
    if b"\0" in head:
        return "NUL byte in the header (nulInHeader)"
    return head.split(b"\n") if head else []


# A commit header as git writes it, to the committer line: most commits pass this one match and
# two date comparisons; any other goes through the rules one by one (which name what is wrong).
_IDENT = rb"[^<>\n]* <[^<>\n]*> (0|[1-9][0-9]{0,18}) [+-][0-9]{4}"
WELL_FORMED_COMMIT = re.compile(rb"tree [0-9a-f]{40}\n(?:parent [0-9a-f]{40}\n)*author " + _IDENT +
                                rb"\ncommitter " + _IDENT + rb"(?:\n|\Z)")


def commit_problem(raw: bytes) -> str | None:
    fast = WELL_FORMED_COMMIT.match(raw)
    if (fast is not None and int(fast[1]) <= MAX_DATE and int(fast[2]) <= MAX_DATE
            and b"\0" not in raw.partition(b"\n\n")[0]):
        return None
    return _commit_rule_problem(raw)


def _commit_rule_problem(raw: bytes) -> str | None:
    lines = _header(raw)
    if isinstance(lines, str):
        return lines
    at = 0
    if at >= len(lines) or not lines[at].startswith(b"tree "):
        return "no tree line (missingTree)"
    if not HEX40.match(lines[at][5:]):
        return "bad tree id (badTreeSha1)"
    at += 1
    while at < len(lines) and lines[at].startswith(b"parent "):
        if not HEX40.match(lines[at][7:]):
            return "bad parent id (badParentSha1)"
        at += 1
    for what in ("author", "committer"):
        if at >= len(lines) or not lines[at].startswith(what.encode() + b" "):
            return f"no {what} line (missing{what.capitalize()})"
        problem = ident_problem(lines[at][len(what) + 1:], what)
        if problem:
            return problem
        at += 1
    return None


def tag_problem(raw: bytes) -> str | None:
    lines = _header(raw)
    if isinstance(lines, str):
        return lines
    fields = [(b"object ", "missingObject"), (b"type ", "missingTypeEntry"), (b"tag ", "missingTagEntry"),
              (b"tagger ", "missingTaggerEntry")]
    for at, (prefix, rule) in enumerate(fields):
        if at >= len(lines) or not lines[at].startswith(prefix):
            return f"no {prefix.decode().strip()} line ({rule})"
    if not HEX40.match(lines[0][7:]):
        return "bad object id (badObjectSha1)"
    if lines[1][5:] not in TAG_TYPES:
        return f"bad type {lines[1][5:].decode('ascii', 'replace')!r} (badType)"
    if not lines[2][4:]:
        return "empty tag name (badTagName)"
    return ident_problem(lines[3][7:], "tagger")
