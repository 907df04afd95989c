"""abortOnFail thresholds end a run early (verdict aborted, exit 1) once their delay
has passed; thresholds that hold let the run finish (exit 0)."""
import time

SCENARIO = """
name: gate
target: {url}
users:
  - name: u
    steps:
      - get: {path}
      - think: 20ms
load: {{users: 4, spawnRate: 100, duration: {duration}}}
thresholds:
  - "http.latency p95 < 10s"
  - {{expression: "http.failures rate < 1%", abortOnFail: true, delay: {delay}}}
"""


def run(herd, nginx, path, duration, delay):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url, path=path, duration=duration, delay=delay))
    started = time.monotonic()
    result, summary = herd.run_summary(scenario, "--workers", "1")
    return result, summary, time.monotonic() - started


def test_failing_abort_threshold_ends_the_run_early(herd, nginx):
    result, s, wall = run(herd, nginx, "/status/500", "60s", "0s")
    assert result.returncode == 1, result.stdout + result.stderr
    assert s["verdict"] == "aborted"
    assert wall < 20, "the run should stop within seconds, not run its full 60s"
    assert s["durationSeconds"] < 5
    [aborting] = [t for t in s["thresholds"] if t["abortedRun"]]
    assert aborting["expression"] == "http.failures rate < 1%"
    assert aborting["passed"] is False and aborting["value"] == 1.0 and aborting["abortOnFail"] is True
    assert 1 <= aborting["abortedAtSeconds"] < 3
    assert s["thresholds"][0]["abortedRun"] is False
    assert "abortOnFail; stopping the run" in result.stderr
    assert "verdict: aborted" in result.stdout
    # Stopping early loses nothing: every request nginx saw is counted.
    assert s["totals"]["requests"] == nginx.counts()[("GET", "/status/500")] > 0


def test_delay_postpones_the_abort(herd, nginx):
    result, s, _ = run(herd, nginx, "/status/500", "60s", "3s")
    assert result.returncode == 1, result.stdout + result.stderr
    [aborting] = [t for t in s["thresholds"] if t["abortedRun"]]
    assert 3 <= aborting["abortedAtSeconds"] < 5
    assert 3 <= s["durationSeconds"] < 6


def test_holding_abort_threshold_lets_the_run_finish(herd, nginx):
    result, s, _ = run(herd, nginx, "/", "2s", "0s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert s["verdict"] == "passed"
    assert 1.9 <= s["durationSeconds"] <= 2.5
    assert [t["passed"] for t in s["thresholds"]] == [True, True]
    assert not any(t["abortedRun"] for t in s["thresholds"])
