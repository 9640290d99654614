"""`registry validate` and `registry import`: the commands on folders of prompt files, against
this machine's registry or, with --remote, another one over its API."""
from __future__ import annotations

import argparse
import sys

from registry.container import Container
from registry.errors import RegistryError
from registry.settings import get_settings


def container_from_env() -> Container:
    """The one container of a command that queues nothing, built from the environment's settings."""
    from workers.bootstrap import bootstrap

    return bootstrap(get_settings(), "cli").container


def cmd_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from registry.services import validation

    if args.remote:
        return _validate_remote(args, validation.folder_files(Path(args.dir)))
    settings = get_settings()
    # `extends` resolves against this machine's registry when there is one; none is created.
    have_registry = bool(settings.database_url) or settings.metadata_db.exists()
    problems = validation.validate_folder(container_from_env() if have_registry else None, Path(args.dir))
    for problem in problems:
        print(f"{problem.path}: {problem.message}")
    if not problems:
        print(f"{args.dir}: valid")
    return 1 if problems else 0


def _validate_remote(args: argparse.Namespace, files: dict[str, bytes]) -> int:
    """The same check, run by a remote registry (`extends` resolves against its templates)."""
    from .client import RegistryClient

    texts = {path: text for path, data in files.items() if (text := _text(data)) is not None}
    with RegistryClient(args.remote, args.token) as client:
        result = client.validate(texts)
    for problem in result.problems:
        print(f"{problem.path}: {problem.message}")
    if result.valid:
        print(f"{args.dir}: valid")
    return 0 if result.valid else 1


def _text(data: bytes) -> str | None:
    """A file as text, or None for a binary one (not UTF-8, or holding NUL bytes)."""
    try:
        return None if b"\0" in data else data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def cmd_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from registry.services import templates, users
    from workers.bootstrap import bootstrap

    folders = templates.import_candidates(Path(args.dir))
    if not folders:
        raise RegistryError(f"no sub-folder of {args.dir} holds a system.md")
    if args.remote:
        from .remote_import import import_remote

        return import_remote(args.remote, args.token, folders, args.owner, _kept(args.keep))
    system = bootstrap(get_settings(), "batch")  # its pushes queue checks, run before it exits
    container, pipeline = system.container, system.queue
    actor = users.actor_for(container, args.owner)
    failed = 0
    for folder in tqdm(folders, desc="importing", unit="template", file=sys.stderr):
        try:
            template, sha, guessed = templates.import_folder(container, actor, folder, keep=_kept(args.keep))
            tqdm.write(f"{template.full_name} {sha[:12]}: {guessed.summary()}", file=sys.stderr)
        except RegistryError as exc:
            failed += 1
            tqdm.write(f"skipped {folder.name}: {exc.message}", file=sys.stderr)
    pipeline.drain(timeout=600)  # embedded: the checks run here and now
    pipeline.stop()
    print(f"imported {len(folders) - failed} of {len(folders)} templates for {args.owner}")
    return 1 if failed else 0


def _kept(keep: str | None) -> frozenset[str]:
    return frozenset(f.strip() for f in (keep or "").split(",") if f.strip())
