"""deploy/: the Prometheus alert rules and the Grafana dashboard. `promtool check rules` where it
is installed; everywhere, their structure, and that every series they name is one a running
registry's /metrics declares."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "registry-dashboard.json"
DURATION = re.compile(r"^\d+[smhdw]$")
SERIES = re.compile(r"\b(registry_[a-z_]+|up)\b(?!\s*\()")


def _declared(scrape: str) -> set[str]:
    """Every series name the exposition declares (# TYPE lines), with a histogram's and a counter's parts."""
    names = {"up"}
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", scrape, re.M):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
        if kind == "counter":
            names |= {name if name.endswith("_total") else f"{name}_total", f"{name.removesuffix('_total')}_created"}
    return names


def _balanced(expr: str) -> bool:
    depth = {"(": 0, "{": 0, "[": 0}
    pairs = {")": "(", "}": "{", "]": "["}
    for ch in re.sub(r'"[^"]*"', "", expr):
        if ch in depth:
            depth[ch] += 1
        elif ch in pairs:
            depth[pairs[ch]] -= 1
            if depth[pairs[ch]] < 0:
                return False
    return not any(depth.values())


@pytest.fixture(scope="module")
def declared(local_env) -> set[str]:
    scrape = httpx.get(f"{local_env.url}/metrics", timeout=10)
    assert scrape.status_code == 200
    return _declared(scrape.text)


def test_alert_rules_cover_what_operators_are_paged_for(declared):
    doc = yaml.safe_load(RULES.read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    assert {"RegistryQueueBacklog", "RegistryCheckLatencyHigh", "RegistryWebhookFailures", "RegistryHigh5xxRate",
            "RegistryDiskLow"} <= set(names)
    for rule in rules:
        assert DURATION.match(rule["for"]) and rule["labels"]["severity"] in ("critical", "warning", "info"), rule
        assert rule["annotations"]["summary"] and _balanced(rule["expr"]), rule["alert"]
        unknown = {s for s in SERIES.findall(rule["expr"]) if s not in declared}
        assert not unknown, (rule["alert"], unknown)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (the structure is checked above)")
def test_promtool_checks_the_rules():
    done = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_grafana_dashboard_draws_only_series_that_exist(declared):
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 30
    assert any(v["type"] == "datasource" and v["query"] == "prometheus" for v in board["templating"]["list"])
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) >= 8
    for panel in board["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"} and panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}" and _balanced(target["expr"])
            unknown = {s for s in SERIES.findall(target["expr"]) if s not in declared}
            assert not unknown, (panel["title"], unknown)
    drawn = " ".join(t["expr"] for p in board["panels"] for t in p["targets"])
    for needed in ("registry_queue_depth", "registry_check_latency_seconds_bucket", "registry_webhook_attempts_total",
                   "registry_http_requests_total", "registry_data_disk_free_bytes", "registry_rate_limited_total"):
        assert needed in drawn
