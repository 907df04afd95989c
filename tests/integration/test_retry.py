"""Retries against real nginx: bounded attempts on the chosen errors only, each
attempt counted (nginx agrees), and a stopping test cancels backoff waits."""
import time

from local_http import LocalHttpServer

SCENARIO = """
name: retry
target: {url}
users:
  - name: client
    onStart:
      - get: {{url: /status/503, name: unavailable, retry: {{on: [5xx], attempts: 4, backoff: {{base: 1ms, max: 4ms}}}}}}
      - get: {{url: /status/429, name: throttled, retry: {{on: [429], attempts: 3, backoff: {{base: 1ms, max: 2ms}}}}}}
      - get: {{url: /status/404, name: missing, retry: {{on: [5xx, 429, connect, timeout], attempts: 5}}}}
      - get: {{url: /status/500, name: not-chosen, retry: {{on: [429], attempts: 5}}}}
      - get: {{url: /, name: fine, retry: {{on: [5xx], attempts: 5}}}}
      - stopUser: true
    steps: [{{get: /never}}]
load: {{users: 6, spawnRate: 100, duration: 1s}}
"""


def test_attempts_are_bounded_and_counted(herd, nginx):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    counts = nginx.counts()
    assert summary["totals"]["requests"] == sum(counts.values())
    by_name = {e["name"]: e for e in summary["endpoints"]}
    expected = {"unavailable": ("/status/503", 4), "throttled": ("/status/429", 3),
                "missing": ("/status/404", 1), "not-chosen": ("/status/500", 1), "fine": ("/", 1)}
    for name, (uri, attempts) in expected.items():
        assert counts[("GET", uri)] == 6 * attempts, (name, counts)
        assert by_name[name]["requests"] == 6 * attempts
    assert by_name["fine"]["failures"] == 0
    assert by_name["unavailable"]["failures"] == 6 * 4  # every attempt failed, every one is counted
    assert counts.get(("GET", "/never"), 0) == 0


def test_stop_cancels_long_backoff(herd, nginx):
    """Every user sits in a 60 s backoff when the 1 s test ends; the stop must not
    wait for the backoff (nor for the 30 s grace)."""
    scenario = herd.scenario(f"""
name: backoff
target: {nginx.url}
users:
  - name: client
    steps:
      - get: {{url: /status/503, retry: {{on: [5xx], attempts: 10, backoff: {{base: 60s, max: 60s}}}}}}
load: {{users: 50, spawnRate: 1000, duration: 1s}}
""")
    started = time.monotonic()
    result, summary = herd.run_summary(scenario, "--workers", "2", timeout=60)
    elapsed = time.monotonic() - started
    assert summary is not None, result.stderr
    # 1 s of test, then every user ends within a second (process start-up and the
    # pre-run probe included in the slack).
    assert elapsed < 1.0 + 1.0 + 0.8, elapsed
    assert summary["durationSeconds"] < 1.2
    # Each user made its first attempt; the backoff (>= 0 s, up to 60 s) may have
    # let a few retry early, but nowhere near 10 attempts each.
    requests = nginx.counts()[("GET", "/status/503")]
    assert requests == summary["totals"]["requests"]
    assert 50 <= requests < 50 * 3


class HangingServer(LocalHttpServer):
    """Reads the request and never answers (for up to a minute)."""

    def on_get(self, request):
        time.sleep(60)


def test_stop_grace_from_the_scenario_bounds_in_flight_requests(herd):
    with HangingServer() as server:
        scenario = herd.scenario(f"""
name: grace
target: {server.url}
stop: {{grace: 300ms}}
users:
  - name: client
    steps: [{{get: {{url: /hang, timeout: 60s}}}}]
load: {{users: 4, duration: 1s}}
""")
        started = time.monotonic()
        result, summary = herd.run_summary(scenario, "--workers", "1", timeout=60)
        elapsed = time.monotonic() - started
    assert summary is not None, result.stderr
    # Ended 300 ms after the stop, not after the default 30 s grace; the requests
    # that never got an answer were dropped, not counted.
    assert elapsed < 1.0 + 0.3 + 1.2, elapsed
    assert summary["totals"]["requests"] == 0


class FailingServer(LocalHttpServer):
    """Answers 503 to everything and notes when each user's attempts arrived."""

    def __init__(self):
        super().__init__()
        self.arrivals = {}

    def on_get(self, request):
        now = time.monotonic()
        with self.lock:
            self.arrivals.setdefault(request.path, []).append(now)
        request.reply(503, b"busy\n")


def test_backoff_gaps_stay_within_the_full_jitter_window(herd):
    """Retry n waits uniform[0, min(max, base·2^(n-1))]: with base 100 ms the gaps
    before retries 1, 2, 3 stay under 100, 200 and 400 ms (plus the round trip),
    and across 30 users the widest window is actually used."""
    with FailingServer() as server:
        scenario = herd.scenario(f"""
name: backoff-gaps
target: {server.url}
users:
  - name: client
    onStart:
      - get: {{url: "/fail/{{{{user.index}}}}", retry: {{on: [5xx], attempts: 4, backoff: {{base: 100ms, max: 1s}}}}}}
      - stopUser: true
    steps: [{{get: /never}}]
load: {{users: 30, spawnRate: 1000, duration: 3s}}
""")
        result, summary = herd.run_summary(scenario, "--workers", "1")
        arrivals = dict(server.arrivals)
    assert summary is not None, result.stderr
    assert len(arrivals) == 30 and all(len(times) == 4 for times in arrivals.values()), arrivals
    slack = 0.05  # the failed response's round trip and the loop's timer resolution
    widest = [0.0, 0.0, 0.0]
    for times in arrivals.values():
        for n in range(3):
            gap = times[n + 1] - times[n]
            assert gap <= 0.1 * 2 ** n + slack, (n + 1, gap)
            widest[n] = max(widest[n], gap)
    # Exponential: the third retry's window is used beyond the second's ceiling.
    assert widest[2] > 0.2, widest
