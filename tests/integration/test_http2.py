"""HTTP/2 against a real nginx on loopback (tests/fixtures/nginx/nginx-http2.conf.tmpl):
cleartext with prior knowledge (h2c) and TLS with ALPN, counted against nginx's own
access log, which also says the protocol and the connection of every request."""
import collections
import csv

import pytest

from conftest import SOURCE_DIR  # noqa: F401 (puts the nginx fixture on the path)
from nginx_server import HTTP2_TEMPLATE, NginxServer

SCENARIO = """
name: http2
target: {url}
defaults: {{http: "2", streamsPerConnection: {streams}}}
users:
  - name: user
    steps:
      - get: /
      - post: {{url: /echo, json: {{user: "{{{{user.index}}}}"}}}}
      - get: {{url: /big, check: {{status: 200}}}}
      - get: {{url: /status/404, name: missing, check: {{status: 404}}}}
load: {{users: {users}, spawnRate: 1000, duration: 1s}}
"""


def http2_nginx(streams=128, requests=1000000):
    return NginxServer(template=HTTP2_TEMPLATE, extra={"STREAMS": str(streams), "REQUESTS": str(requests)})


def log_fields(nginx):
    """(method, uri, status, bytes, protocol, connection, connection_requests) per request."""
    return nginx.access_log()


def run(herd, url, streams=100, users=8, *args):
    scenario = herd.scenario(SCENARIO.format(url=url, streams=streams, users=users))
    result, summary = herd.run_summary(scenario, "--insecure", "--workers", "1", *args)
    assert summary is not None, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    return summary


def by_request(summary):
    return {(e["method"], e["name"]): e for e in summary["endpoints"]}


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
def test_counts_equal_nginx_and_every_request_is_http2(herd, tmp_path, tls):
    with http2_nginx() as nginx:
        summary = run(herd, nginx.tls_url if tls else nginx.url, 100, 8, "--out", str(tmp_path / "out"))
        log = log_fields(nginx)
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert {fields[4] for fields in log} == {"HTTP/2.0"}
    counts = collections.Counter((fields[0], fields[1]) for fields in log)
    endpoints = by_request(summary)
    assert endpoints[("GET", "/")]["requests"] == counts[("GET", "/")] > 100
    assert endpoints[("POST", "/echo")]["requests"] == counts[("POST", "/echo")]
    assert endpoints[("GET", "/big")]["requests"] == counts[("GET", "/big")]
    assert endpoints[("GET", "missing")]["requests"] == counts[("GET", "/status/404")]
    assert summary["totals"]["requests"] == len(log)
    assert {e["protocol"] for e in summary["endpoints"]} == {"HTTP/2"}
    # The whole 1 MiB body of /big came through flow control: nginx logged it sent.
    assert {fields[3] for fields in log if fields[1] == "/big"} == {str(1 << 20)}
    # The stats CSV says the protocol in a last column.
    with open(tmp_path / "out" / "herd_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {row["Protocol"] for row in rows} == {"HTTP/2"}


def test_alpn_falls_back_to_http1_when_the_server_offers_no_h2(herd):
    with NginxServer() as nginx:  # the default configuration: TLS without http2
        summary = run(herd, nginx.tls_url)
        counts = nginx.counts()
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert summary["totals"]["requests"] == sum(counts.values()) > 100
    assert by_request(summary)[("GET", "/")]["requests"] == counts[("GET", "/")]
    assert {e["protocol"] for e in summary["endpoints"]} == {"HTTP/1.1"}


@pytest.mark.parametrize("server_streams,setting,connections", [(128, 4, 2), (2, 4, 4), (128, 100, 1)])
@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
def test_streams_per_connection(herd, tls, server_streams, setting, connections):
    """8 users without think time keep 8 streams open: the pool opens as many
    connections as min(setting, the server's SETTINGS_MAX_CONCURRENT_STREAMS) needs."""
    with http2_nginx(streams=server_streams) as nginx:
        summary = run(herd, nginx.tls_url if tls else nginx.url, setting)
        log = log_fields(nginx)
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert summary["totals"]["requests"] == len(log)
    assert len({fields[5] for fields in log}) == connections


def test_goaway_after_each_connections_last_stream_loses_nothing(herd):
    """nginx ends a connection with GOAWAY after 50 streams: requests go on on
    new connections, none fails and none is counted twice."""
    with http2_nginx(requests=50) as nginx:
        summary = run(herd, nginx.url)
        log = log_fields(nginx)
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert summary["totals"]["requests"] == len(log)
    per_connection = collections.Counter(fields[5] for fields in log)
    assert len(per_connection) > 10 and max(per_connection.values()) == 50


MIXED = """
name: mixed
target: {url}
users:
  - name: user
    steps:
      - get: {{url: /, name: one, http: "1.1"}}
      - get: {{url: /, name: two, http: "2"}}
load: {{users: 2, spawnRate: 100, duration: 1s}}
"""


def test_http_version_per_request(herd):
    with http2_nginx() as nginx:
        result, summary = herd.run_summary(herd.scenario(MIXED.format(url=nginx.tls_url)), "--insecure")
        log = log_fields(nginx)
    assert result.returncode == 0, result.stderr
    endpoints = {e["name"]: e for e in summary["endpoints"]}
    assert endpoints["one"]["protocol"] == "HTTP/1.1" and endpoints["two"]["protocol"] == "HTTP/2"
    protocols = collections.Counter(fields[4] for fields in log)
    assert protocols["HTTP/1.1"] == endpoints["one"]["requests"] > 10
    assert protocols["HTTP/2.0"] == endpoints["two"]["requests"]


REFUSED = """
name: refused
target: {url}
defaults: {{http: "2"}}
users:
  - name: user
    steps:
      - get: /
      - think: 20ms
load: {{users: 1, spawnRate: 10, duration: 1s}}
"""


def test_a_refused_stream_is_sent_again_once_and_counted_once(herd):
    from h2_refusing_server import RefusingServer
    with RefusingServer("alternate") as server:
        result, summary = herd.run_summary(herd.scenario(REFUSED.format(url=server.url)))
        counts = dict(server.counts)
    assert result.returncode == 0, result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert summary["totals"]["requests"] == counts["served"] == counts["refused"] > 10


def test_a_stream_refused_twice_is_a_reset_failure(herd):
    from h2_refusing_server import RefusingServer
    with RefusingServer("all") as server:
        result, summary = herd.run_summary(herd.scenario(REFUSED.format(url=server.url)))
        counts = dict(server.counts)
    requests = summary["totals"]["requests"]
    assert summary["totals"]["failures"] == requests > 10
    assert [(e["kind"], e["count"]) for e in summary["errors"]] == [("reset", requests)]
    assert counts == {"refused": 2 * requests, "served": 0}


DISTRIBUTED = """
name: dist-h2
target: {url}
defaults: {{http: "2", streamsPerConnection: 5}}
users:
  - name: reader
    steps:
      - get: /items/{{{{user.index}}}}
        name: /items/[n]
      - think: 10ms
load: {{users: 20, spawnRate: 1000, duration: 2s}}
"""


def test_coordinator_with_two_agents_over_http2(tmp_path):
    """The protocol travels with the agents' stats: the coordinator's summary says HTTP/2."""
    from test_distributed import Run
    with http2_nginx() as nginx:
        r = Run(tmp_path, nginx, text=DISTRIBUTED.format(url=nginx.tls_url))
        code, agents, summary = r.run_agents(("a1", "a2"), "--insecure")
        log = log_fields(nginx)
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n) for n in agents]
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert summary["totals"]["requests"] == len(log) > 100
    assert {fields[4] for fields in log} == {"HTTP/2.0"}
    assert [e["protocol"] for e in summary["endpoints"]] == ["HTTP/2"]
