"""A template's flow as a graph: parameters -> system and user prompt -> model (with its
constraints) -> MCP servers and their tools, SaaS integrations -> agent steps in their order,
with their conditions. Built from the resolved manifest (extends merged); the same graph is
drawn as SVG (`draw`), listed as text beside it, and written as Mermaid source (`mermaid`).

Everything in a manifest is hostile: labels are cut short here, and the graph is bounded
(`MAX_NODES`): a larger one is still listed, but not drawn.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError

from ..manifest import JINJA, used_variables

MAX_NODES = 80  # drawn up to this many
MAX_LISTED = 400  # listed up to this many: the rest of a larger manifest is left out, and said so
LABEL_CHARS = 48
DESC_CHARS = 300


@dataclass(frozen=True)
class Node:
    id: str  # n0, n1, ...: never text from the manifest
    kind: str  # parameter | prompt | model | server | tool | saas | step | template
    label: str
    desc: str = ""
    href: str | None = None  # a link (templates in the dependency graph)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False  # "uses" rather than "flows into"


class _Full(Exception):
    """The graph holds MAX_LISTED nodes: what is left is not added."""


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    title: str = ""
    truncated: bool = False  # parts were left out (past MAX_LISTED)

    def add(self, kind: str, label: str, desc: str = "", href: str | None = None) -> str:
        if len(self.nodes) >= MAX_LISTED:
            self.truncated = True
            raise _Full
        node = Node(f"n{len(self.nodes)}", kind, short(label, LABEL_CHARS), short(desc, DESC_CHARS), href)
        self.nodes.append(node)
        return node.id

    def link(self, source: str, target: str, label: str = "", dashed: bool = False) -> None:
        if len(self.edges) < 4 * MAX_LISTED:
            self.edges.append(Edge(source, target, short(label, LABEL_CHARS), dashed))

    def labels(self) -> dict[str, str]:
        return {n.id: n.label for n in self.nodes}

    def outgoing(self) -> dict[str, list[Edge]]:
        """Each node's edges out, for the text list beside a drawing."""
        out: dict[str, list[Edge]] = {}
        for e in self.edges:
            out.setdefault(e.source, []).append(e)
        return out

    @property
    def drawable(self) -> bool:
        return 0 < len(self.nodes) <= MAX_NODES


def short(text: Any, limit: int) -> str:
    line = " ".join(str(text).split())  # one line: no newlines or control spacing in a label
    return line if len(line) <= limit else line[:limit - 1] + "…"


def flow(manifest: dict[str, Any]) -> Graph:
    """The flow graph of a resolved manifest (one that validated, or near enough: missing or
    ill-typed parts are skipped, never an error)."""
    g = Graph(title="Flow of " + short(manifest.get("title") or "the template", LABEL_CHARS))
    try:
        _build(g, manifest)
    except _Full:
        pass
    return g


def _build(g: Graph, manifest: dict[str, Any]) -> None:
    config = manifest.get("promptConfig") if isinstance(manifest.get("promptConfig"), dict) else {}
    assert isinstance(config, dict)
    params = {p["name"]: p for p in _dicts(config.get("parameters")) if isinstance(p.get("name"), str)}
    param_ids = {name: g.add("parameter", f"{name}: {p.get('type', '?')}" + (" (required)" if p.get("required") else ""),
                             _param_desc(p)) for name, p in list(params.items())[:MAX_NODES]}
    system = g.add("prompt", "System prompt", _text_desc(config.get("systemPrompt")))
    user = g.add("prompt", "User prompt", _text_desc(config.get("userPromptTemplate")))
    jinja = config.get("format", "jinja2") == "jinja2"
    for prompt_id, key in ((system, "systemPrompt"), (user, "userPromptTemplate")):
        for name in sorted(_used(config.get(key)) if jinja else ()):
            if name in param_ids:
                g.link(param_ids[name], prompt_id)
    constraints = config.get("constraints") if isinstance(config.get("constraints"), dict) else {}
    assert isinstance(constraints, dict)
    model = g.add("model", "Model" + (f": {constraints['model']}" if isinstance(constraints.get("model"), str) else ""),
                  ", ".join(f"{k}={short(v, 30)}" for k, v in constraints.items() if k != "model") or "no constraints")
    g.link(system, model)
    g.link(user, model)
    tools: dict[str, str] = {}
    servers: list[str] = []
    for server in _dicts(manifest.get("mcpServers")):
        sid = str(server.get("serverId", "?"))
        node = g.add("server", f"MCP {sid}" + (f" ({server['serverType']})" if server.get("serverType") else ""),
                     _server_desc(server))
        servers.append(node)
        for tool in _dicts(server.get("tools")):
            tid = g.add("tool", f"{sid}/{tool.get('name', '?')}", str(tool.get("description") or "an MCP tool"))
            tools[f"{sid}/{tool.get('name')}"] = tid
            g.link(node, tid)
    saas: dict[str, str] = {}
    for item in _dicts(manifest.get("saasIntegrations")):
        key = f"{item.get('provider', '?')}/{item.get('service', '?')}"
        saas[key] = g.add("saas", f"SaaS {key}", "capabilities: " + (", ".join(
            str(c.get("type")) for c in _dicts(item.get("capabilities"))) or "none declared"))
    agent = manifest.get("agentConfig") if isinstance(manifest.get("agentConfig"), dict) else {}
    assert isinstance(agent, dict)
    steps = [s for s in _dicts(agent.get("steps")) if isinstance(s.get("id"), str)]
    if not steps:  # a single model call that may use every tool and integration
        for target in servers + list(saas.values()):
            g.link(model, target, dashed=True)
        return
    _steps(g, steps, str(agent.get("orchestration") or "sequential"), model, tools, saas)


def _steps(g: Graph, steps: list[dict[str, Any]], orchestration: str, model: str, tools: dict[str, str],
           saas: dict[str, str]) -> None:
    ids: dict[str, str] = {}
    for i, step in enumerate(steps, 1):
        uses = str(step.get("uses", ""))
        desc = f"step {i} of {len(steps)} ({orchestration}), uses {uses}"
        if isinstance(step.get("when"), str):
            desc += f", only when {step['when']}"
        ids[step["id"]] = g.add("step", f"{i}. {step['id']}", desc)
    previous: str | None = None
    for step in steps:
        node = ids[step["id"]]
        when = f"when {step['when']}" if isinstance(step.get("when"), str) else ""
        deps = [ids[d] for d in step.get("dependsOn", []) if isinstance(d, str) and d in ids] \
            if isinstance(step.get("dependsOn"), list) else []
        sources = deps or ([previous] if previous and orchestration in ("sequential", "conditional", "graph")
                           else [model])
        for source in sources:
            g.link(source, node, when)
        kind, _, target = str(step.get("uses", "")).partition(":")
        used = tools.get(target) if kind == "mcp" else saas.get(target) if kind == "saas" else model
        if used is not None and used != model:
            g.link(node, used, "uses", dashed=True)
        previous = node


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _used(text: Any) -> set[str]:
    if not isinstance(text, str):
        return set()
    try:
        return used_variables(JINJA.parse(text))
    except TemplateSyntaxError:
        return set()


def _param_desc(p: dict[str, Any]) -> str:
    parts = [str(p.get("description") or "a parameter")]
    if "enum" in p and isinstance(p["enum"], list):
        parts.append("one of " + ", ".join(short(v, 20) for v in p["enum"][:8]))
    if "default" in p:
        parts.append(f"default {short(p['default'], 30)}")
    return "; ".join(parts)


def _text_desc(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("file"), str):
        return f"read from {value['file']}"
    return short(value, 120) if isinstance(value, str) else "none"


def _server_desc(server: dict[str, Any]) -> str:
    tools = [str(t.get("name")) for t in _dicts(server.get("tools"))]
    return f"{len(tools)} tool{'s' if len(tools) != 1 else ''}" + (": " + ", ".join(tools[:10]) if tools else "")


def mermaid(g: Graph) -> str:
    """Mermaid flowchart source of the graph: ids are ours, labels quoted and escaped as Mermaid's
    entity codes, so no text from the manifest is read as syntax (or as HTML by a renderer)."""
    shapes = {"parameter": ("([", "])"), "prompt": ("[", "]"), "model": ("{{", "}}"), "server": ("[(", ")]"),
              "tool": ("[/", "/]"), "saas": ("[(", ")]"), "step": ("(", ")"), "template": ("[", "]")}
    lines = ["flowchart TD", f"  %% {_comment(g.title)}"]
    for n in g.nodes:
        left, right = shapes.get(n.kind, ("[", "]"))
        lines.append(f'  {n.id}{left}"{_escape(n.label)}"{right}')
    for e in g.edges:
        arrow = "-.->" if e.dashed else "-->"
        lines.append(f'  {e.source} {arrow}|"{_escape(e.label)}"| {e.target}' if e.label
                     else f"  {e.source} {arrow} {e.target}")
    for kind in sorted({n.kind for n in g.nodes}):
        fill, stroke, ink = MERMAID_COLOURS.get(kind, MERMAID_COLOURS["step"])
        lines.append(f"  classDef {kind} fill:{fill},stroke:{stroke},color:{ink}")
        lines.append(f"  class {','.join(n.id for n in g.nodes if n.kind == kind)} {kind}")
    return "\n".join(lines) + "\n"


MERMAID_COLOURS = {"parameter": ("#ddf4ff", "#0969da", "#0a3069"), "prompt": ("#fff8c5", "#9a6700", "#4d2d00"),
                   "model": ("#fbefff", "#8250df", "#3e1f79"), "server": ("#dafbe1", "#1a7f37", "#033a16"),
                   "tool": ("#f0fff4", "#1a7f37", "#033a16"), "saas": ("#fff1e5", "#bc4c00", "#5c2200"),
                   "step": ("#f6f8fa", "#57606a", "#1f2328"), "template": ("#f6f8fa", "#57606a", "#1f2328"),
                   "current": ("#ddf4ff", "#0969da", "#0a3069")}
MERMAID_ENTITIES = {"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "|": "#124;",
                    "`": "#96;", "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;", "(": "#40;", ")": "#41;"}


def _escape(text: str) -> str:
    return "".join(MERMAID_ENTITIES.get(ch, ch) for ch in text)


def _comment(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() and ch not in "%{}")
