"""template.json as a form: the fields a person fills in on /new and when editing the manifest
(title, description, industry, use case, tags, status, prompts, parameters, constraints, MCP
servers, SaaS integrations, agent steps), read from flat form fields, and written back into a
manifest keeping every key the form does not know, and the file's key order (so diffs stay small).

Rows are fields named `KIND-N-FIELD` (`param-0-name`); a submit button named `row` adds, removes
or moves one (`add:param`, `remove:param:2`, `up:step:1`): the form works without script."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import jsonsafe
from ..errors import InvalidInput

MAX_ROWS = 100
MAX_FIELD = 200_000  # a prompt; other fields are bounded by the schema the result is checked against
ROWS: dict[str, tuple[str, ...]] = {
    "param": ("name", "type", "description", "required", "default"),
    "mcp": ("serverId", "serverType", "endpoint"),
    "saas": ("provider", "service"),
    "step": ("id", "uses", "when"),
}
KEYS = {"param": "name", "mcp": "serverId", "saas": "service", "step": "id"}  # how a row finds its old item
SCALARS = ("title", "description", "industry", "useCase", "status")


@dataclass
class ManifestForm:
    values: dict[str, str] = field(default_factory=dict)  # scalars, tags, format, prompts, constraints
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {kind: [] for kind in ROWS})
    errors: dict[str, str] = field(default_factory=dict)  # field name -> why

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def parse_manifest(text: str) -> dict[str, Any]:
    """template.json's text as an object (depth-bounded), or InvalidInput: edit it as text."""
    try:
        manifest = jsonsafe.loads(text.encode())
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict):
        raise InvalidInput("template.json is not a JSON object: edit it as text", field="template.json")
    return manifest


def from_manifest(manifest: Mapping[str, Any], system: str, user: str) -> ManifestForm:
    """The form for a manifest; the prompts' text is given (it may live in files)."""
    config = manifest.get("promptConfig") if isinstance(manifest.get("promptConfig"), dict) else {}
    assert isinstance(config, dict)
    constraints = config.get("constraints") if isinstance(config.get("constraints"), dict) else {}
    assert isinstance(constraints, dict)
    form = ManifestForm({k: _text(manifest.get(k)) for k in SCALARS})
    form.values.update(tags=", ".join(t for t in manifest.get("tags") or [] if isinstance(t, str)),
                       format=str(config.get("format", "jinja2")), systemPrompt=system, userPromptTemplate=user,
                       maxTokens=_text(constraints.get("maxTokens")), temperature=_text(constraints.get("temperature")))
    agent = manifest.get("agentConfig") if isinstance(manifest.get("agentConfig"), dict) else {}
    assert isinstance(agent, dict)
    form.values["orchestration"] = str(agent.get("orchestration", ""))
    sources = {"param": config.get("parameters"), "mcp": manifest.get("mcpServers"),
               "saas": manifest.get("saasIntegrations"), "step": agent.get("steps")}
    for kind, items in sources.items():
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            row = {f: _text(item.get(f)) for f in ROWS[kind]}
            if kind == "param":
                row["required"] = "on" if item.get("required") else ""
            if kind == "mcp":
                conf = item.get("configuration")
                row["endpoint"] = _text(conf.get("endpoint")) if isinstance(conf, dict) else ""
            form.rows[kind].append(row)
    return form


def from_fields(fields: Mapping[str, str]) -> tuple[ManifestForm, str | None]:
    """The form as posted, with the row action applied; and that action (None: none asked)."""
    form = ManifestForm()
    for name in (*SCALARS, "tags", "format", "systemPrompt", "userPromptTemplate", "maxTokens", "temperature",
                 "orchestration"):
        value = fields.get(name, "")
        if len(value) > MAX_FIELD:
            raise InvalidInput(f"{name} is longer than {MAX_FIELD} characters", field=name)
        form.values[name] = value
    for kind, names in ROWS.items():
        count = _count(fields.get(f"{kind}-count", "0"), kind)
        for i in range(count):
            row = {f: fields.get(f"{kind}-{i}-{f}", "")[:MAX_FIELD] for f in names}
            if fields.get(f"{kind}-{i}-remove") != "on":
                form.rows[kind].append(row)
    action = fields.get("row") or None
    if action:
        _apply(form, action)
    return form, action


def _count(value: str, kind: str) -> int:
    if not value.isdigit() or int(value) > MAX_ROWS:
        raise InvalidInput(f"at most {MAX_ROWS} rows of {kind}", field=f"{kind}-count")
    return int(value)


def _apply(form: ManifestForm, action: str) -> None:
    verb, _, rest = action.partition(":")
    kind, _, index = rest.partition(":")
    rows = form.rows.get(kind)
    if rows is None or verb not in ("add", "remove", "up", "down"):
        raise InvalidInput(f"unknown row action {action!r}", field="row")
    if verb == "add":
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"at most {MAX_ROWS} rows of {kind}", field=f"{kind}-count")
        rows.append({f: ("string" if f == "type" else "") for f in ROWS[kind]})
        return
    if not index.isdigit() or int(index) >= len(rows):
        raise InvalidInput(f"no row {index} of {kind}", field="row")
    i = int(index)
    if verb == "remove":
        rows.pop(i)
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i + 1 < len(rows):
        rows[i + 1], rows[i] = rows[i], rows[i + 1]


def to_manifest(form: ManifestForm, base: Mapping[str, Any] | None, prompt_files: Mapping[str, str]) -> dict[str, Any]:
    """`base` (a manifest, or None for a new one) with the form's values written in; the prompts
    become `{"file": …}` references where `prompt_files` names a file for them. Problems with
    what was typed go to `form.errors`; the schema check of the result finds the rest."""
    out: dict[str, Any] = dict(base or {})
    for key in SCALARS:
        if form.get(key) or key in out:
            out[key] = form.get(key)
    tags = [t.strip().lower() for t in form.get("tags").split(",") if t.strip()]
    if tags or "tags" in out:
        out["tags"] = list(dict.fromkeys(tags))
    config = dict(out.get("promptConfig") or {}) if isinstance(out.get("promptConfig"), dict) else {}
    if form.get("format") in ("jinja2", "text") and (form.get("format") != "jinja2" or "format" in config):
        config["format"] = form.get("format")
    for key in ("systemPrompt", "userPromptTemplate"):
        config[key] = {"file": prompt_files[key]} if key in prompt_files else form.get(key)
    config["parameters"] = _merge_rows(form, "param", config.get("parameters"))
    constraints = dict(config.get("constraints") or {}) if isinstance(config.get("constraints"), dict) else {}
    for key, kind in (("maxTokens", int), ("temperature", float)):
        raw = form.get(key).strip()
        if not raw:
            constraints.pop(key, None)
            continue
        try:
            constraints[key] = kind(raw)
        except ValueError:
            form.errors[key] = f"{key} must be a{'n integer' if kind is int else ' number'}"
    if constraints or "constraints" in config:
        config["constraints"] = constraints
    out["promptConfig"] = config
    out["mcpServers"] = _merge_rows(form, "mcp", out.get("mcpServers"))
    out["saasIntegrations"] = _merge_rows(form, "saas", out.get("saasIntegrations"))
    agent = dict(out.get("agentConfig") or {}) if isinstance(out.get("agentConfig"), dict) else {}
    if form.get("orchestration"):
        agent["orchestration"] = form.get("orchestration")
    steps = _merge_rows(form, "step", agent.get("steps"))
    if steps or "steps" in agent:
        agent["steps"] = steps
    out["agentConfig"] = agent
    return out


def _merge_rows(form: ManifestForm, kind: str, old: Any) -> list[Any]:
    """The form's rows as items, each starting from the old item with the same key (its keys
    the form does not show are kept, in their order)."""
    olds = {str(item.get(KEYS[kind])): item for item in old if isinstance(item, dict)} if isinstance(old, list) else {}
    items = []
    for i, row in enumerate(form.rows[kind]):
        item: dict[str, Any] = dict(olds.get(row.get(KEYS[kind], ""), {}))
        for name, value in row.items():
            if kind == "param" and name == "required":
                item["required"] = value == "on"
            elif kind == "param" and name == "default":
                if value == "":
                    item.pop("default", None)
                else:
                    item["default"] = _typed_default(form, i, row.get("type", "string"), value)
            elif kind == "mcp" and name == "endpoint":
                conf = dict(item.get("configuration") or {})
                if value:
                    conf["endpoint"] = value
                else:
                    conf.pop("endpoint", None)
                if conf or "configuration" in item:
                    item["configuration"] = conf
            elif value or name in item:
                item[name] = value
        items.append(item)
    return items


def _typed_default(form: ManifestForm, i: int, kind: str, value: str) -> Any:
    if kind == "string":
        return value
    try:
        return json.loads(value)
    except ValueError:
        form.errors[f"param-{i}-default"] = f"the default must be a JSON {kind}"
        return value
