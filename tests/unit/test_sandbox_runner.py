import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from registry.sandbox import cost, provider
from registry.sandbox.base import split_output
from registry.sandbox.local import LocalBackend
from registry.sandbox.runner import REPORT_PREFIX, run
from registry.settings import Settings

MINIMAL = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/minimal.template.json").read_text())
RICH = json.loads((Path(__file__).resolve().parents[3] / "shared/examples/rich.template.json").read_text())
PARAMS = {"portfolio": "SME loans", "quarter": "Q3"}


def case(*asserts, params=PARAMS, name="c"):
    return {"name": name, "parameters": params, "assert": list(asserts)}


def with_prompt(text):
    return {**MINIMAL, "promptConfig": {**MINIMAL["promptConfig"], "userPromptTemplate": text}}


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


def test_isolated_run_reports_metrics_and_is_killed_by_its_limits():
    ok = LocalBackend().execute(None, {"manifest": MINIMAL, "cases": [("t.json", case({"type": "contains", "value": "Q3"}))]})
    assert ok.error is None and ok.report["passed"] == 1 and ok.duration_s > 0
    assert ok.cpu_s > 0 and 5 < ok.peak_memory_mb < 1024 and "case 'c' (t.json): passed" in ok.logs
    hog = LocalBackend(memory_mb=512).execute(None, {"manifest": with_prompt("{{ 'x' * 4000000000 }}"),
                                                     "cases": [("t.json", case({"type": "json"}))]})
    assert hog.report is None and hog.error == "killed: over its memory limit (MemoryError)"
    spin = with_prompt("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    slow = LocalBackend(timeout_s=1.5).execute(None, {"manifest": spin, "cases": [("t.json", case({"type": "json"}))]})
    assert slow.error.startswith("killed") and slow.duration_s < 5 and slow.report is None


def test_report_must_be_valid():
    good = {"cases": [], "passed": 0, "failed": 0, "errors": 0}
    assert split_output("log line\n" + REPORT_PREFIX + json.dumps(good)) == (good, "log line", None)
    assert split_output("nothing")[2] == "the run printed no report"
    report, _, problem = split_output(REPORT_PREFIX + json.dumps({**good, "passed": -1}))
    assert report is None and problem.startswith("the run's report is invalid: $.passed")


def test_cost_counts_compute_and_declared_calls():
    settings = Settings(sandbox_memory_mb=2048, sandbox_vcpu=1, price_vcpu_second=0.001, price_gb_second=0.0001)
    assert cost.estimate(settings, MINIMAL, 3, 10.0) == {"compute_usd": 0.012, "calls_usd": 0.0, "total_usd": 0.012}
    # the rich example's agent uses firecrawl_search, priced at $0.002 a call
    assert cost.calls_per_case(RICH) == 0.002
    assert cost.estimate(settings, RICH, 5, 0.0)["calls_usd"] == 0.01
    assert cost.budget({"budget": {"maxRunUsd": 0.5}}) == 0.5 and cost.budget(MINIMAL) is None


class _FakeModel(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        _FakeModel.seen.append((self.path, self.headers.get("authorization"), body))
        answer = json.dumps({"choices": [{"message": {"content": '{"quarter": "Q3"}'}}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_output_assertions_ask_the_configured_provider():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeModel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        model = provider.from_env({"SANDBOX_PROVIDER_URL": f"http://127.0.0.1:{server.server_port}/v1",
                                   "SANDBOX_PROVIDER_MODEL": "m", "SANDBOX_PROVIDER_KEY": "k"})
        report = run(MINIMAL, [("t.json", case({"type": "json", "target": "output"},
                                               {"type": "contains", "value": "Q3", "target": "output"},
                                               {"type": "contains", "value": "Q4", "target": "output"}))], model)
    finally:
        server.shutdown()
    assert report["provider"] == "openai:m" and report["cases"][0]["output"] == '{"quarter": "Q3"}'
    assert report["cases"][0]["failures"] == ["contains 'Q4': not found"]
    path, auth, body = _FakeModel.seen[0]
    assert path == "/v1/chat/completions" and auth == "Bearer k" and body["model"] == "m"
    assert "Q3" in body["messages"][1]["content"]
