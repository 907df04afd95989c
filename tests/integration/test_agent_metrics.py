"""`herd agent --metrics-listen` serves the agent's own share of a distributed
run as Prometheus text: two real agents on loopback against a real `herd
coordinator` and a real nginx, scraped while the run goes. Every scrape parses
(prometheus_client's parser and the strict check of test_metrics), counters
never go backwards, and each agent's final values equal what the coordinator's
summary credits that agent with; together they equal nginx's own count."""
import json
import re
import signal
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from conftest import HERD, visitor_scenario
from test_metrics import check_histograms, scrape, socket_listening, strict_parse, total

AGENTS = ("a1", "a2")
USERS = 6


def wait_for_line(path, pattern, process, deadline):
    """The first match of `pattern` in the file the process writes its stderr to."""
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        found = re.search(pattern, text)
        if found:
            return found
        assert process.poll() is None, f"exited with {process.returncode}: {text}"
        time.sleep(0.05)
    raise AssertionError(f"no {pattern!r} in {path}: {path.read_text()}")


def test_agents_serve_their_own_load_while_the_run_goes(nginx, tmp_path):
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(visitor_scenario("agent-metrics", nginx.url, USERS, 60, "3s", ["http.latency p95 < 10s"]))
    token = tmp_path / "token"
    token.write_text("secret\n")
    summary_path = tmp_path / "summary.json"
    processes = []

    def start(name, args):
        err = tmp_path / f"{name}.err"
        process = subprocess.Popen([HERD, *args], stdout=subprocess.PIPE, stderr=err.open("w"), text=True,
                                   cwd=tmp_path)
        processes.append(process)
        return process, err

    try:
        deadline = time.monotonic() + 90
        coordinator, _ = start("coordinator", [
            "coordinator", str(scenario), "--listen", "127.0.0.1:0", "--expect-agents", str(len(AGENTS)),
            "--token-file", str(token), "--summary-json", str(summary_path), "--no-ledger"])
        port = re.search(r"listening on port (\d+)", coordinator.stdout.readline())[1]
        agents, urls = {}, {}
        for name in AGENTS:
            agents[name], err = start(name, [
                "agent", "--coordinator", f"127.0.0.1:{port}", "--token-file", str(token), "--agent-id", name,
                "--workers", "1", "--metrics-listen", "127.0.0.1:0", "--metrics-linger", "60s"])
            urls[name] = wait_for_line(err, r"metrics at (http://\S+/metrics)", agents[name], deadline)[1]

        scrapes = {name: [] for name in AGENTS}
        previous = {name: {} for name in AGENTS}
        finished = set()
        while finished != set(AGENTS) and time.monotonic() < deadline:
            for name in AGENTS:
                text = scrape(urls[name])
                families = {f.name: f for f in text_string_to_metric_families(text)}
                assert [s.labels for s in families["herd_agent_info"].samples] == [{"agent": name}]
                typed, samples = strict_parse(text)
                for key, value in samples.items():
                    if key[0].endswith("_total") or key[0].endswith("_count") or key[0].endswith("_bucket"):
                        assert value >= previous[name].get(key, 0), f"{name}: counter {key} went backwards"
                previous[name] = samples
                if ("herd_run_finished", "") not in samples:
                    continue  # the coordinator's scenario has not arrived yet
                assert {"herd_requests", "herd_request_failures", "herd_errors", "herd_request_duration_seconds",
                        "herd_users", "herd_generator_cpu_percent", "herd_run_elapsed_seconds"} <= set(families)
                check_histograms(samples)
                assert 0 <= samples[("herd_generator_cpu_percent", "")] <= 100
                scrapes[name].append(samples)
                if samples[("herd_run_finished", "")] == 1:
                    finished.add(name)
            time.sleep(0.2)  # the scrape interval; what the loop waits for is herd_run_finished
        assert finished == set(AGENTS), f"agents that did not finish in time: {set(AGENTS) - finished}"

        assert coordinator.wait(timeout=60) == 0, (tmp_path / "coordinator.err").read_text()
        for name, agent in agents.items():
            agent.send_signal(signal.SIGINT)  # ends the linger
            assert agent.wait(timeout=30) == 0, (tmp_path / f"{name}.err").read_text()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    summary = json.loads(summary_path.read_text())
    credited = {a["id"]: a for a in summary["distributed"]["agents"]}
    peak_users = 0
    for name in AGENTS:
        during = [s for s in scrapes[name] if s[("herd_run_finished", "")] == 0 and total(s, "herd_requests_total") > 0]
        assert during, f"no scrape of {name} saw the run while it was going"
        peak_users += max(s[("herd_users", "")] for s in during)
        final = scrapes[name][-1]
        assert total(final, "herd_requests_total") == credited[name]["requests"] > 0
        assert total(final, "herd_request_duration_seconds_count") == credited[name]["requests"]
        assert total(final, "herd_errors_total") == total(final, "herd_request_failures_total") > 0
    assert peak_users == USERS  # the coordinator split the users between the two
    finals = [scrapes[name][-1] for name in AGENTS]
    requests = sum(total(f, "herd_requests_total") for f in finals)
    assert requests == summary["totals"]["requests"] == sum(nginx.counts().values())
    assert sum(total(f, "herd_request_failures_total") for f in finals) == summary["totals"]["failures"] \
        == nginx.counts()[("GET", "/status/404")]
    assert sum(total(f, "herd_response_bytes_total") for f in finals) == summary["totals"]["bytesReceived"]


def test_bad_agent_listen_addresses(tmp_path):
    token = tmp_path / "token"
    token.write_text("secret\n")
    base = [HERD, "agent", "--coordinator", "127.0.0.1:9", "--token-file", str(token), "--reconnect-timeout", "1s"]
    bad = subprocess.run([*base, "--metrics-listen", "9464"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "--metrics-listen" in bad.stderr and "HOST:PORT" in bad.stderr, bad.stderr
    with socket_listening() as port:
        taken = subprocess.run([*base, "--metrics-listen", f"127.0.0.1:{port}"], capture_output=True, text=True,
                               timeout=30)
        assert taken.returncode == 3 and "cannot listen" in taken.stderr, taken.stderr
