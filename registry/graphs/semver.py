"""What kind of change one version of a template is from the one before, and whether its
version number says so (cargo-semver-checks and `buf breaking`, for prompt templates).

A template's users are the callers who pass its parameters and read what its tools return, and
the templates that extend it. For them, breaking (needs a major bump) is: a parameter removed or
renamed, made required (or a new one added as required without a default), its type changed, its
enum narrowed or newly imposed; an MCP server or tool removed, or a tool's output contract (its
`outputSchema`) changed or dropped; a SaaS integration removed. Minor: anything added that a caller
may ignore (an optional parameter, an enum value, a tool, a server, an integration, an agent step),
or a parameter made optional. Any other change (prompt text, constraints, descriptions) is a patch.

Under 0.x, as cargo reads it, a minor bump (0.1 -> 0.2) may break and a patch bump may add.
Pure: manifests in, verdicts out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import semver as semverlib

KINDS = ("none", "patch", "minor", "major")  # in order of weight


@dataclass(frozen=True)
class Change:
    path: str  # JSON path, items named: $.promptConfig.parameters[genre].enum
    kind: str  # major | minor | patch
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    kind: str  # none | patch | minor | major: the change's weight
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "major"]


def compare(old: Any, new: Any) -> Verdict:
    """The changes from manifest `old` to `new` (either may be {} or not a dict: no manifest)."""
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    changes = _parameters(old, new) + _servers(old, new) + _integrations(old, new) + _steps(old, new)
    if not changes and old != new:
        changes.append(Change("$", "patch", "the manifest changed (prompts, constraints or descriptions)"))
    kind = max((c.kind for c in changes), key=KINDS.index, default="none")
    return Verdict(kind, changes)


def bump(previous: str, current: str) -> str:
    """The kind of bump from version `previous` to `current` (parsed semver, no `v`): major,
    minor, patch, or none (a pre-release or build of the same version, or not higher). Under 0.x
    each part weighs one more (0.1.0 -> 0.2.0 is major, 0.1.0 -> 0.1.1 is minor)."""
    old, new = semverlib.Version.parse(previous), semverlib.Version.parse(current)
    if new <= old:
        return "none"
    if new.major != old.major:
        return "major"
    if old.major == 0:
        return "major" if new.minor != old.minor else "minor" if new.patch != old.patch else "none"
    return "minor" if new.minor != old.minor else "patch" if new.patch != old.patch else "none"


def needed(kind: str, previous: str) -> str:
    """The lowest version after `previous` whose bump allows a change of `kind`."""
    v = semverlib.Version.parse(previous).finalize_version()
    if kind == "major":
        return str(v.bump_minor() if v.major == 0 else v.bump_major())
    if kind == "minor":
        return str(v.bump_patch() if v.major == 0 else v.bump_minor())
    return str(v.bump_patch())


def allowed(verdict: Verdict, previous: str, current: str) -> bool:
    """Whether the bump from `previous` to `current` covers the change (only breaking changes
    are held to it: a patch that adds something is common and harmless)."""
    return verdict.kind != "major" or bump(previous, current) == "major"


def _by_name(items: Any, key: str) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {item[key]: item for item in items if isinstance(item, dict) and isinstance(item.get(key), str)}


def _params(m: dict[str, Any]) -> dict[str, dict[str, Any]]:
    config = m.get("promptConfig")
    return _by_name(config.get("parameters"), "name") if isinstance(config, dict) else {}


def _parameters(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    before, after = _params(old), _params(new)
    out: list[Change] = []
    added = [n for n in after if n not in before]
    for name, p in before.items():
        path = f"$.promptConfig.parameters[{name}]"
        q = after.get(name)
        if q is None:
            like = [n for n in added if after[n].get("type") == p.get("type")]
            hint = f" (renamed to {like[0]!r}?)" if len(like) == 1 else ""
            out.append(Change(path, "major", f"parameter {name!r} was removed{hint}"))
            continue
        if q.get("type") != p.get("type"):
            out.append(Change(f"{path}.type", "major", f"parameter {name!r} changed type from "
                                                        f"{p.get('type')} to {q.get('type')}"))
        was, now = bool(p.get("required")), bool(q.get("required"))
        if now and not was:
            out.append(Change(f"{path}.required", "major", f"parameter {name!r} became required"))
        elif was and not now:
            out.append(Change(f"{path}.required", "minor", f"parameter {name!r} became optional"))
        out += _enum(path, name, p.get("enum"), q.get("enum"))
        if p.get("default") != q.get("default") or p.get("description") != q.get("description"):
            out.append(Change(path, "patch", f"parameter {name!r}: default or description changed"))
    for name in added:
        q = after[name]
        path = f"$.promptConfig.parameters[{name}]"
        if q.get("required") and "default" not in q:
            out.append(Change(path, "major", f"parameter {name!r} was added as required"))
        else:
            out.append(Change(path, "minor", f"optional parameter {name!r} was added"))
    return out


def _enum(path: str, name: str, old: Any, new: Any) -> list[Change]:
    if old == new or (new is None and old is None):
        return []
    if new is None:  # the restriction was lifted
        return [Change(f"{path}.enum", "minor", f"parameter {name!r} no longer restricts its values")]
    if not isinstance(new, list):
        return []
    if old is None:
        return [Change(f"{path}.enum", "major", f"parameter {name!r} now only accepts {_few(new)}")]
    if not isinstance(old, list):
        return []
    gone = [v for v in old if v not in new]
    if gone:
        return [Change(f"{path}.enum", "major", f"parameter {name!r} no longer accepts {_few(gone)}")]
    return [Change(f"{path}.enum", "minor", f"parameter {name!r} also accepts {_few([v for v in new if v not in old])}")]


def _few(values: list[Any]) -> str:
    shown = ", ".join(repr(v)[:40] for v in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


def _servers(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    before, after = _by_name(old.get("mcpServers"), "serverId"), _by_name(new.get("mcpServers"), "serverId")
    out: list[Change] = []
    for sid, server in before.items():
        path = f"$.mcpServers[{sid}]"
        if sid not in after:
            out.append(Change(path, "major", f"MCP server {sid!r} was removed"))
            continue
        tools, now = _by_name(server.get("tools"), "name"), _by_name(after[sid].get("tools"), "name")
        for tname, tool in tools.items():
            tpath = f"{path}.tools[{tname}]"
            if tname not in now:
                out.append(Change(tpath, "major", f"MCP tool {sid}/{tname} was removed"))
            elif "outputSchema" in tool and tool["outputSchema"] != now[tname].get("outputSchema"):
                out.append(Change(f"{tpath}.outputSchema", "major", f"MCP tool {sid}/{tname} changed its output contract"))
            elif tool != now[tname]:
                out.append(Change(tpath, "patch", f"MCP tool {sid}/{tname} changed"))
        out += [Change(f"{path}.tools[{t}]", "minor", f"MCP tool {sid}/{t} was added") for t in now if t not in tools]
    out += [Change(f"$.mcpServers[{sid}]", "minor", f"MCP server {sid!r} was added") for sid in after if sid not in before]
    return out


def _integrations(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    def keys(m: dict[str, Any]) -> set[str]:
        items = m.get("saasIntegrations")
        return {f"{i.get('provider')}/{i.get('service')}" for i in items if isinstance(i, dict)} \
            if isinstance(items, list) else set()

    before, after = keys(old), keys(new)
    gone = [Change(f"$.saasIntegrations[{k}]", "major", f"SaaS integration {k} was removed") for k in sorted(before - after)]
    return gone + [Change(f"$.saasIntegrations[{k}]", "minor", f"SaaS integration {k} was added")
                   for k in sorted(after - before)]


def _steps(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    def steps(m: dict[str, Any]) -> dict[str, dict[str, Any]]:
        agent = m.get("agentConfig")
        return _by_name(agent.get("steps"), "id") if isinstance(agent, dict) else {}

    before, after = steps(old), steps(new)
    return [Change(f"$.agentConfig.steps[{s}]", "minor", f"agent step {s!r} was added") for s in after if s not in before] \
        + [Change(f"$.agentConfig.steps[{s}]", "patch", f"agent step {s!r} was removed") for s in before if s not in after]
