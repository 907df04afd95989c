"""Worker processes (`--processes N`): the users split over N child herd
processes whose counts merge into one result, `herd run`'s and each agent's,
conserved against nginx's own access log; a child that dies fails the run, and
children die with their parent."""
import json
import os
import signal
import subprocess
import time

from conftest import HERD
from test_distributed import LOAD, Run, by_agent, nginx_total



def scenario_text(url, users, duration):
    return LOAD.format(url=url, users=users, duration=duration, thresholds="[]")


def children_of(pid):
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "worker-process" in line]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: it only waits to be reaped.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_run_with_two_processes_conserves_counts(herd, nginx):
    scenario = herd.scenario(scenario_text(nginx.url, users=40, duration="3s"))
    result, summary = herd.run_summary(scenario, "--processes", "2", "--workers", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running on 2 worker processes" in result.stderr
    total = summary["totals"]["requests"]
    assert total == nginx_total(nginx) > 1000, (total, nginx.counts())
    assert summary["totals"]["failures"] == 0
    # One identity, one result: the parent's agent holds all 40 users.
    assert summary["agents"] == 1
    assert by_agent(summary)["local"]["userRanges"] == [[0, 40]]
    # Each user index was run, by exactly one process (nginx saw all 40 URIs).
    assert {uri for (_, uri) in nginx.counts()} == {f"/items/{i}" for i in range(40)}


def test_processes_beyond_the_open_files_limit_are_refused_with_the_flag_named(herd, nginx):
    scenario = herd.scenario(scenario_text(nginx.url, users=900, duration="1s"))
    result = subprocess.run(["bash", "-c", f'ulimit -n 256 && exec "$0" "$@"', HERD, "run", scenario,
                             "--processes", "2"], capture_output=True, text=True, timeout=60, cwd=herd.tmp)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--processes" in result.stderr and "514 file descriptors per process" in result.stderr, result.stderr


def test_the_process_count_follows_the_open_files_limit(herd, nginx):
    """900 users under a limit of 256 files: herd picks 5 processes (180 users
    + 64 reserved ≤ 256 each; 4 would need 289) without being told."""
    scenario = herd.scenario(scenario_text(nginx.url, users=900, duration="2s").replace("10ms", "1s"))
    summary = herd.tmp / "summary.json"
    result = subprocess.run(["bash", "-c", f'ulimit -n 256 && exec "$0" "$@"', HERD, "run", scenario, "--workers",
                             "1", "--spawn-rate", "10000", "--summary-json", str(summary)], capture_output=True, text=True, timeout=60,
                            cwd=herd.tmp)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running on 5 worker processes" in result.stderr
    data = json.loads(summary.read_text())
    assert data["totals"]["requests"] == nginx_total(nginx) >= 900


def test_a_worker_process_that_dies_fails_the_run(herd, nginx):
    scenario = herd.scenario(scenario_text(nginx.url, users=20, duration="8s"))
    proc = subprocess.Popen([HERD, "run", scenario, "--processes", "2", "--workers", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=herd.tmp)
    try:
        deadline = time.time() + 10
        while len(children_of(proc.pid)) < 2 and time.time() < deadline:
            time.sleep(0.1)
        children = children_of(proc.pid)
        assert len(children) == 2
        time.sleep(2.5)
        os.kill(children[1], signal.SIGKILL)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 3, out + err
        assert "worker process 1" in out + err and "killed by signal 9" in out + err, out + err
        assert not alive(children[0])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_worker_processes_die_with_their_parent(herd, nginx):
    scenario = herd.scenario(scenario_text(nginx.url, users=20, duration="30s"))
    proc = subprocess.Popen([HERD, "run", scenario, "--processes", "2", "--workers", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=herd.tmp)
    children = []
    try:
        deadline = time.time() + 10
        while len(children) < 2 and time.time() < deadline:
            time.sleep(0.1)
            children = children_of(proc.pid)
        assert len(children) == 2
        proc.kill()
        proc.wait()
        deadline = time.time() + 5
        while any(alive(c) for c in children) and time.time() < deadline:
            time.sleep(0.05)
        assert not any(alive(c) for c in children)
    finally:
        for c in children:
            if alive(c):
                os.kill(c, signal.SIGKILL)


def test_sigint_stops_the_children_gracefully_and_counts_everything(herd, nginx):
    scenario = herd.scenario(scenario_text(nginx.url, users=20, duration="30s"))
    summary_path = herd.tmp / "summary.json"
    proc = subprocess.Popen([HERD, "run", scenario, "--processes", "2", "--workers", "1", "--summary-json",
                             str(summary_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=herd.tmp, start_new_session=True)
    try:
        time.sleep(3)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, out + err
        summary = json.loads(summary_path.read_text())
        assert summary["totals"]["requests"] == nginx_total(nginx) > 100
        assert summary["durationSeconds"] < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_distributed_agents_with_two_processes_each_conserve(tmp_path, nginx):
    r = Run(tmp_path, nginx, users=30, duration="3s")
    code, agents, summary = r.run_agents(("a1", "a2"), "--processes", "2")
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n) for n in agents]
    detail = by_agent(summary)
    assert summary["agents"] == 2 and set(detail) == {"a1", "a2"}
    assert [detail[n]["userRanges"] for n in ("a1", "a2")] == [[[0, 15]], [[15, 15]]]
    total = summary["totals"]["requests"]
    assert total == sum(a["requests"] for a in detail.values())
    assert total == nginx_total(nginx) > 1000
    assert summary["totalsComplete"] is True
    assert all("running on 2 worker processes" in r.agent_log(n) for n in agents)
    assert {uri for (_, uri) in nginx.counts()} == {f"/items/{i}" for i in range(30)}


def test_sigterm_agent_with_processes_leaves_and_its_users_move_to_the_other(tmp_path, nginx):
    """SIGTERM reaches the agent only (as in a pod): it stops its worker processes
    with the grace time, delivers their last counts in its final report and exits 0;
    its users are rebalanced into the other agent's processes, as a new range."""
    r = Run(tmp_path, nginx, users=30, duration="6s")
    try:
        r.start_coordinator(expect=2)
        r.start_agent("a1", None, None, "--processes", "2")
        r.start_agent("a2", None, None, "--processes", "2")
        time.sleep(2.5)
        r.agents["a2"].send_signal(signal.SIGTERM)
        assert r.agents["a2"].wait(timeout=15) == 0, r.agent_log("a2")
        code, agents, summary = r.wait()
    finally:
        r.stop()
    assert code == 0, r.stdout + r.coordinator_log()
    assert any("rebalanced 15 user(s) of agent a2" in e["message"] for e in summary["events"]), summary["events"]
    detail = by_agent(summary)
    assert detail["a2"]["state"] == "finished" and detail["a2"]["userRanges"] == []
    assert summary["totals"]["requests"] == nginx_total(nginx)
    # a1 ran the moved users in its worker processes too: every index reached nginx
    # after the rebalance, from a1's children.
    assert sorted(detail["a1"]["userRanges"]) == [[0, 15], [15, 15]]
