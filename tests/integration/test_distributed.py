"""Distributed runs: `herd coordinator` with `herd agent` processes on loopback
against a real nginx, whose own access log is the count every total must meet."""
import asyncio
import datetime
import json
import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import HERD
from nginx_server import free_port

LOAD = """
name: dist
target: {url}
users:
  - name: reader
    steps:
      - get: /items/{{{{user.index}}}}
        name: /items/[n]
      - think: 10ms
load: {{users: {users}, spawnRate: 1000, duration: {duration}}}
thresholds: {thresholds}
"""


class Run:
    """One coordinator and its agents; every process is stopped at the end."""

    def __init__(self, tmp, nginx, users=30, duration="3s", thresholds="[]", url=None, text=None):
        """The scenario: `text`, or LOAD against `url` (default: `nginx`'s)."""
        self.tmp = tmp
        self.scenario = tmp / "scenario.yaml"
        self.scenario.write_text(text or LOAD.format(url=url or nginx.url, users=users, duration=duration,
                                                     thresholds=thresholds))
        self.token = tmp / "token"
        self.token.write_text("run-secret\n")
        self.summary = tmp / "summary.json"
        self.coordinator = None
        self.port = None
        self.agents = {}
        self.stdout = ""
        self.stderr = ""

    def start_coordinator(self, *args, expect=3, listen="127.0.0.1:0", token=True):
        self.coord_err = open(self.tmp / "coordinator.err", "w")
        token_args = ["--token-file", str(self.token)] if token else []
        self.coordinator = subprocess.Popen(
            [HERD, "coordinator", str(self.scenario), "--listen", listen, "--expect-agents", str(expect),
             *token_args, "--summary-json", str(self.summary), *args],
            stdout=subprocess.PIPE, stderr=self.coord_err, text=True, cwd=self.tmp)
        line = self.coordinator.stdout.readline()
        match = re.search(r"listening on port (\d+)", line)
        assert match, line + (self.tmp / "coordinator.err").read_text()
        self.port = int(match.group(1))
        return self.port

    def start_agent(self, name, port=None, token=None, *args, workers=1):
        err = open(self.tmp / f"{name}.err", "w")
        token_args = [] if token == "" else ["--token-file", str(token or self.token)]
        proc = subprocess.Popen(
            [HERD, "agent", "--coordinator", f"127.0.0.1:{port or self.port}", *token_args,
             "--agent-id", name, "--workers", str(workers), *args],
            stdout=subprocess.DEVNULL, stderr=err, text=True, cwd=self.tmp)
        self.agents[name] = proc
        return proc

    def agent_log(self, name):
        return (self.tmp / f"{name}.err").read_text()

    def coordinator_log(self):
        return (self.tmp / "coordinator.err").read_text()

    def wait(self, timeout=90):
        out, _ = self.coordinator.communicate(timeout=timeout)
        self.stdout = out
        codes = {name: proc.wait(timeout=30) for name, proc in self.agents.items()}
        data = json.loads(self.summary.read_text()) if self.summary.exists() else None
        return self.coordinator.returncode, codes, data

    def run_agents(self, names=("a1", "a2"), *agent_args):
        """The coordinator expecting `names`, those agents, the run to its end:
        wait()'s (exit code, agents' exit codes, summary); everything stopped."""
        try:
            self.start_coordinator(expect=len(names))
            for name in names:
                self.start_agent(name, None, None, *agent_args)
            return self.wait()
        finally:
            self.stop()

    def stop(self):
        for proc in [self.coordinator, *self.agents.values()]:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def run(tmp_path, nginx):
    runs = []

    def make(**kwargs):
        r = Run(tmp_path, nginx, **kwargs)
        runs.append(r)
        return r

    yield make
    for r in runs:
        r.stop()


def nginx_total(nginx):
    return sum(n for (method, uri), n in nginx.counts().items() if uri.startswith("/items/"))


def by_agent(summary):
    return {a["id"]: a for a in summary["distributed"]["agents"]}


def started_at(summary):
    return datetime.datetime.fromisoformat(summary["startTime"].replace("Z", "+00:00")).timestamp()


def test_three_agents_conserve_counts_and_start_together(run, nginx):
    r = run()
    r.start_coordinator()
    for name in ("a1", "a2", "a3"):
        r.start_agent(name)
    code, agents, summary = r.wait()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0, "a3": 0}, [r.agent_log(n) for n in agents]
    detail = by_agent(summary)
    # Exact, contiguous split of the 30 users.
    assert [detail[n]["userRanges"] for n in ("a1", "a2", "a3")] == [[[0, 10]], [[10, 10]], [[20, 10]]]
    total = summary["totals"]["requests"]
    assert total == sum(a["requests"] for a in detail.values())
    assert total == nginx_total(nginx) > 1000
    assert summary["totalsComplete"] is True and "missingTotals" not in summary
    assert summary["agents"] == 3
    # Every user index 0..29 was used, each by exactly one agent's range.
    uris = {uri for (_, uri) in nginx.counts()}
    assert uris == {f"/items/{i}" for i in range(30)}
    # Start skew: agents began within 50 ms of each other against the common schedule.
    assert 0 <= summary["distributed"]["startSkewMs"] < 50, summary["distributed"]
    assert all(0 <= a["firstSpawnLateMs"] < 50 for a in detail.values())
    # The same outputs and summary shape `herd run` writes.
    ledger = [json.loads(l) for l in (r.tmp / "herd-ledger.jsonl").read_text().splitlines()]
    assert len(ledger) == 1 and ledger[0]["runId"] == summary["runId"], ledger
    assert {"version", "runId", "verdict", "totals", "endpoints", "errors", "thresholds", "generator",
            "events", "distributed"} <= set(summary)


def wait_until(condition, timeout):
    """Whether `condition()` held within `timeout` seconds (checked every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def kill_one_midrun(r, victim="a2", after=2.5):
    """SIGKILLs `victim` `after` seconds past the announced start, so it has
    reported at least once however slowly the agents came up (sanitizers)."""
    assert wait_until(lambda: "start in" in r.coordinator_log(), timeout=30), r.coordinator_log()
    time.sleep(after)
    killed_at = time.time()
    r.agents[victim].send_signal(signal.SIGKILL)
    return killed_at


def lost_event(summary, victim):
    events = [e for e in summary["events"] if f"agent {victim} lost" in e["message"]]
    assert len(events) == 1, summary["events"]
    return events[0]


def check_conserved_up_to_last_report(summary, nginx, victim):
    lost = by_agent(summary)[victim]
    assert lost["state"] == "lost"
    diff = nginx_total(nginx) - summary["totals"]["requests"]
    # What nginx saw beyond herd's totals is what the lost agent sent after its
    # last report: at most about one report interval of its traffic.
    per_report = lost["requests"] / max(1, lost["reports"])
    assert 0 <= diff <= 1.5 * per_report + 50, (diff, lost)


def check_missing_totals(summary, nginx, victim, killed_at):
    """The summary says the totals are incomplete: whose reports, which seconds, about how many."""
    assert summary["totalsComplete"] is False, summary.get("missingTotals")
    missing = summary["missingTotals"]
    assert [a["agent"] for a in missing["agents"]] == [victim], missing
    entry = missing["agents"][0]
    assert "lost" in entry["reason"]
    killed = killed_at - started_at(summary)
    # From its last report's second to at most a heartbeat after it was last heard.
    assert entry["fromSecond"] <= killed + 0.2 and killed - 1.5 <= entry["toSecond"] <= killed + 1.5, (entry, killed)
    actual = nginx_total(nginx) - summary["totals"]["requests"]
    # Its own rate over the missing seconds: an estimate of the same order as what nginx saw beyond the totals.
    assert 0 < entry["estimatedRequests"] == missing["estimatedRequests"]
    assert actual <= 2 * missing["estimatedRequests"] + 50, (actual, missing)
    assert "judged on the requests counted" in missing["thresholds"]
    assert any(e["message"].startswith("the totals are incomplete: no reports from " + victim)
               for e in summary["events"]), summary["events"]


def test_kill_one_agent_rebalances_users_and_completes(run, nginx):
    r = run(duration="9s")
    r.start_coordinator()
    for name in ("a1", "a2", "a3"):
        r.start_agent(name)
    killed_at = kill_one_midrun(r)
    code, agents, summary = r.wait()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents["a1"] == 0 and agents["a3"] == 0
    event = lost_event(summary, "a2")
    detected_after = started_at(summary) + event["atSeconds"] - killed_at
    # Silence of 3 s after the last message, which left at most ~1 s before the kill.
    assert 1.5 < detected_after <= 3.2, detected_after
    assert any("rebalanced 10 user(s) of agent a2 onto 2 agent(s)" in e["message"] for e in summary["events"])
    detail = by_agent(summary)
    assert detail["a2"]["userRanges"] == []
    assert detail["a1"]["users"] + detail["a3"]["users"] == 30
    # Users back to the target after the rebalance: the last full seconds show 30/30.
    lines = [l for l in r.stdout.splitlines() if re.match(r"\s+\d+s\s+users", l)]
    users = [int(re.search(r"users (\d+)/30", l).group(1)) for l in lines]
    lost_second = int(event["atSeconds"])
    assert min(users[:lost_second - 1]) == 30 or lost_second < 2, users
    assert users[lost_second + 1] == 30, users
    check_conserved_up_to_last_report(summary, nginx, "a2")
    check_missing_totals(summary, nginx, "a2", killed_at)


def test_kill_one_agent_with_abort_policy_exits_3(run, nginx):
    r = run(duration="20s")
    r.start_coordinator("--agent-loss", "abort")
    for name in ("a1", "a2", "a3"):
        r.start_agent(name)
    kill_one_midrun(r, after=2.0)
    code, agents, summary = r.wait()
    assert code == 3, r.stdout + r.coordinator_log()
    assert summary["verdict"] == "aborted"
    lost_event(summary, "a2")
    assert summary["durationSeconds"] < 8, "the run must stop when the agent is lost, not run its 20 s"
    assert agents["a1"] == 0 and agents["a3"] == 0
    check_conserved_up_to_last_report(summary, nginx, "a2")


class ChaosProxy:
    """A TCP proxy that cuts every connection after a random 0.3-1.2 s (RST)."""

    def __init__(self, upstream_port, seed=4):
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.cuts = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _serve(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass

        tasks = [asyncio.ensure_future(pipe(reader, up_writer)), asyncio.ensure_future(pipe(up_reader, writer))]
        done, _ = await asyncio.wait(tasks, timeout=self.rng.uniform(0.3, 1.2), return_when=asyncio.FIRST_COMPLETED)
        if not done:
            self.cuts += 1
        for t in tasks:
            t.cancel()
        writer.transport.abort()
        up_writer.transport.abort()

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_stream_cuts_lose_nothing_and_count_nothing_twice(run, nginx):
    r = run(duration="8s")
    port = r.start_coordinator()
    proxy = ChaosProxy(port)
    try:
        for name in ("a1", "a2", "a3"):
            r.start_agent(name, port=proxy.port)
        code, agents, summary = r.wait()
    finally:
        proxy.close()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0, "a3": 0}, [r.agent_log(n)[-2000:] for n in agents]
    assert proxy.cuts >= 6, "the proxy should have cut streams mid-run"
    assert sum(a["reconnects"] for a in summary["distributed"]["agents"]) >= 6
    assert all(a["state"] == "finished" for a in summary["distributed"]["agents"]), summary["events"]
    assert summary["totals"]["requests"] == nginx_total(nginx) > 1000


def test_abort_on_fail_threshold_stops_every_agent_within_2s(run, nginx):
    r = run(duration="30s", thresholds='[{expression: "http.failures rate < 1%", abortOnFail: true}]')
    # Every request fails: the users ask for an error status.
    r.scenario.write_text(r.scenario.read_text().replace("/items/{{user.index}}", "/status/500"))
    r.start_coordinator()
    for name in ("a1", "a2", "a3"):
        r.start_agent(name)
    code, agents, summary = r.wait()
    assert code == 1, r.stdout + r.coordinator_log()
    assert summary["verdict"] == "aborted"
    failed = [e for e in summary["events"] if "abortOnFail" in e["message"]]
    assert len(failed) == 1, summary["events"]
    for agent in summary["distributed"]["agents"]:
        assert agent["state"] == "finished"
        assert agent["endedAtSeconds"] - failed[0]["atSeconds"] <= 2.0, agent
    assert summary["durationSeconds"] < 5
    assert agents == {"a1": 0, "a2": 0, "a3": 0}
    assert summary["totals"]["requests"] == nginx.counts()[("GET", "/status/500")]


def test_wrong_token_is_refused_and_the_run_goes_on(run, nginx, tmp_path):
    r = run(duration="1s")
    r.start_coordinator(expect=1)
    bad = tmp_path / "bad-token"
    bad.write_text("guess\n")
    intruder = r.start_agent("intruder", None, bad)
    assert intruder.wait(timeout=30) == 3
    assert "wrong or missing run token" in r.agent_log("intruder")
    del r.agents["intruder"]
    r.start_agent("a1")
    code, agents, summary = r.wait()
    assert code == 0
    assert agents == {"a1": 0}
    assert "refused" in r.coordinator_log() and "wrong or missing run token" in r.coordinator_log()
    assert summary["totals"]["requests"] == nginx_total(nginx)


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0"])
def test_no_token_beyond_loopback_refuses_to_start(tmp_path, listen):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(LOAD.format(url="http://127.0.0.1:9", users=1, duration="1s", thresholds="[]"))
    done = subprocess.run([HERD, "coordinator", str(scenario), "--listen", listen, "--expect-agents", "1"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "not a loopback address, and no token" in done.stderr, done.stderr
    assert "--token-file FILE" in done.stderr and "--insecure" in done.stderr, done.stderr
    assert "listening" not in done.stdout + done.stderr


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0"])
def test_token_without_tls_beyond_loopback_refuses_to_start(tmp_path, listen):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(LOAD.format(url="http://127.0.0.1:9", users=1, duration="1s", thresholds="[]"))
    token = tmp_path / "token"
    token.write_text("run-secret\n")
    done = subprocess.run([HERD, "coordinator", str(scenario), "--listen", listen, "--expect-agents", "1",
                           "--token-file", str(token)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "not a loopback address, and no TLS" in done.stderr, done.stderr
    assert "--tls-cert FILE --tls-key FILE" in done.stderr and "--insecure" in done.stderr, done.stderr
    assert "listening" not in done.stdout + done.stderr


@pytest.mark.parametrize("listen, extra", [("127.0.0.1:0", []), ("0.0.0.0:0", ["--insecure"])])
def test_no_token_runs_on_loopback_or_with_insecure(run, nginx, listen, extra):
    r = run(duration="1s")
    r.start_coordinator(*extra, expect=1, listen=listen, token=False)
    r.start_agent("a1", None, "")
    code, agents, summary = r.wait()
    assert code == 0, r.coordinator_log()
    assert agents == {"a1": 0}, r.agent_log("a1")
    assert summary["totals"]["requests"] == nginx_total(nginx) > 0
    assert "no --token-file: any agent that reaches" in r.coordinator_log()


def test_restarted_coordinator_adopts_the_running_agents(run, nginx):
    r = run(duration="8s")
    port = free_port()
    listen = ("--listen", f"127.0.0.1:{port}", "--run-id", "adopt-1")
    # The first coordinator starts the run, then dies without a word.
    r.coordinator = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *listen, "--expect-agents", "2", "--token-file", str(r.token)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=r.tmp)
    r.port = port
    time.sleep(0.5)
    r.start_agent("a1")
    r.start_agent("a2")
    time.sleep(3)
    r.coordinator.kill()
    r.coordinator.wait()
    time.sleep(0.5)
    # Its successor, same run id and token, adopts the agents instead of restarting the test.
    second = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *listen, "--expect-agents", "2", "--token-file", str(r.token),
         "--summary-json", str(r.summary)],
        stdout=subprocess.PIPE, stderr=open(r.tmp / "coordinator.err", "w"), text=True, cwd=r.tmp)
    r.coordinator = second
    code, agents, summary = r.wait()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n)[-2000:] for n in agents]
    adopted = [e for e in summary["events"] if e["message"].startswith("adopted agent")]
    assert len(adopted) == 2, summary["events"]
    detail = by_agent(summary)
    assert detail["a1"]["userRanges"] == [[0, 15]] and detail["a2"]["userRanges"] == [[15, 15]]
    # The run kept its start: it ends 8 s after the first coordinator's start.
    # The agents sent their whole history again, so the summary is the whole
    # run's: exactly what nginx served, and a per-agent count of every report.
    assert 7.5 <= summary["durationSeconds"] <= 8.5
    assert summary["totals"]["requests"] == nginx_total(nginx)
    assert detail["a1"]["requests"] + detail["a2"]["requests"] == nginx_total(nginx)


def wait_for_log(r, names, text, timeout=15):
    return wait_until(lambda: all(text in r.agent_log(n) for n in names), timeout)


def test_agents_refused_as_unknown_run_redial_until_a_coordinator_adopts_them(run, nginx):
    r = run(duration="10s")
    port = free_port()
    listen = ("--listen", f"127.0.0.1:{port}")
    r.coordinator = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *listen, "--run-id", "adopt-2", "--expect-agents", "2",
         "--token-file", str(r.token)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=r.tmp)
    r.port = port
    time.sleep(0.5)
    r.start_agent("a1")
    r.start_agent("a2")
    time.sleep(3)
    r.coordinator.kill()
    r.coordinator.wait()
    # A coordinator that does not know the run answers first (as an operator
    # that has just become leader, before its reconciler took the run over):
    # the agents are refused UNKNOWN_RUN and keep redialling instead of exiting.
    stranger = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *listen, "--run-id", "another-run", "--expect-agents", "2",
         "--token-file", str(r.token)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=r.tmp)
    try:
        assert wait_for_log(r, ["a1", "a2"], 'does not know run "adopt-2"'), r.agent_log("a1")[-2000:]
        assert all(proc.poll() is None for proc in r.agents.values())
    finally:
        stranger.kill()
        stranger.wait()
    r.coordinator = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *listen, "--run-id", "adopt-2", "--expect-agents", "2",
         "--token-file", str(r.token), "--summary-json", str(r.summary)],
        stdout=subprocess.PIPE, stderr=open(r.tmp / "coordinator.err", "w"), text=True, cwd=r.tmp)
    code, agents, summary = r.wait()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n)[-2000:] for n in agents]
    assert len([e for e in summary["events"] if e["message"].startswith("adopted agent")]) == 2, summary["events"]
    assert summary["totals"]["requests"] == nginx_total(nginx)


def test_agent_that_cannot_reach_the_target_fails_the_run_with_exit_3(run, nginx):
    # The agent tries again for --target-wait (a Service may come up with the
    # run), saying each failure, then fails the run with the reason.
    r = run(url="http://127.0.0.1:9")  # nothing listens on the discard port here
    r.start_coordinator(expect=1)
    began = time.monotonic()
    r.start_agent("a1", None, None, "--target-wait", "2.5s")
    code, agents, summary = r.wait()
    assert 2 <= time.monotonic() - began < 10
    assert code == 3
    assert agents == {"a1": 3}
    assert "http://127.0.0.1:9" in r.agent_log("a1") and "cannot run" in r.agent_log("a1")
    assert "target check 2 failed" in r.agent_log("a1"), r.agent_log("a1")
    assert "http://127.0.0.1:9" in r.coordinator_log()
    assert summary is None


def test_a_slow_target_check_still_reaches_the_coordinator(run, nginx, tmp_path):
    # The agent checks its targets when it is welcomed (names, connections, TLS
    # settings); here the check waits 8 s on its CA file (a pipe nobody writes
    # yet), longer than the 6 s after which a silent coordinator counts as gone.
    # The check's time is the agent's own, not the coordinator's silence: the
    # stream stays up and the check's verdict ends the run at once.
    ca = tmp_path / "ca.pem"
    os.mkfifo(ca)
    r = run(url=f"https://127.0.0.1:{free_port()}")
    r.start_coordinator(expect=1)
    r.start_agent("a1", None, None, "--ca-file", str(ca))
    time.sleep(8)
    with open(ca, "w") as pipe:  # unblocks the agent's read
        pipe.write("not a certificate\n")
    code, agents, summary = r.wait(timeout=30)
    assert code == 3, r.stdout + r.coordinator_log()
    assert agents == {"a1": 3}, r.agent_log("a1")
    assert "reconnecting" not in r.agent_log("a1"), r.agent_log("a1")
    assert "agent a1" in r.coordinator_log() and str(ca) in r.coordinator_log(), r.coordinator_log()
    assert summary is None


def test_sigterm_agent_leaves_gracefully_and_its_users_move(run, nginx):
    r = run(duration="6s")
    r.start_coordinator()
    for name in ("a1", "a2", "a3"):
        r.start_agent(name)
    time.sleep(2.5)
    r.agents["a2"].send_signal(signal.SIGTERM)
    assert r.agents["a2"].wait(timeout=10) == 0, r.agent_log("a2")
    code, agents, summary = r.wait()
    assert code == 0, r.stdout + r.coordinator_log()
    left = [e for e in summary["events"] if "agent a2 left the run early" in e["message"]]
    assert len(left) == 1, summary["events"]
    assert any("rebalanced 10 user(s) of agent a2" in e["message"] for e in summary["events"])
    detail = by_agent(summary)
    assert detail["a2"]["state"] == "finished" and detail["a2"]["userRanges"] == []
    # Its last report was delivered before it exited: nothing is missing.
    assert summary["totals"]["requests"] == nginx_total(nginx)
