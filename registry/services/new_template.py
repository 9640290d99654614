"""A new template from the /new form: the files its first commit holds (template.json with the
prompts in prompts/*.md, a README and one test case), checked as a push would check them before
anything is made, then the repository created and the commit landed through the push path (a
refused commit leaves no template behind). Also the examples a person can start from."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..access import Actor
from ..container import Container
from ..errors import InvalidInput, RegistryError
from ..meta import Template
from . import commits, templates, validation
from .manifest_form import ManifestForm, to_manifest

PROMPT_FILES = {"systemPrompt": "prompts/system.md", "userPromptTemplate": "prompts/user.md"}
EXAMPLES: dict[str, dict[str, Any]] = {
    "risk-report": {
        "title": "Quarterly risk report writer", "description": "Drafts a credit risk summary from a loan book extract.",
        "industry": "financial-services", "useCase": "risk-assessment", "tags": ["risk", "credit", "reporting"],
        "status": "published",
        "promptConfig": {"systemPrompt": "You are a careful credit risk analyst.",
                         "userPromptTemplate": "Summarise the risk of {{ portfolio }} for {{ quarter }}.",
                         "parameters": [{"name": "portfolio", "type": "string", "description": "portfolio name",
                                         "required": True, "default": "SME loans"},
                                        {"name": "quarter", "type": "string", "description": "quarter",
                                         "required": True, "default": "Q3"}],
                         "constraints": {"maxTokens": 800, "temperature": 0.2}}},
    "blank": {"title": "", "description": "", "industry": "other", "useCase": "", "status": "draft",
              "promptConfig": {"systemPrompt": "", "userPromptTemplate": "", "parameters": []}},
}


def first_files(form: ManifestForm) -> dict[str, str]:
    """The first commit's files for a filled-in form (form.errors gets what could not be read)."""
    manifest = to_manifest(form, None, PROMPT_FILES)
    config = manifest.get("promptConfig") or {}
    params = {p["name"]: p.get("default", "example") for p in config.get("parameters", []) if isinstance(p, dict)}
    limit = (config.get("constraints") or {}).get("maxTokens") or 4000
    case = {"name": "renders its prompts", "parameters": params, "assert": [{"type": "max-tokens", "value": limit}]}
    title = form.get("title") or "A prompt template"
    return {"template.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
            PROMPT_FILES["systemPrompt"]: _text(form.get("systemPrompt")),
            PROMPT_FILES["userPromptTemplate"]: _text(form.get("userPromptTemplate")),
            "README.md": f"# {title}\n\n{form.get('description')}\n",
            "tests/basic.json": json.dumps(case, indent=2, ensure_ascii=False) + "\n"}


def _text(value: str) -> str:
    value = value.replace("\r\n", "\n")
    return value if value.endswith("\n") or not value else value + "\n"


def problems(c: Container, actor: Actor, files: Mapping[str, str]) -> list[str]:
    """What the push's `validate` check would say of these files, as `path: message` lines."""
    return [f"{p.path}: {p.message}" for p in validation.validate(c, actor, dict(files))]


def create_from_form(c: Container, actor: Actor, name: str, visibility: str, form: ManifestForm) -> Template:
    """Create `name` with the form's files as its first commit on main. Refused when the form
    has problems (InvalidInput naming them); nothing is left behind when the commit is refused."""
    files = first_files(form)
    found = [f"{field}: {why}" for field, why in form.errors.items()] + problems(c, actor, files)
    if found:
        raise InvalidInput("the template has problems: " + "; ".join(found[:20]), problems=found)
    template = templates.create(c, actor, name, None, visibility, form.get("description")[:500])
    try:
        commits.commit_changes(c, actor, template.owner, template.name, "main", None, "Create the template",
                               [commits.Change(path, text.encode()) for path, text in files.items()])
    except RegistryError:
        templates.delete(c, actor, template.owner, template.name)
        raise
    return template
