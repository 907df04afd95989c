"""Bad input gets a clear error naming the place, exit 2 (invalid) or 3 (cannot run), never a crash."""
import re
import subprocess

import pytest

from conftest import HERD

GOOD = """name: good
target: http://127.0.0.1:9
users:
  - name: u
    steps: [{get: /}]
load: {users: 1, spawnRate: 1, duration: 1s}
"""


def check(result, code, *patterns):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    for pattern in patterns:
        assert re.search(pattern, result.stderr), (pattern, result.stderr)
    assert "terminate called" not in result.stderr and "Segmentation" not in result.stderr


@pytest.mark.parametrize("command", ["run", "validate"])
def test_malformed_yaml(herd, command):
    path = herd.scenario("name: x\nusers: [\n  - {name: a\n")
    check(herd.run(command, path), 2, re.escape(path) + r":\d+:\d+")


def test_unknown_key(herd):
    path = herd.scenario(GOOD.replace("load:", "lod: {}\nload:"))
    check(herd.run("validate", path), 2, re.escape(path) + r":6:1", "lod")


def test_negative_users_in_scenario(herd):
    path = herd.scenario(GOOD.replace("users: 1,", "users: -5,"))
    check(herd.run("validate", path), 2, re.escape(path) + r":6:\d+", r"load\.users")


def test_negative_users_flag(herd):
    check(herd.run("run", herd.scenario(GOOD), "--users", "-3"), 2, "--users")


def test_unparsable_duration(herd):
    path = herd.scenario(GOOD.replace("duration: 1s", "duration: 1 fortnight"))
    check(herd.run("validate", path), 2, re.escape(path) + r":6:\d+", r"load\.duration")


def test_unparsable_duration_flag(herd):
    check(herd.run("run", herd.scenario(GOOD), "--duration", "soon"), 2, "--duration")


def test_bad_url(herd):
    path = herd.scenario(GOOD.replace("http://127.0.0.1:9", "htp:/127.0.0.1"))
    check(herd.run("validate", path), 2, re.escape(path) + r":2:\d+", "target")


def test_bad_target_flag(herd):
    check(herd.run("run", herd.scenario(GOOD), "--target", "ftp://127.0.0.1"), 2, "--target")


def test_unknown_flag(herd):
    check(herd.run("run", herd.scenario(GOOD), "--userz", "3"), 2, "--userz")


def test_bad_param_flag(herd):
    check(herd.run("run", herd.scenario(GOOD), "-p", "novalue"), 2, "-p")


def test_missing_file(herd):
    check(herd.run("validate", "/nonexistent/scenario.yaml"), 2, "/nonexistent/scenario.yaml")


def test_bad_threshold(herd):
    path = herd.scenario(GOOD + 'thresholds: ["http.latency p95 < fast"]\n')
    check(herd.run("validate", path), 2, r"thresholds\[0\]", "fast")


def test_unreachable_target(herd):
    # Port 9 (discard) on loopback has no listener here: connection refused.
    result = herd.run("run", herd.scenario(GOOD), timeout=30)
    check(result, 3, r"http://127\.0\.0\.1:9", "unreachable")


def test_too_few_file_descriptors(herd, nginx):
    path = herd.scenario(GOOD.replace("http://127.0.0.1:9", nginx.url).replace("users: 1,", "users: 500,"))
    # A hard limit of 256 cannot be raised, and 500 users in one process need more
    # (without --processes herd would split them over 3 processes).
    result = subprocess.run(["bash", "-c", f'ulimit -n 256 && exec "{HERD}" run "{path}" --processes 1'],
                            capture_output=True, text=True, timeout=60)
    check(result, 2, r"needs about 564 file descriptors", r"limit is 256")
