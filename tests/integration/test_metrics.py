"""--metrics-listen serves Prometheus text while the run goes: every scrape parses
(with prometheus_client's parser and a strict check of the format here), counters
never go backwards, and the final values equal summary.json."""
import json
import math
import re
import selectors
import signal
import subprocess
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from conftest import HERD, visitor_scenario

THRESHOLDS = ["http.latency p95 < 10s", "http.failures rate < 1%"]


def scenario_text(url):
    return visitor_scenario("live", url, 3, 30, "3s", THRESHOLDS)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? '
                    r'(-?[0-9.]+(?:e[-+]?[0-9]+)?|[+-]Inf|NaN)$')


def strict_parse(text):
    """{(name, labels): value}; fails on anything outside the text format 0.0.4."""
    assert text.endswith("\n")
    typed, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram") and name not in typed, line
            typed[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name = match[1]
        family = re.sub(r"_(bucket|sum|count)$", "", name) if re.sub(r"_(bucket|sum|count)$", "", name) in typed else name
        assert family in typed, f"no TYPE before {line!r}"
        assert (name, match[2] or "") not in samples, f"duplicate series {line!r}"
        samples[(name, match[2] or "")] = float(match[3])
    return typed, samples


def total(samples, name):
    return sum(v for (n, _), v in samples.items() if n == name)


def check_histograms(samples):
    buckets = {}
    for (name, labels), value in samples.items():
        if name == "herd_request_duration_seconds_bucket":
            series = re.sub(r',le="[^"]*"', "", labels)
            le = re.search(r'le="([^"]*)"', labels)[1]
            buckets.setdefault(series, []).append((math.inf if le == "+Inf" else float(le), value))
    assert buckets
    for series, points in buckets.items():
        points.sort()
        counts = [c for _, c in points]
        assert counts == sorted(counts), f"buckets of {series} are not cumulative"
        assert points[-1][0] == math.inf
        assert counts[-1] == samples[("herd_request_duration_seconds_count", series)]


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def metrics_url(process, deadline):
    selector = selectors.DefaultSelector()
    selector.register(process.stderr, selectors.EVENT_READ)
    seen = ""
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = process.stderr.readline()
            seen += line
            found = re.search(r"metrics at (http://\S+/metrics)", line)
            if found:
                return found[1]
            if not line:
                break
    raise AssertionError(f"herd did not say where its metrics are: {seen}")


def test_live_metrics_parse_and_end_equal_to_the_summary(herd, nginx, tmp_path):
    scenario = herd.scenario(scenario_text(nginx.url))
    summary_path = tmp_path / "summary.json"
    process = subprocess.Popen([HERD, "run", scenario, "--summary-json", str(summary_path), "--no-ledger",
                                "--metrics-listen", "127.0.0.1:0", "--metrics-linger", "60s"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        url = metrics_url(process, deadline)
        scrapes, previous = [], {}
        while time.monotonic() < deadline:
            text = scrape(url)
            families = {f.name: f for f in text_string_to_metric_families(text)}
            assert {"herd_requests", "herd_request_duration_seconds", "herd_users", "herd_threshold_passing"} <= set(families)
            typed, samples = strict_parse(text)
            check_histograms(samples)
            for key, value in samples.items():
                if typed.get(key[0].removesuffix("_total")) == "counter" or key[0].endswith("_total"):
                    assert value >= previous.get(key, 0), f"counter {key} went backwards"
            previous = samples
            scrapes.append(samples)
            if samples[("herd_run_finished", "")] == 1:
                break
            time.sleep(0.2)  # the scrape interval; what the test waits for is herd_run_finished
        final = scrapes[-1]
        assert final[("herd_run_finished", "")] == 1, "the run did not finish in time"
        during = [s for s in scrapes if s[("herd_run_finished", "")] == 0 and total(s, "herd_requests_total") > 0]
        assert during, "no scrape saw the run while it was going"
        assert any(s[("herd_users", "")] == 3 for s in during)
        assert final[("herd_users_target", "")] == 3
        process.send_signal(signal.SIGINT)  # ends the linger
        assert process.wait(timeout=30) == 1  # the failure-rate threshold fails
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    summary = json.loads(summary_path.read_text())
    assert total(final, "herd_requests_total") == summary["totals"]["requests"] == sum(nginx.counts().values())
    assert total(final, "herd_request_failures_total") == summary["totals"]["failures"] > 0
    assert total(final, "herd_errors_total") == summary["totals"]["failures"]
    assert total(final, "herd_request_duration_seconds_count") == summary["totals"]["requests"]
    assert total(final, "herd_response_bytes_total") == summary["totals"]["bytesReceived"]
    for endpoint in summary["endpoints"]:
        labels = f'{{endpoint="{endpoint["name"]}",method="{endpoint["method"]}"}}'
        assert final[("herd_requests_total", labels)] == endpoint["requests"]
    passing = {re.search(r'threshold="(.*)"', labels)[1]: value
               for (name, labels), value in final.items() if name == "herd_threshold_passing"}
    assert passing == {t["expression"]: (1 if t["passed"] else 0) for t in summary["thresholds"]}


def test_bad_listen_addresses(herd):
    scenario = herd.scenario(scenario_text("http://127.0.0.1:9"))
    bad = herd.run("run", scenario, "--metrics-listen", "9464")
    assert bad.returncode == 2 and "--metrics-listen" in bad.stderr and "HOST:PORT" in bad.stderr
    # A port that is taken: the run cannot be carried out as asked.
    with socket_listening() as port:
        taken = herd.run("run", scenario, "--metrics-listen", f"127.0.0.1:{port}")
        assert taken.returncode == 3 and "cannot listen" in taken.stderr, taken.stderr


class socket_listening:
    def __enter__(self):
        import socket
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        return self.sock.getsockname()[1]

    def __exit__(self, *exc):
        self.sock.close()
