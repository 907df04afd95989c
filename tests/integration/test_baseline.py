"""Thresholds relative to a baseline run, on this machine: two runs against nginx,
the second through a proxy that delays every request by 40 ms; judged with
`herd run --baseline` against the first run's row of the ledger, the second fails
on "p95 < baseline * 1.10" with both values in its summary, its table, its JUnit
file and `herd compare`."""
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

from conftest import SOURCE_DIR

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "delay_proxy"))
from delay_proxy import DelayProxy  # noqa: E402

DELAY_MS = 40

SCENARIO = """
name: baseline
target: {url}
users:
  - name: reader
    steps:
      - get: /
      - think: 10ms
load: {{users: 4, spawnRate: 40, duration: 2s}}
thresholds:
  - "http.latency p95 < baseline * 1.10"
  - "http.rps > baseline * 0.05"
  - "http.failures rate < 1%"
"""


def test_second_slower_run_fails_against_the_first(herd, nginx, tmp_path):
    fast = herd.scenario(SCENARIO.format(url=nginx.url), "fast.yaml")
    # The first run has no baseline: its relative thresholds are measured, not judged.
    first, a = herd.run_summary(fast)
    assert first.returncode == 0, first.stdout + first.stderr
    p95, rps = a["thresholds"][0], a["thresholds"][1]
    assert p95["skipped"] is True and p95["reason"] == "NoBaseline" and p95["passed"] is True
    assert "--baseline" in p95["message"] and p95["value"] > 0 and "bound" not in p95
    assert re.search(r"^\s+skip\s+http\.latency p95 < baseline \* 1\.10\s+\(measured [0-9.]+ms; skipped: ",
                     first.stdout, re.M), first.stdout

    with DelayProxy(nginx.port, DELAY_MS) as proxy:
        slow = herd.scenario(SCENARIO.format(url=proxy.url), "slow.yaml")
        junit = tmp_path / "junit.xml"
        second, b = herd.run_summary(slow, "--baseline", "-1", "--junit", str(junit))
    assert second.returncode == 1, second.stdout + second.stderr
    assert b["verdict"] == "failed"
    p95, rps, failures = b["thresholds"]
    # Both values, and the bound they gave, in the summary.
    assert p95["passed"] is False and p95["baselineRunId"] == a["runId"]
    assert p95["baseline"] == a["thresholds"][0]["value"]
    assert abs(p95["bound"] - 1.10 * p95["baseline"]) < 1e-9
    assert p95["value"] >= DELAY_MS > p95["bound"], p95
    assert rps["passed"] is True and rps["baseline"] == a["thresholds"][1]["value"]
    assert failures["passed"] is True and "baseline" not in failures
    line = (rf"^\s+FAIL\s+http\.latency p95 < baseline \* 1\.10\s+\(measured {re.escape(p95['shown'])} against "
            rf"{re.escape(p95['shownBound'])} \(baseline {re.escape(p95['shownBaseline'])}, run {a['runId']}\)\)")
    assert re.search(line, second.stdout, re.M), second.stdout
    [failure] = ET.parse(junit).getroot().iter("failure")
    assert failure.get("message").startswith(f"measured {p95['shown']} against {p95['shownBound']}")

    # The ledger keeps both runs' thresholds; `herd compare` shows B's against its baseline.
    compare = herd.run("compare", "-2", "-1")
    assert compare.returncode == 0, compare.stderr
    assert "Thresholds of B against a baseline" in compare.stdout, compare.stdout
    row = re.search(r"^\s+http\.latency p95 < baseline \* 1\.10\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+FAIL\s*$",
                    compare.stdout, re.M)
    assert row and row.groups() == (a["runId"], p95["shownBaseline"], p95["shown"], p95["shownBound"]), compare.stdout
    assert re.search(r"^\s+http\.latency p95 < baseline \* 1\.10\s+-\s+-\s+\S+\s+-\s+skipped: ", compare.stdout,
                     re.M), compare.stdout  # A's, which had no baseline

    # The same run judged against itself passes: the numbers come from the ledger's row.
    again, c = herd.run_summary(fast, "--baseline", a["runId"])
    assert c["thresholds"][0]["baselineRunId"] == a["runId"]
    assert again.returncode in (0, 1)  # nginx's p95 may vary by more than 10% between two runs; only checked above


def test_a_baseline_the_ledger_lacks_is_invalid_input(herd, nginx, tmp_path):
    fast = herd.scenario(SCENARIO.format(url=nginx.url))
    missing = herd.run("run", fast, "--baseline", "-1")
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert "--baseline -1" in missing.stderr and "ledger" in missing.stderr, missing.stderr
    first, _ = herd.run_summary(fast, "--no-ledger")
    assert first.returncode == 0, first.stderr
    unknown = herd.run("run", fast, "--baseline", "nope", "--ledger", str(tmp_path / "other.jsonl"))
    assert unknown.returncode == 2 and "other.jsonl" in unknown.stderr, unknown.stderr
    # herd coordinator takes the same flag, checked before it listens.
    coordinator = herd.run("coordinator", fast, "--listen", "127.0.0.1:0", "--expect-agents", "1", "--baseline",
                           "nope", timeout=30)
    assert coordinator.returncode == 2, coordinator.stdout + coordinator.stderr
    assert "--baseline nope" in coordinator.stderr and "cannot open the ledger" in coordinator.stderr


def test_relative_thresholds_are_checked_by_validate(herd):
    bad = herd.scenario(SCENARIO.format(url="http://127.0.0.1:9").replace("baseline * 1.10", "1.10 * baseline"))
    result = herd.run("validate", bad)
    assert result.returncode == 2
    assert re.search(r":11:5: thresholds\[0\]: .*the factor goes after the baseline", result.stderr), result.stderr
