import json
from pathlib import Path

from registry.sandbox.local import run_local
from registry.sandbox.runner import run

MINIMAL = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())
PARAMS = {"portfolio": "SME loans", "quarter": "Q3"}


def case(*asserts, params=PARAMS, name="c"):
    return {"name": name, "parameters": params, "assert": list(asserts)}


def test_assertions_on_the_rendered_prompt():
    report = run(MINIMAL, [("tests/a.json", case({"type": "contains", "value": "Q3"},
                                                 {"type": "not-contains", "value": "Q4"},
                                                 {"type": "regex", "value": r"SME \w+"},
                                                 {"type": "max-tokens", "value": 800}))])
    assert report["passed"] == 1 and report["cases"][0]["failures"] == []
    bad = run(MINIMAL, [("t.json", case({"type": "contains", "value": "Q4"}, {"type": "max-tokens", "value": 3},
                                       {"type": "json"}, {"type": "contains", "value": "x", "target": "output"}))])
    failures = bad["cases"][0]["failures"]
    assert bad["failed"] == 1 and len(failures) == 4
    assert failures[0] == "contains 'Q4': not found" and "no model provider" in failures[3]


def test_missing_parameter_is_a_render_error():
    report = run(MINIMAL, [("t.json", case({"type": "contains", "value": "Q3"}, params={"quarter": "Q3"}))])
    assert report["errors"] == 1 and "portfolio" in report["cases"][0]["failures"][0]


def test_isolated_run_reports_and_is_killed_by_its_limits():
    ok = run_local(MINIMAL, [("t.json", case({"type": "contains", "value": "Q3"}))])
    assert ok.error is None and ok.report["passed"] == 1 and ok.duration_s > 0
    hog = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "userPromptTemplate": "{{ 'x' * 4000000000 }}"}}
    assert "crashed" in run_local(hog, [("t.json", case({"type": "json"}))]).error
    spin = {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "userPromptTemplate":
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"}}
    slow = run_local(spin, [("t.json", case({"type": "json"}))], timeout_s=1.5)
    assert slow.error.startswith("killed") and slow.duration_s < 5
