"""The run timeline and the per-version chart (api/web/timeline.py): steps on one axis, the
slowest marked, names escaped; nothing drawn without timings."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from api.web.timeline import run_timeline, slowest, versions_chart

SVG = "{http://www.w3.org/2000/svg}"
REPORT = {"passed": 1, "failed": 1, "errors": 0, "cases": [
    {"name": "<b>first</b>", "file": "tests/a.json", "outcome": "passed", "failures": [], "start_ms": 0,
     "steps": [{"name": "render", "start_ms": 0, "duration_ms": 2}, {"name": "model call", "start_ms": 2, "duration_ms": 40},
               {"name": "assertions", "start_ms": 42, "duration_ms": 1}]},
    {"name": "second", "file": "tests/b.json", "outcome": "failed", "failures": ["x"], "start_ms": 43,
     "steps": [{"name": "render", "start_ms": 0, "duration_ms": 5}, {"name": "assertions", "start_ms": 5, "duration_ms": 1}]},
]}


def test_each_case_is_a_row_of_steps_on_one_axis_and_the_slowest_is_marked():
    assert slowest(REPORT) == ("<b>first</b>", "model call", 40.0)
    drawn = run_timeline(REPORT)
    root = ET.fromstring(str(drawn))
    rects = root.findall(f"{SVG}rect")
    titles = [r.find(f"{SVG}title").text for r in rects if r.find(f"{SVG}title") is not None]
    assert "<b>first</b> · model call: 40.0 ms (slowest)" in titles and "second · render: 5.0 ms" in titles
    marked = [r for r in rects if r.get("stroke")]
    assert len(marked) == 1 and float(marked[0].get("width")) > float(rects[0].get("width"))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<b>first</b>" in texts and "slowest" in texts and "49.0 ms" in texts  # escaped in the markup
    assert "<b>" not in str(drawn)
    second = next(r for r in rects if r.find(f"{SVG}title") is not None and r.find(f"{SVG}title").text.startswith("second"))
    assert float(second.get("x")) > 120 + 230 * 40 / 49  # it starts after the first case ended


def test_nothing_is_drawn_without_timings():
    assert run_timeline(None) is None and slowest({"cases": [{"name": "old"}]}) is None
    assert versions_chart([{"version": "1.0.0", "pass_rate": None, "duration_s": None, "cost_usd": None}]) is None


def test_the_versions_chart_has_a_bar_per_version_and_measure():
    rows = [{"version": "1.0.0", "pass_rate": 0.5, "duration_s": 2.0, "cost_usd": 0.01},
            {"version": "<v2>", "pass_rate": 1.0, "duration_s": 1.0, "cost_usd": None}]
    root = ET.fromstring(str(versions_chart(rows)))
    titles = [r.find(f"{SVG}title").text for r in root.iter(f"{SVG}rect")]
    assert titles == ["1.0.0: pass rate 50%", "<v2>: pass rate 100%", "1.0.0: duration 2.00 s",
                      "<v2>: duration 1.00 s", "1.0.0: cost $0.0100"]
