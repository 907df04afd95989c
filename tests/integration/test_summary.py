"""summary.json follows docs/design.md exactly, and the exit code follows the verdict."""
import re

SCENARIO = """
name: shape
target: {url}
users:
  - name: u
    steps:
      - get: /
      - think: 10ms
load: {{users: 5, spawnRate: 50, duration: 2s}}
thresholds:
  - "http.latency p95 < {bound}"
  - "http.failures rate < 1%"
"""

LATENCY = {"mean", "p50", "p90", "p95", "p99", "max"}


def test_summary_shape_and_passing_exit(herd, nginx):
    result, s = herd.run_summary(herd.scenario(SCENARIO.format(url=nginx.url, bound="2s")))
    assert result.returncode == 0, result.stderr
    assert {"version", "runId", "scenario", "verdict", "startTime", "endTime", "durationSeconds", "agents",
            "users", "totals", "endpoints", "errors", "delivery", "thresholds", "generator"} <= set(s)
    assert s["version"] == 1 and s["scenario"] == "shape" and s["verdict"] == "passed"
    rfc3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"
    assert re.match(rfc3339, s["startTime"]) and re.match(rfc3339, s["endTime"])
    assert 1.9 <= s["durationSeconds"] <= 2.5
    assert s["users"]["peak"] == 5 and s["agents"] == 1
    totals = s["totals"]
    assert {"requests", "failures", "rps", "bytesReceived", "latency"} <= set(totals)
    assert set(totals["latency"]) == LATENCY
    lat = totals["latency"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert abs(totals["rps"] - totals["requests"] / s["durationSeconds"]) < 1e-6 * totals["rps"] + 1e-9
    assert totals["requests"] == nginx.counts()[("GET", "/")]
    [endpoint] = s["endpoints"]
    assert endpoint["name"] == "/" and endpoint["method"] == "GET" and set(endpoint["latency"]) == LATENCY
    assert [t["passed"] for t in s["thresholds"]] == [True, True]
    assert s["thresholds"][0]["expression"] == "http.latency p95 < 2s"
    assert set(s["generator"]) == {"cpuPeakPercent", "saturated", "fdLimit"}
    assert s["generator"]["fdLimit"] > 0
    # Plain progress lines (stdout is a pipe, not a terminal), at most one a second.
    progress = [line for line in result.stdout.splitlines() if re.match(r"^\s+\d+s\s+users", line)]
    assert 2 <= len(progress) <= 4, result.stdout
    assert "\r" not in result.stdout


def test_failing_threshold_exits_1_and_names_it(herd, nginx):
    result, s = herd.run_summary(herd.scenario(SCENARIO.format(url=nginx.url, bound="1us")))
    assert result.returncode == 1, result.stdout + result.stderr
    assert s["verdict"] == "failed"
    failed = [t for t in s["thresholds"] if not t["passed"]]
    assert [t["expression"] for t in failed] == ["http.latency p95 < 1us"]
    assert failed[0]["value"] > 0.001
    assert "FAIL  http.latency p95 < 1us" in result.stdout
