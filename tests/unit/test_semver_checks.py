"""Semver verdicts on a table of manifest pairs (registry/graphs/semver.py): what breaks a
template's users needs a major bump; additions are minor; the rest is a patch."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from registry.graphs import semver

RICH = json.loads((Path(__file__).resolve().parents[3] / "shared" / "examples" / "rich.template.json").read_text())


def _with(change) -> dict:
    m = copy.deepcopy(RICH)
    change(m)
    return m


def _params(m):
    return m["promptConfig"]["parameters"]


def _param(m, name):
    return next(p for p in _params(m) if p["name"] == name)


def _tool(m):
    return m["mcpServers"][0]["tools"][0]


CASES = [  # (what, change, kind, path of the weightiest change)
    ("nothing", lambda m: None, "none", None),
    ("prompt text", lambda m: m["promptConfig"].update(userPromptTemplate="Logline: {{ logline }}"), "patch", "$"),
    ("constraints", lambda m: m["promptConfig"]["constraints"].update(temperature=0.2), "patch", "$"),
    ("parameter removed", lambda m: _params(m).pop(2), "major", "$.promptConfig.parameters[episodes]"),
    ("parameter renamed", lambda m: _param(m, "episodes").update(name="count"), "major",
     "$.promptConfig.parameters[episodes]"),
    ("parameter made required", lambda m: _param(m, "episodes").update(required=True), "major",
     "$.promptConfig.parameters[episodes].required"),
    ("parameter type", lambda m: _param(m, "episodes").update(type="string", default="0"), "major",
     "$.promptConfig.parameters[episodes].type"),
    ("enum narrowed", lambda m: _param(m, "genre")["enum"].remove("comedy"), "major",
     "$.promptConfig.parameters[genre].enum"),
    ("enum imposed", lambda m: _param(m, "logline").update(enum=["a", "b"]), "major",
     "$.promptConfig.parameters[logline].enum"),
    ("enum widened", lambda m: _param(m, "genre")["enum"].append("horror"), "minor",
     "$.promptConfig.parameters[genre].enum"),
    ("required param added", lambda m: _params(m).append({"name": "tone", "type": "string", "required": True}),
     "major", "$.promptConfig.parameters[tone]"),
    ("optional param added", lambda m: _params(m).append({"name": "tone", "type": "string"}), "minor",
     "$.promptConfig.parameters[tone]"),
    ("required param added with a default", lambda m: _params(m).append(
        {"name": "tone", "type": "string", "required": True, "default": "warm"}), "minor", "$.promptConfig.parameters[tone]"),
    ("parameter made optional", lambda m: _param(m, "genre").update(required=False), "minor",
     "$.promptConfig.parameters[genre].required"),
    ("MCP tool removed", lambda m: m["mcpServers"][0]["tools"].clear(), "major",
     "$.mcpServers[firecrawl].tools[firecrawl_search]"),
    ("MCP server removed", lambda m: m["mcpServers"].clear(), "major", "$.mcpServers[firecrawl]"),
    ("output contract changed", lambda m: _tool(m).update(outputSchema={"type": "array"}), "major",
     "$.mcpServers[firecrawl].tools[firecrawl_search].outputSchema"),
    ("output contract dropped", lambda m: _tool(m).pop("outputSchema"), "major",
     "$.mcpServers[firecrawl].tools[firecrawl_search].outputSchema"),
    ("tool description", lambda m: _tool(m).update(description="Search"), "patch",
     "$.mcpServers[firecrawl].tools[firecrawl_search]"),
    ("tool added", lambda m: m["mcpServers"][0]["tools"].append({"name": "scrape", "inputSchema": {}}), "minor",
     "$.mcpServers[firecrawl].tools[scrape]"),
    ("SaaS removed", lambda m: m["saasIntegrations"].clear(), "major", "$.saasIntegrations[kling/text-to-video]"),
    ("agent step added", lambda m: m["agentConfig"]["steps"].append({"id": "review", "uses": "llm"}), "minor",
     "$.agentConfig.steps[review]"),
]


@pytest.mark.parametrize(("what", "change", "kind", "path"), CASES, ids=[c[0] for c in CASES])
def test_verdicts(what, change, kind, path):
    verdict = semver.compare(RICH, _with(change))
    assert verdict.kind == kind, verdict.changes
    if path is not None:
        assert path in [c.path for c in verdict.changes if c.kind == kind]


def test_a_rename_is_reported_as_a_removal_with_a_hint():
    verdict = semver.compare(RICH, _with(lambda m: _param(m, "episodes").update(name="count")))
    assert [c.message for c in verdict.breaking] == ["parameter 'episodes' was removed (renamed to 'count'?)"]


def test_the_first_version_and_non_manifests_compare_to_nothing():
    assert semver.compare({}, {"title": "x"}).kind == "patch"
    assert semver.compare({}, RICH).kind == "major"  # required parameters appeared (callers say "initial")
    assert semver.compare(RICH, None).kind == "major"
    assert semver.compare("not a dict", []).kind == "none"


@pytest.mark.parametrize(("previous", "current", "kind"), [
    ("1.2.0", "2.0.0", "major"), ("1.2.0", "1.3.0", "minor"), ("1.2.0", "1.2.1", "patch"),
    ("1.2.0", "1.2.0", "none"), ("1.2.0", "1.1.0", "none"), ("1.2.0", "1.3.0-rc.1", "minor"),
    ("0.1.0", "0.2.0", "major"), ("0.1.0", "0.1.1", "minor"), ("0.1.0", "1.0.0", "major"),
])
def test_bumps(previous, current, kind):
    assert semver.bump(previous, current) == kind


def test_a_breaking_change_needs_a_major_bump_and_says_which():
    breaking = semver.compare(RICH, _with(lambda m: _params(m).pop(2)))
    assert not semver.allowed(breaking, "1.2.0", "1.3.0")
    assert not semver.allowed(breaking, "1.2.0", "1.2.1")
    assert semver.allowed(breaking, "1.2.0", "2.0.0")
    assert semver.allowed(breaking, "0.3.0", "0.4.0")
    assert semver.needed("major", "1.2.0") == "2.0.0" and semver.needed("major", "0.3.1") == "0.4.0"
    additive = semver.compare(RICH, _with(lambda m: _params(m).append({"name": "tone", "type": "string"})))
    assert semver.allowed(additive, "1.2.0", "1.2.1")
