"""deploy/prometheus and deploy/grafana: promtool accepts the configuration and the alert rules, the
rules' unit tests pass, and the dashboard is Grafana JSON over metrics the app exposes."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from app.ops import metrics

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMETHEUS = os.path.join(ROOT, "deploy", "prometheus")
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "coedit-dashboard.json")


@pytest.fixture(scope="module")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: `make test` installs it (Debian's prometheus package)")
    return path


def run(*command, cwd=PROMETHEUS):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_the_alert_rules_check(promtool):
    assert "SUCCESS: 11 rules found" in run(promtool, "check", "rules", "alerts.yml")


def test_the_alert_rules_fire_as_their_unit_tests_say(promtool):
    assert "SUCCESS" in run(promtool, "test", "rules", "alerts.test.yml")


def test_the_configuration_checks_with_its_rules(promtool, tmp_path):
    # The token file is a compose secret; promtool insists it exists, so point at a stand-in.
    with open(os.path.join(PROMETHEUS, "prometheus.yml")) as handle:
        config = handle.read()
    assert "credentials_file: /run/secrets/metrics_token" in config
    (tmp_path / "token").write_text("stand-in")
    (tmp_path / "prometheus.yml").write_text(config.replace("/run/secrets/metrics_token", str(tmp_path / "token")))
    shutil.copy(os.path.join(PROMETHEUS, "alerts.yml"), tmp_path)
    output = run(promtool, "check", "config", "prometheus.yml", cwd=tmp_path)
    assert "SUCCESS: 1 rule files found" in output and "11 rules found" in output
    scrape = yaml.safe_load(config)["scrape_configs"][0]
    assert scrape["static_configs"][0]["targets"] == ["coedit-1:8000", "coedit-2:8000"]
    assert scrape["authorization"]["type"] == "Bearer"


def test_the_rapidpm_thresholds_are_the_alerts():
    with open(os.path.join(PROMETHEUS, "alerts.yml")) as handle:
        rules = {rule["alert"]: rule for group in yaml.safe_load(handle)["groups"] for rule in group["rules"]}
    latency, failures, rejections = (
        rules["OnlyofficeCallbackLatencyHigh"],
        rules["OnlyofficeSaveFailures"],
        rules["OnlyofficeValidationRejections"],
    )
    assert "histogram_quantile(0.99" in latency["expr"] and latency["expr"].strip().endswith("> 5")
    assert latency["labels"]["severity"] == "warning"
    assert "[1h]" in failures["expr"] and failures["expr"].strip().endswith("> 5")
    assert failures["labels"]["severity"] == "critical"
    assert "[1h]" in rejections["expr"] and rejections["expr"].strip().endswith("> 10")
    assert rejections["labels"]["severity"] == "warning"
    assert "up{" in rules["CoeditInstanceDown"]["expr"]


def exposed_names() -> set[str]:
    """Every series name the app can expose, histograms' and counters' suffixes included."""
    names = set(metrics.SCRAPE_TIME_GAUGES) | {"coedit_build_info", metrics.JOBS_WAITING, metrics.JOBS_BROKER_UP, "up"}
    for value in vars(metrics).values():
        if hasattr(value, "_name") and hasattr(value, "_type"):
            base = value._name
            if value._type == "histogram":
                names |= {base + "_bucket", base + "_count", base + "_sum"}
            elif value._type == "counter":
                names.add(base + "_total")
            else:
                names.add(base)
    return names


def test_the_dashboard_is_grafana_json_over_exposed_metrics():
    with open(DASHBOARD) as handle:
        dashboard = json.load(handle)
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels) >= 10
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert {"datasource", "instance"} <= variables
    known = exposed_names()
    used = set()
    for panel in panels:
        assert panel["type"] in ("timeseries", "stat") and panel["targets"], panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        for target in panel["targets"]:
            used |= set(re.findall(r"\b((?:onlyoffice|coedit)_[a-z_]+|up)\{", target["expr"]))
    assert used <= known, used - known
    for required in (
        "onlyoffice_callback_duration_seconds_bucket",
        "onlyoffice_save_total",
        "onlyoffice_active_sessions",
    ):
        assert required in used
    with open(os.path.join(PROMETHEUS, "alerts.yml")) as handle:
        alerted = set(re.findall(r"\b((?:onlyoffice|coedit)_[a-z_]+|up)\{", handle.read()))
    assert alerted <= known, alerted - known
