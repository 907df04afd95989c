"""What the scenario language spreads over a distributed run: `unique` data rows
dealt to agents, pub/sub delivery judged over every agent's records, and cohorts
built from run-wide class indexes. Ground truth is the server's own log (nginx,
nginx with nchan)."""
import collections
import os
import sys

import pytest

from conftest import SOURCE_DIR

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "nchan"))
from nchan_server import NchanServer  # noqa: E402
from test_distributed import Run  # noqa: E402
from test_pubsub import SCENARIO as PUBSUB  # noqa: E402
from test_pubsub import assert_progress_delivered_once, published_by_nchan, queued_in_nchan, websocket_publishers  # noqa: E402


class Cluster(Run):
    """One `herd coordinator` and agents a1, a2... with the given worker counts."""

    def __init__(self, tmp, scenario_text):
        super().__init__(tmp, None, text=scenario_text)

    def start(self, workers_per_agent):
        self.start_coordinator(expect=len(workers_per_agent))
        for i, workers in enumerate(workers_per_agent):
            self.start_agent(f"a{i + 1}", workers=workers)

    def log(self, name):
        return (self.tmp / f"{name}.err").read_text()

    def wait(self, timeout=90):
        """The coordinator's exit code, the agents' in order, the summary, its stdout."""
        code, codes, summary = super().wait(timeout)
        return code, list(codes.values()), summary, self.stdout


@pytest.fixture
def cluster(tmp_path):
    made = []

    def make(text):
        c = Cluster(tmp_path, text)
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


ROWS = 36

UNIQUE = """
name: rows
target: {url}
data:
  accounts: {{file: accounts.csv, pick: unique}}
users:
  - name: member
    onStart:
      - feed: accounts
      - get: /login/{{{{accounts.name}}}}
    steps:
      - get: /seen/{{{{accounts.name}}}}
      - think: 20ms
load: {{users: 45, spawnRate: 1000, duration: 1s}}
"""


def test_unique_rows_once_each_across_agents_with_different_worker_counts(cluster, nginx, tmp_path):
    (tmp_path / "accounts.csv").write_text("name\n" + "".join(f"row{i}\n" for i in range(ROWS)))
    c = cluster(UNIQUE.format(url=nginx.url))
    # 45 users on 3 agents (15 each) for 36 rows (12 per agent): every row is taken
    # once; agents run 1, 2 and 3 worker threads, so their deals differ.
    c.start([1, 2, 3])
    code, codes, summary, out = c.wait()
    assert code == 0, out + c.log("coordinator")
    assert codes == [0, 0, 0], [c.log(f"a{i}") for i in (1, 2, 3)]
    logins = collections.Counter()
    seen = set()
    for (method, uri), n in nginx.counts().items():
        if uri.startswith("/login/"):
            logins[uri[len("/login/"):]] += n
        elif uri.startswith("/seen/"):
            seen.add(uri[len("/seen/"):])
    assert sorted(logins) == sorted(f"row{i}" for i in range(ROWS))
    assert set(logins.values()) == {1}, {row: n for row, n in logins.items() if n != 1}
    assert seen == set(logins)
    assert summary["totals"]["requests"] == sum(nginx.counts().values())


# Where each mode subscribes on nchan (tests/fixtures/nchan).
SUBSCRIBE_PATH = {"longpoll": "/lp", "sse": "/sse", "websocket": "/ws"}


def pubsub_scenario(url, mode):
    """test_pubsub's scenario: 2 proctors follow cohorts of 3 of the 6 learners;
    over WebSocket, the learners publish over sockets too."""
    text = PUBSUB.format(url=url, sub_url=SUBSCRIBE_PATH[mode] + "/{{topics}}", mode=mode, lost_after="1s",
                         drain="1500ms", think="50ms")
    return websocket_publishers(text) if mode == "websocket" else text


@pytest.mark.parametrize("mode,agents", [("longpoll", 2), ("longpoll", 3), ("sse", 2), ("websocket", 2)])
def test_delivery_is_judged_over_every_agents_records(cluster, mode, agents):
    with NchanServer() as nchan:
        c = cluster(pubsub_scenario(nchan.url, mode))
        # The classes interleave over the run's user indexes, so proctors and the
        # learners of their cohorts run on different agents: every message
        # crosses agents, and a class index computed per agent would leave
        # topics nobody follows (lost) or followed twice (delivered twice).
        c.start([1] * agents)
        code, codes, summary, out = c.wait()
        learners = [f"learner-{i}" for i in range(6)]
        # Publishes over a socket are one request per socket in nchan's log:
        # what it accepted is then what its channels hold.
        published = queued_in_nchan(nchan, learners) if mode == "websocket" else published_by_nchan(nchan)
        topics = {uri[len("/pub/"):] for (method, uri) in nchan.counts() if uri.startswith("/pub/")}
    assert code == 0, out + c.log("coordinator")
    assert codes == [0] * agents, [c.log(f"a{i + 1}") for i in range(agents)]
    assert topics == set(learners)
    assert published > 50
    assert_progress_delivered_once(summary, published)
    # The 8 users were split over the agents.
    ranges = [a["userRanges"] for a in summary["distributed"]["agents"]]
    assert sum(r[0][1] for r in ranges) == 8 and all(r[0][1] >= 2 for r in ranges), ranges


OPEN = """
name: open
target: {url}
users:
  - name: arrival
    steps: [{{get: /arrive}}]
load: {{arrivalRate: 200, duration: 3s, maxUsers: 60}}
"""


def test_open_model_deals_arrivals_to_agents(cluster, nginx):
    c = cluster(OPEN.format(url=nginx.url))
    # Agent a of 3 takes the arrivals k ≡ a (mod 3), spread over its own workers.
    c.start([1, 2, 1])
    code, codes, summary, out = c.wait()
    assert code == 0, out + c.log("coordinator")
    assert codes == [0, 0, 0], [c.log(f"a{i}") for i in (1, 2, 3)]
    started = nginx.counts()[("GET", "/arrive")]
    assert abs(started - 600) <= 6, started  # within 1% of R·T, as in one process
    assert summary["totals"]["requests"] == started
    assert summary["totals"]["failures"] == 0
    per_agent = [a["requests"] for a in summary["distributed"]["agents"]]
    assert all(abs(n - 200) <= 3 for n in per_agent), per_agent
