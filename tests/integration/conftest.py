"""Shared pytest fixtures: the herd binary and a real nginx on loopback."""
import json
import os
import subprocess
import sys

import pytest

SOURCE_DIR = os.environ.get("HERD_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "nginx"))
from nginx_server import NginxServer  # noqa: E402

HERD = os.environ.get("HERD_BIN", os.path.join(SOURCE_DIR, "build", "dev", "agent", "cli", "herd"))


@pytest.fixture
def nginx():
    with NginxServer() as server:
        yield server


class Herd:
    """Runs the herd binary; every run is bounded by a timeout."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path

    def scenario(self, text, name="scenario.yaml"):
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def run(self, *args, timeout=120):
        # In the test's own directory: runs append to ./herd-ledger.jsonl there.
        return subprocess.run([HERD, *args], capture_output=True, text=True, timeout=timeout, cwd=self.tmp)

    def run_summary(self, scenario, *args, timeout=120):
        summary = self.tmp / "summary.json"
        result = self.run("run", scenario, "--summary-json", str(summary), *args, timeout=timeout)
        data = json.loads(summary.read_text()) if summary.exists() else None
        return result, data


def visitor_scenario(name, url, users, spawn_rate, duration, thresholds):
    """A user that loads / and a deliberate 404 (endpoint "missing") in a loop."""
    listed = "".join(f'  - "{t}"\n' for t in thresholds)
    return f"""
name: {name}
target: {url}
users:
  - name: visitor
    steps:
      - get: /
      - get: {{url: /status/404, name: missing}}
      - think: 20ms
load: {{users: {users}, spawnRate: {spawn_rate}, duration: {duration}}}
thresholds:
{listed}"""


@pytest.fixture
def herd(tmp_path):
    return Herd(tmp_path)
