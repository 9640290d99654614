"""The flow graph of a manifest (registry/graphs/flow.py), its Mermaid source and its SVG drawn
from Graphviz's layout (draw.py): every node titled and described, hostile text escaped."""
from __future__ import annotations

import copy
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from registry.graphs import draw, flow

RICH = json.loads((Path(__file__).resolve().parents[3] / "shared" / "examples" / "rich.template.json").read_text())
SVG = "{http://www.w3.org/2000/svg}"


def _labels(g):
    return {n.id: n.label for n in g.nodes}


def _edges(g):
    labels = _labels(g)
    return {(labels[e.source], labels[e.target], e.label) for e in g.edges}


def test_parameters_flow_into_the_prompts_that_use_them_and_steps_run_in_order():
    g = flow.flow(RICH)
    edges = _edges(g)
    assert ("genre: string (required)", "User prompt", "") in edges
    assert ("episodes: integer", "User prompt", "") in edges
    assert ("System prompt", "Model: any-chat-model", "") in edges
    assert ("Model: any-chat-model", "1. research", "") in edges
    assert ("1. research", "firecrawl/firecrawl_search", "uses") in edges
    assert ("2. plan", "3. teaser", "when {{ genre != 'comedy' }}") in edges
    assert ("3. teaser", "SaaS kling/text-to-video", "uses") in edges
    assert ("MCP firecrawl (firecrawl)", "firecrawl/firecrawl_search", "") in edges
    model = next(n for n in g.nodes if n.kind == "model")
    assert "maxTokens=2000" in model.desc and "temperature=0.8" in model.desc


def test_depends_on_orders_steps_and_without_steps_the_model_uses_every_tool():
    m = copy.deepcopy(RICH)
    m["agentConfig"] = {"orchestration": "parallel", "steps": [
        {"id": "a", "uses": "llm"}, {"id": "b", "uses": "llm"}, {"id": "c", "uses": "llm", "dependsOn": ["a", "b"]}]}
    edges = _edges(flow.flow(m))
    assert {("1. a", "3. c", ""), ("2. b", "3. c", "")} <= edges
    assert ("Model: any-chat-model", "2. b", "") in edges  # parallel: each starts from the model
    del m["agentConfig"]
    edges = _edges(flow.flow(m))
    assert ("Model: any-chat-model", "MCP firecrawl (firecrawl)", "") in edges


def test_a_broken_manifest_still_gives_a_graph():
    g = flow.flow({"promptConfig": {"parameters": "no", "userPromptTemplate": "{{ x"}, "mcpServers": [1, {}]})
    assert [n.kind for n in g.nodes] == ["prompt", "prompt", "model", "server"]


HOSTILE = '</title><script>alert(1)</script> "quoted" & [x] {y} | #z'


def test_mermaid_quotes_every_label_and_escapes_its_syntax():
    m = copy.deepcopy(RICH)
    m["promptConfig"]["parameters"][0]["name"] = "x"
    m["mcpServers"][0]["serverId"] = HOSTILE
    source = flow.mermaid(flow.flow(m))
    assert source.startswith("flowchart TD\n")
    assert "<script>" not in source and '"quoted"' not in source and "[x]" not in source
    assert "#lt;/title#gt;#lt;script#gt;" in source
    for line in source.splitlines()[2:]:
        assert line.startswith(("  n", "  class")), line


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed (.ci/run installs it)")
def test_the_svg_titles_and_describes_every_node_and_escapes_text():
    m = copy.deepcopy(RICH)
    m["mcpServers"][0]["tools"][0]["description"] = HOSTILE
    g = flow.flow(m)
    drawn = draw.svg(g, "flow-svg")
    assert drawn is not None and "<script>" not in drawn
    root = ET.fromstring(drawn)  # well-formed
    assert root.get("role") == "img" and root.get("aria-describedby") == "flow-svg-list"
    nodes = [el for el in root.iter(f"{SVG}g") if "node" in (el.get("class") or "").split()]
    assert len(nodes) == len(g.nodes)
    for el in nodes:
        assert el.find(f"{SVG}title").text and el.find(f"{SVG}desc").text
    tool = next(el for el in nodes if el.find(f"{SVG}title").text == "firecrawl/firecrawl_search")
    assert tool.find(f"{SVG}desc").text == HOSTILE[:flow.DESC_CHARS]
    assert len([el for el in root.iter(f"{SVG}path") if el.get("d", "").startswith("M")]) > len(g.edges)
    assert draw.svg(g, "flow-svg") is drawn  # cached


def test_too_large_a_graph_is_not_drawn():
    m = {"promptConfig": {"parameters": [{"name": f"p{i}", "type": "string"} for i in range(200)],
                          "systemPrompt": "s", "userPromptTemplate": "u"}}
    g = flow.flow(m)
    assert len(g.nodes) > flow.MAX_NODES and not g.drawable and draw.svg(g, "x") is None
