"""The quick start's demo scenario runs end to end against nginx and passes."""
import json
import os
import subprocess

from conftest import HERD, SOURCE_DIR

SERVER = os.path.join(SOURCE_DIR, "tests", "fixtures", "nginx", "nginx_server.py")


def test_quickstart_example_runs(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        ["/usr/bin/python3", SERVER, "--", HERD, "run", os.path.join(SOURCE_DIR, "examples", "quickstart.yaml"),
         "--target", "{url}", "--duration", "3s", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "passed"
    assert summary["totals"]["requests"] > 100 and summary["totals"]["failures"] == 0
    names = {e["name"] for e in summary["endpoints"]}
    assert names == {"login", "/products?page=[n]", "/cart", "/checkout"}
    assert "verdict: passed" in result.stdout
    for name in ("report.html", "herd_stats.csv", "herd_stats_history.csv", "herd_failures.csv"):
        assert (out / name).stat().st_size > 0, name
    assert [t["abortOnFail"] for t in summary["thresholds"]] == [False, True]
