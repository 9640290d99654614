"""`registry import DIR`: each sub-folder holding system.md becomes a template repository.

The folder's system.md, user.md and README.md become files of the repo; template.json is
generated so that it validates: parameters are the variables the prompts use, and the title,
description, tags, use case and industry are guessed from the text (registry.guess) unless the
caller keeps them (then they take neutral defaults).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import TemplateSyntaxError

from .errors import InvalidInput
from .guess import Guess, guess
from .manifest import JINJA, check, used_variables

SLUG = re.compile(r"[^a-z0-9._-]+")
GUESSED = ("title", "description", "tags", "useCase", "industry")  # what --keep may name


def candidates(root: Path) -> list[Path]:
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a directory")
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "system.md").is_file())


def slug(folder: Path) -> str:
    name = SLUG.sub("-", folder.name.lower()).strip("-._")[:63]
    return (name[:-4] + "-git") if name.endswith(".git") else name


def template_files(folder: Path, keep: frozenset[str] = frozenset()) -> tuple[dict[str, bytes], Guess]:
    """The files of the new repo, with a generated template.json, and the metadata it holds
    (guessed but for the fields in `keep`); InvalidInput if it can't validate."""
    files = {"prompts/system.md": (folder / "system.md").read_bytes()}
    if (folder / "user.md").is_file():
        files["prompts/user.md"] = (folder / "user.md").read_bytes()
    readme = (folder / "README.md").read_text("utf-8", "replace") if (folder / "README.md").is_file() else ""
    if readme:
        files["README.md"] = readme.encode()
    meta = _metadata(folder, files, readme, keep)
    manifest = _manifest(folder, files, meta)
    files["template.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    result = check(files.get, _no_parents)
    if not result.ok:
        first = result.problems[0]
        raise InvalidInput(f"{folder.name}: generated manifest is invalid at {first.path}: {first.message}")
    return files, meta


def _metadata(folder: Path, files: dict[str, bytes], readme: str, keep: frozenset[str]) -> Guess:
    unknown = keep - set(GUESSED)
    if unknown:
        raise InvalidInput(f"--keep takes {', '.join(GUESSED)}; not {', '.join(sorted(unknown))}")
    found = guess(folder.name, readme, files["prompts/system.md"].decode("utf-8", "replace"))
    return Guess(
        title=found.title,  # from the name, never from the text: keeping it changes nothing
        description=f"Imported from {folder.name}" if "description" in keep or not found.description
        else found.description,
        tags=("imported",) if "tags" in keep or not found.tags else found.tags,
        use_case="general" if "useCase" in keep else found.use_case,
        industry="other" if "industry" in keep else found.industry)


def _manifest(folder: Path, files: dict[str, bytes], meta: Guess) -> dict[str, Any]:
    user = files.get("prompts/user.md")
    variables: set[str] = set()
    literal = False  # a prompt that is no valid Jinja2 (braces in code samples, JSON, Mustache)
    for path in ("prompts/system.md", "prompts/user.md"):
        if path in files:
            try:
                text = files[path].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{folder.name}/{Path(path).name}: not UTF-8 text ({exc})") from None
            try:
                variables |= used_variables(JINJA.parse(text))
            except TemplateSyntaxError:
                literal = True
    if literal:
        variables = set()  # literal text has no parameters
    elif user is None:
        variables.add("input")
    return {
        "title": meta.title,
        "description": meta.description,
        "industry": meta.industry,
        "useCase": meta.use_case,
        "tags": list(meta.tags),
        "status": "published",  # imported for the gallery: listed at once
        "promptConfig": {
            "format": "text" if literal else "jinja2",
            "systemPrompt": {"file": "prompts/system.md"},
            "userPromptTemplate": {"file": "prompts/user.md"} if user is not None else ("" if literal else "{{ input }}"),
            "parameters": [{"name": v, "type": "string", "description": v.replace("_", " "), "required": True}
                           for v in sorted(variables)],
            "constraints": {},
        },
        "mcpServers": [],
        "saasIntegrations": [],
        "agentConfig": {},
        "metadata": {"importedFrom": folder.name},
    }


def _no_parents(template: str, ref: str) -> NoReturn:
    raise InvalidInput("imported templates do not extend others")
