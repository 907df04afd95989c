"""`herd run` on a shared runner: --max-users, --max-duration, --max-rate and --allow-host
refuse a run beyond them (exit 2, the flag and the value named, no request sent) and let one
within them run."""
import re

import pytest

SCENARIO = """
name: guarded
target: {url}
users:
  - name: u
    steps:
      - get: /
      - get: {other}/
      - think: 10ms
load: {{users: 4, spawnRate: 40, duration: 1s}}
"""

OPEN = """
name: open
target: {url}
users: [{{name: u, steps: [{{get: /}}]}}]
load: {{arrivalRate: 30, duration: 1s, maxUsers: 4}}
"""


def refused(result, flag, value):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert re.search(re.escape(flag) + ": " + re.escape(value) + r"\S* is not allowed \(limit: ", result.stderr), \
        result.stderr


@pytest.mark.parametrize("flags,flag,value", [
    (["--max-users", "3"], "--max-users", "4 users"),
    (["--users", "9", "--max-users", "8"], "--max-users", "9 users"),
    (["--max-duration", "500ms"], "--max-duration", "duration 1s"),
    (["--allow-host", "127.0.0.1"], "--allow-host", "target http://localhost:"),
    (["--allow-host", "*.perf.svc", "--allow-host", "10.0.0.0/8"], "--allow-host", "target http://127.0.0.1:"),
])
def test_refused_before_any_request(herd, nginx, flags, flag, value):
    # The second URL names nginx as localhost: every origin is checked, not only the target.
    path = herd.scenario(SCENARIO.format(url=nginx.url, other=nginx.url.replace("127.0.0.1", "localhost")))
    refused(herd.run("run", path, *flags), flag, value)
    refused(herd.run("validate", path, *flags), flag, value)
    assert nginx.counts() == {}


def test_rate_limit_applies_to_the_open_model(herd, nginx):
    path = herd.scenario(OPEN.format(url=nginx.url))
    refused(herd.run("run", path, "--max-rate", "20"), "--max-rate", "arrival rate 30/s")
    assert nginx.counts() == {}


def test_within_the_limits_it_runs(herd, nginx):
    path = herd.scenario(SCENARIO.format(url=nginx.url, other=nginx.url))
    result = herd.run("run", path, "--max-users", "4", "--max-duration", "1s", "--max-rate", "1",
                      "--allow-host", "localhost", "--allow-host", "127.0.0.0/8")
    assert result.returncode == 0, result.stderr
    assert nginx.counts()[("GET", "/")] > 0
