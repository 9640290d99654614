"""Load and check a template's manifest (template.json) at one commit.

Checks, each reported as a Problem with a JSON path: JSON syntax, the JSON Schema, tool
input/output schemas being JSON Schemas themselves, `extends` resolved from the parent at
its pinned ref (missing parents and cycles are errors), prompt text read from files, Jinja2
syntax, and every variable a prompt or step condition uses being a declared parameter.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from . import jsonsafe, schemas
from .errors import NotFound

MANIFEST = "template.json"
FileSource = Callable[[str], "bytes | None"]  # a path in one commit's tree -> its bytes
ParentLoader = Callable[[str, str], FileSource]  # ("owner/name", ref) -> that commit's files
JINJA = SandboxedEnvironment()  # parses only: nothing from a manifest is compiled or run here
PY_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None  # in the prompt text, where a Jinja2 problem is (1-based)

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class Checked:
    """The manifest with `extends` merged in and prompt files read, and what is wrong with it."""

    manifest: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    files: FileSource | None = None  # where it was read from, while that is open
    resolved: dict[str, str] = field(default_factory=dict)  # extends ranges -> the versions they chose

    @property
    def ok(self) -> bool:
        return not self.problems


def check(files: FileSource, parents: ParentLoader, chain: tuple[str, ...] = ()) -> Checked:
    raw = files(MANIFEST)
    if raw is None:
        return Checked(None, [Problem("$", f"{MANIFEST} is missing at the repository root")])
    try:
        manifest = jsonsafe.loads(raw)
    except ValueError as exc:
        return Checked(None, [Problem("$", f"invalid JSON: {exc}")])
    if not isinstance(manifest, dict):
        return Checked(None, [Problem("$", "the manifest must be a JSON object")])
    problems: list[Problem] = []
    own = _read_prompt_files(manifest, files, problems)
    merged = own
    if isinstance(own.get("extends"), dict):
        merged = _extend(own, parents, chain, problems)
    if problems:
        return Checked(merged, problems)
    problems += [Problem(e.json_path, e.message) for e in
                 sorted(schemas.validator("template.schema.json").iter_errors(merged), key=lambda e: e.json_path)]
    if not problems:
        problems += _semantic_problems(merged)
    return Checked(merged, problems)


def _read_prompt_files(manifest: dict[str, Any], files: FileSource, problems: list[Problem]) -> dict[str, Any]:
    config = manifest.get("promptConfig")
    if not isinstance(config, dict):
        return manifest
    config = dict(config)
    for key in ("systemPrompt", "userPromptTemplate"):
        value = config.get(key)
        if isinstance(value, dict) and isinstance(value.get("file"), str):
            parts = value["file"].replace("\\", "/").split("/")
            if value["file"].startswith("/") or any(part in ("", ".", "..") for part in parts):
                problems.append(Problem(f"$.promptConfig.{key}.file",
                                        f"{value['file']!r} must be a relative path inside the repository"))
                continue
            data = files(value["file"])
            if data is None:
                problems.append(Problem(f"$.promptConfig.{key}.file", f"file {value['file']!r} not found"))
                continue
            try:
                config[key] = data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(Problem(f"$.promptConfig.{key}.file", f"{value['file']!r} is not UTF-8 text"))
    return {**manifest, "promptConfig": config}


def _extend(own: dict[str, Any], parents: ParentLoader, chain: tuple[str, ...], problems: list[Problem]) -> dict[str, Any]:
    ext = own["extends"]
    target, ref = ext.get("template"), ext.get("ref")
    if not isinstance(target, str) or not isinstance(ref, str):
        problems.append(Problem("$.extends", "extends needs a template (owner/name) and a ref"))
        return own
    key = f"{target}@{ref}"
    if key in chain:
        problems.append(Problem("$.extends", "extends cycle: " + " -> ".join((*chain, key))))
        return own
    try:
        parent_files = parents(target, ref)
    except NotFound as exc:
        where = "$.extends.ref" if "ref" in exc.code or "commit" in exc.message else "$.extends.template"
        problems.append(Problem(where, f"cannot resolve parent {key}: {exc.message}"))
        return own
    parent = check(parent_files, parents, (*chain, key))
    if parent.manifest is None or not parent.ok:
        first = parent.problems[0]
        problems.append(Problem("$.extends", f"parent {key} is invalid: {first.path}: {first.message}"))
        return own
    child = {k: v for k, v in own.items() if k != "extends"}
    return {**merge(parent.manifest, child), "extends": ext}


def merge(parent: Any, child: Any) -> Any:
    """Child overrides parent; objects merge key by key; named lists merge item by name."""
    if isinstance(parent, dict) and isinstance(child, dict):
        out = dict(parent)
        for key, value in child.items():
            out[key] = merge(parent[key], value) if key in parent else value
        return out
    if isinstance(parent, list) and isinstance(child, list):
        name = _list_key(parent + child)
        if name:
            by_name = {item[name]: item for item in parent}
            for item in child:
                by_name[item[name]] = merge(by_name[item[name]], item) if item[name] in by_name else item
            return list(by_name.values())
    return child


def _list_key(items: list[Any]) -> str | None:
    for key in ("name", "serverId", "id"):
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            return key
    return None


def _semantic_problems(m: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    config = m["promptConfig"]
    params = config.get("parameters", [])
    declared = set()
    for i, p in enumerate(params):
        path = f"$.promptConfig.parameters[{i}]"
        if p["name"] in declared:
            problems.append(Problem(f"{path}.name", f"parameter {p['name']!r} is declared twice"))
        declared.add(p["name"])
        expected = PY_TYPES[p["type"]]
        if "default" in p and not _is(p["default"], expected):
            problems.append(Problem(f"{path}.default", f"default is not of type {p['type']}"))
        for j, option in enumerate(p.get("enum", [])):
            if not _is(option, expected):
                problems.append(Problem(f"{path}.enum[{j}]", f"enum value is not of type {p['type']}"))
        if "default" in p and "enum" in p and p["default"] not in p["enum"]:
            problems.append(Problem(f"{path}.default", "default is not one of enum"))
    if config.get("format", "jinja2") == "jinja2":  # "text": literal, never parsed (braces are characters)
        for key in ("systemPrompt", "userPromptTemplate"):
            problems += template_problems(config[key], f"$.promptConfig.{key}", declared)
    tools: set[str] = set()
    for i, server in enumerate(m.get("mcpServers", [])):
        for j, tool in enumerate(server.get("tools", [])):
            tools.add(f"{server['serverId']}/{tool['name']}")
            for part in ("inputSchema", "outputSchema"):
                if part in tool and (why := schemas.schema_problem(tool[part])):
                    problems.append(Problem(f"$.mcpServers[{i}].tools[{j}].{part}", f"not a valid JSON Schema: {why}"))
    services = {f"{s['provider']}/{s['service']}" for s in m.get("saasIntegrations", [])}
    for i, step in enumerate((m.get("agentConfig") or {}).get("steps", [])):
        kind, _, target = step["uses"].partition(":")
        if kind == "mcp" and target not in tools:
            problems.append(Problem(f"$.agentConfig.steps[{i}].uses", f"no MCP tool {target!r} is declared"))
        if kind == "saas" and target not in services:
            problems.append(Problem(f"$.agentConfig.steps[{i}].uses", f"no SaaS integration {target!r} is declared"))
        if "when" in step:
            problems += template_problems(step["when"], f"$.agentConfig.steps[{i}].when", declared)
    return problems


def template_problems(text: str, path: str, declared: set[str]) -> list[Problem]:
    """Jinja2 syntax errors, and variables used but not declared as parameters."""
    try:
        ast = JINJA.parse(text)
    except TemplateSyntaxError as exc:
        return [Problem(path, f"Jinja2 syntax error on line {exc.lineno}: {exc.message}", exc.lineno)]
    undeclared = used_variables(ast) - declared
    if not undeclared:
        return []
    lines: dict[str, int] = {}
    for node in ast.find_all(nodes.Name):
        if node.name in undeclared:
            lines[node.name] = min(lines.get(node.name, node.lineno), node.lineno)
    return [Problem(path, f"variable {name!r} is not a declared parameter", lines.get(name))
            for name in sorted(undeclared)]


def used_variables(ast: nodes.Template) -> set[str]:
    """Names a template reads and never sets itself (by `set`, `for`, `with`, macro arguments).

    Walks the syntax tree instead of jinja2.meta.find_undeclared_variables, whose code generator
    folds constants: `{{ 'x' * 4000000000 }}` would build a 4 GB string in the server. Scopes
    are ignored (a name set anywhere counts as set), which can only miss a problem, never invent one.
    """
    loaded: set[str] = set()
    stored = set(JINJA.globals) | {"loop", "caller", "varargs", "kwargs", "self"}
    for name in ast.find_all(nodes.Name):
        (loaded if name.ctx == "load" else stored).add(name.name)
    stored |= {m.name for m in ast.find_all(nodes.Macro)}
    return loaded - stored


def _is(value: Any, expected: Any) -> bool:
    if isinstance(value, bool) and expected is not bool:
        return False
    return isinstance(value, expected)
