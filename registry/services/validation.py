"""Pre-push feedback: the push-time `validate` check on files that are not pushed yet, by the
same code (registry.manifest.check; `extends` resolved as at push time), for the API's
POST /validate and the CLI's `registry validate [DIR]`."""
from __future__ import annotations

from pathlib import Path

from ..access import Actor
from ..container import Container
from ..errors import InvalidInput, TemplateNotFound
from ..manifest import FileSource, Problem, check
from ..manifests import check_files

MAX_FILES = 2000
MAX_FILE_BYTES = 20 * 1024 * 1024


def validate(c: Container, actor: Actor, files: dict[str, str]) -> list[Problem]:
    """Problems of a template's files (path -> text); empty when it would pass `validate`."""
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files")
    return check_files(c, {path: text.encode() for path, text in files.items()}, actor.name).problems


def validate_folder(c: Container | None, folder: Path) -> list[Problem]:
    """Problems of a working tree on disk; `extends` resolves against `c` when there is one."""
    files = folder_files(folder)
    if c is not None:
        return check_files(c, files, None).problems
    return check(files.get, _no_parents).problems


def folder_files(folder: Path) -> dict[str, bytes]:
    """The files of a working tree as a push would carry them (no .git, no symlinks), bounded."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a directory")
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if ".git" in relative.parts or not path.is_file() or path.is_symlink():
            continue
        if len(files) >= MAX_FILES:
            raise InvalidInput(f"{folder} holds more than {MAX_FILES} files")
        if path.stat().st_size <= MAX_FILE_BYTES:
            files[relative.as_posix()] = path.read_bytes()
    return files


def _no_parents(full_name: str, ref: str) -> FileSource:
    raise TemplateNotFound(f"template {full_name} not found (no registry configured to resolve extends)")
