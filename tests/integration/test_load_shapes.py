"""Load shapes against real servers: the open model's arrival count, stages and
step doubling counted by nginx, and latency from the intended send time when
the server stalls (the open model sees the stall, the closed model hides it)."""
import time

import pytest

from local_http import LocalHttpServer


def test_open_model_starts_rate_times_duration_iterations(herd, nginx):
    scenario = herd.scenario(f"""
name: open
target: {nginx.url}
users:
  - name: arrival
    steps: [{{get: /arrive}}]
load: {{arrivalRate: 200, duration: 3s, maxUsers: 50}}
""")
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    started = nginx.counts()[("GET", "/arrive")]
    assert abs(started - 600) <= 6, started  # within 1% of R·T
    assert summary["totals"]["requests"] == started
    assert summary["totals"]["failures"] == 0


RAMPED = """
name: ramped
target: {url}
users:
  - name: user
    onStart: [{{post: /hello}}]
    steps: [{{get: /work}}, {{think: 20ms}}]
    onStop: [{{post: /bye}}]
load:
{load}
"""


def run_ramped(herd, nginx, load):
    result, summary = herd.run_summary(herd.scenario(RAMPED.format(url=nginx.url, load=load)), "--workers", "2")
    assert summary is not None, result.stderr
    return summary, nginx.counts()


def test_stages_ramp_users_up_down_and_up(herd, nginx):
    summary, counts = run_ramped(herd, nginx, """  stages:
    - {duration: 500ms, users: 4}
    - {duration: 500ms, users: 4}
    - {duration: 500ms, users: 2}
    - {duration: 0s, users: 5}
    - {duration: 500ms, users: 5}""")
    # 4 users up, 2 stopped on the way down, 3 new ones on the jump to 5.
    assert counts[("POST", "/hello")] == 7
    assert counts[("POST", "/bye")] == 7
    assert summary["users"]["peak"] <= 5
    assert 1.9 < summary["durationSeconds"] < 2.2


def test_step_doubling(herd, nginx):
    summary, counts = run_ramped(herd, nginx, "  stepDoubling: {start: 1, factor: 2, max: 5, hold: 400ms}")
    # Steps of 1, 2 and 4 users (8 would pass max), each held 400 ms.
    assert counts[("POST", "/hello")] == 4
    assert 1.1 < summary["durationSeconds"] < 1.4


class StallingServer(LocalHttpServer):
    """Answers at once, except that every request arriving in [1 s, 2 s) after
    the first one is held until 2 s."""

    def __init__(self):
        super().__init__()
        self.first = None

    def on_get(self, request):
        now = time.monotonic()
        with self.lock:
            if self.first is None:
                self.first = now
            first = self.first
        if first + 1.0 <= now < first + 2.0:
            time.sleep(first + 2.0 - now)
        request.reply(200, b"ok\n")


@pytest.mark.parametrize("max_users", [400, 20])
def test_open_model_latency_includes_the_stall(herd, max_users):
    """100 iterations/s for 3 s; the server stalls for the middle second. With
    enough users every request waits at the server; with 20 users the arrivals
    queue behind the stuck ones, and their wait counts from the intended time."""
    with StallingServer() as server:
        open_model = herd.scenario(f"""
name: stall-open
target: {server.url}
users: [{{name: u, steps: [{{get: /}}]}}]
load: {{arrivalRate: 100, duration: 3s, maxUsers: {max_users}}}
""", name="open.yaml")
        _, open_summary = herd.run_summary(open_model, "--workers", "1")
    with StallingServer() as server:
        closed_model = herd.scenario(f"""
name: stall-closed
target: {server.url}
users: [{{name: u, steps: [{{get: /}}, {{think: {{pacing: 10ms}}}}]}}]
load: {{users: 1, duration: 3s}}
""", name="closed.yaml")
        _, closed_summary = herd.run_summary(closed_model, "--workers", "1")
    assert open_summary and closed_summary
    # About a third of the open model's 300 requests were due during the stall and
    # waited on average half a second: p90 is deep in the stall.
    assert 280 <= open_summary["totals"]["requests"] <= 310
    assert open_summary["totals"]["latency"]["p90"] > 300, open_summary["totals"]["latency"]
    assert open_summary["totals"]["latency"]["mean"] > 100
    # The closed model's one user simply sent nothing during the stall: a single
    # slow request, and p90 stays small. This is the omission the open model avoids.
    assert closed_summary["totals"]["latency"]["p90"] < 100, closed_summary["totals"]["latency"]
    assert closed_summary["totals"]["latency"]["max"] > 800
