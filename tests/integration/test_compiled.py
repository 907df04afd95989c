"""C++ user classes (docs/compiled-scenarios.md), built from an installed herd as
a user would: `cmake --install` into a temporary prefix, the example in
examples/compiled/ configured against it with find_package(herd), then run
beside a YAML class against nginx. Requests are conserved per endpoint against
nginx's access log; an exception in user code shows in the errors table while
its users go on (in a distributed run too, its text carried in the agents'
reports); a library for another herd, a class it lacks, a file whose SHA-256 is
not the pinned one or an agent whose file differs from the coordinator's is
refused with exit 2 at the place of `code:`."""
import collections
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import SOURCE_DIR
from test_distributed import run  # noqa: F401 (the fixture)
from test_http2 import http2_nginx

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "websocket"))
from websocket_server import Echo, WebSocketServer  # noqa: E402
from test_pubsub import FaultyRelay, published_by_nchan  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "nchan"))
from nchan_server import NchanServer  # noqa: E402

BUILD_DIR = os.environ.get("HERD_BUILD_DIR", os.path.join(SOURCE_DIR, "build", "dev"))
CXX = os.environ.get("HERD_CXX", "c++")


def sh(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, " ".join(command) + "\n" + result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """herd installed into a prefix, and the example library built against it."""
    root = tmp_path_factory.mktemp("compiled")
    prefix = root / "prefix"
    sh(["cmake", "--install", BUILD_DIR, "--prefix", str(prefix)])
    assert (prefix / "include" / "herd" / "herd.h").exists()
    build = root / "build"
    sh(["cmake", "-S", os.path.join(SOURCE_DIR, "examples", "compiled"), "-B", str(build),
         f"-DCMAKE_PREFIX_PATH={prefix}", f"-DCMAKE_CXX_COMPILER={CXX}", "-DCMAKE_BUILD_TYPE=Release"])
    sh(["cmake", "--build", str(build)])
    library = build / "shop.so"
    assert library.exists()
    return {"root": root, "prefix": prefix, "library": str(library)}


SCENARIO = """
name: compiled-shop
target: {url}
params: {{apiKey: test-key}}
users:
  - name: buyer
    weight: 3
    code: {{library: {library}, class: Buyer}}
  - name: flaky
    weight: 1
    code: {{library: {library}, class: Flaky}}
  - name: browser
    weight: 1
    steps:
      - get: /about
      - think: 5ms
load: {{users: 10, spawnRate: 100, duration: 3s}}
"""

# herd's endpoint name -> (method, nginx $uri)
EXPECTED = {
    "login": ("POST", "/login"),
    "catalog": ("GET", "/products"),
    "checkout": ("POST", "/checkout"),
    "status": ("GET", "/status"),
    "/about": ("GET", "/about"),
}


def test_cpp_and_yaml_classes_conserve_requests(herd, nginx, installed):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url, library=installed["library"]))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stdout + result.stderr
    counts = nginx.counts()
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert set(by_name) == set(EXPECTED), by_name.keys()
    total = 0
    for name, (method, uri) in EXPECTED.items():
        assert by_name[name]["method"] == method
        assert by_name[name]["requests"] == counts[(method, uri)], (name, by_name[name], counts)
        total += by_name[name]["requests"]
    assert total == sum(counts.values()) == summary["totals"]["requests"]
    # Each of the 6 buyers logged in once (onStart); everyone iterated many times.
    assert by_name["login"]["requests"] == 6
    assert by_name["checkout"]["requests"] > 100
    assert summary["totals"]["failures"] == 0, summary["errors"]
    # Flaky throws every 4th iteration: counted as errors, its users went on.
    errors = [(e["endpoint"], e["kind"], e["message"], e["count"]) for e in summary["errors"]]
    assert len(errors) == 1, errors
    endpoint, kind, message, count = errors[0]
    assert (endpoint, kind, message) == ("status", "exception", "inventory out of sync")
    assert count >= 10 and abs(count * 4 - by_name["status"]["requests"]) <= 2 * 4, (count, by_name["status"])
    assert result.returncode == 0, result.stdout + result.stderr



def test_open_model_runs_one_cpp_iteration_per_arrival(herd, nginx, installed):
    scenario = herd.scenario(f"""
name: open
target: {nginx.url}
users:
  - name: flaky
    code: {{library: {installed["library"]}, class: Flaky}}
load: {{arrivalRate: 200, duration: 3s, maxUsers: 50}}
""")
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    started = nginx.counts()[("GET", "/status")]
    assert abs(started - 600) <= 6, started  # within 1% of R·T
    assert summary["totals"]["requests"] == started
    assert summary["totals"]["failures"] == 0

def test_validate_loads_the_library(herd, installed):
    good = herd.scenario(SCENARIO.format(url="http://127.0.0.1:9", library=installed["library"]))
    result = herd.run("validate", good)
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_class_is_refused_at_its_place(herd, installed):
    text = SCENARIO.format(url="http://127.0.0.1:9", library=installed["library"]).replace("class: Flaky", "class: Nope")
    scenario = herd.scenario(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "class: Nope" in l)
    for command in (["validate", scenario], ["run", scenario]):
        result = herd.run(*command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert re.search(rf"scenario\.yaml:{line}:\d+: users\[1\]\.code\.class: .* has no class \"Nope\" "
                         r"\(it has: Buyer, Flaky\)", result.stderr), result.stderr


def test_library_for_another_api_version_is_refused(herd, installed):
    source = installed["root"] / "other.cc"
    source.write_text("""
#include <herd/herd.h>
static const std::vector<herd::ClassEntry> classes;
extern "C" __attribute__((visibility("default"))) const herd::ScenarioEntry* herd_scenario_v1() {
  static const herd::ScenarioEntry entry{99, "some other compiler", &classes};
  return &entry;
}
""")
    library = installed["root"] / "other.so"
    sh([CXX, "-std=c++20", "-shared", "-fPIC", "-I", str(installed["prefix"] / "include"), "-o", str(library),
         str(source)])
    scenario = herd.scenario(SCENARIO.format(url="http://127.0.0.1:9", library=library))
    result = herd.run("validate", scenario)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "was built for herd API 99, some other compiler; this herd is API 2," in result.stderr, result.stderr



def test_coordinator_and_two_agents_run_cpp_and_yaml_classes(run, nginx, installed):
    r = run()
    r.scenario.write_text(SCENARIO.format(url=nginx.url, library=installed["library"]))
    r.start_coordinator(expect=2)
    r.start_agent("a1")
    r.start_agent("a2")
    code, codes, summary = r.wait()
    assert (code, codes) == (0, {"a1": 0, "a2": 0}), (r.coordinator_log(), r.agent_log("a1"))
    counts = nginx.counts()
    by_name = {e["name"]: e for e in summary["endpoints"]}
    for name, (method, uri) in EXPECTED.items():
        assert by_name[name]["requests"] == counts[(method, uri)], (name, by_name[name], counts)
    assert summary["totals"]["requests"] == sum(counts.values())
    assert by_name["login"]["requests"] == 6
    # The coordinator counts the agents' exceptions, with the text their reports carried.
    errors = [(e["endpoint"], e["kind"], e["message"]) for e in summary["errors"]]
    assert errors == [("status", "exception", "inventory out of sync")], summary["errors"]
    assert summary["errors"][0]["count"] >= 2
    # ... on the console too (the final table's errors).
    assert "inventory out of sync" in r.stdout, r.stdout


def test_agent_with_a_different_library_refuses_the_run(run, installed, tmp_path):
    library = tmp_path / "shop.so"
    shutil.copy(installed["library"], library)
    r = run()
    r.scenario.write_text(SCENARIO.format(url="http://127.0.0.1:9", library=library))
    r.start_coordinator(expect=1)  # has compiled the scenario and hashed the library
    with open(library, "ab") as f:  # the agent finds another file: it still loads, its SHA-256 differs
        f.write(b"\0")
    r.start_agent("a1")
    code, codes, summary = r.wait()
    # Invalid input: the agent refuses with exit 2, and the run ends before it
    # starts with exit 2 and the agent's reason (docs/compiled-scenarios.md).
    assert (code, codes) == (2, {"a1": 2}), (r.coordinator_log(), r.agent_log("a1"))
    reason = (r"users\[0\]\.code\.library: \S*shop\.so on this agent has SHA-256 [0-9a-f]{64}, "
              r"the coordinator's has [0-9a-f]{64}: run the same file everywhere")
    assert re.search(reason, r.agent_log("a1")), r.agent_log("a1")
    assert re.search(r"herd: error: agent a1: .*" + reason, r.coordinator_log()), r.coordinator_log()
    assert summary is None


def sha256_of(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_a_pinned_library_hash_is_checked_before_loading(herd, installed):
    text = SCENARIO.format(url="http://127.0.0.1:9", library=installed["library"])
    good = sha256_of(installed["library"])
    pinned = herd.scenario(text.replace("class: Buyer", f"class: Buyer, sha256: {good.upper()}"))
    result = herd.run("validate", pinned)
    assert result.returncode == 0, result.stdout + result.stderr

    other = "0" * 64
    wrong = text.replace("class: Buyer", f"class: Buyer, sha256: {other}")
    line = next(i for i, l in enumerate(wrong.splitlines(), 1) if other in l)
    for command in (["validate", herd.scenario(wrong)], ["run", herd.scenario(wrong)]):
        result = herd.run(*command)
        assert result.returncode == 2, result.stdout + result.stderr
        assert re.search(rf"scenario\.yaml:{line}:\d+: users\[0\]\.code\.sha256: \S*shop\.so\" has SHA-256 {good}, "
                         rf"the scenario pins {other}: run the file it names", result.stderr), result.stderr

    malformed = herd.scenario(text.replace("class: Buyer", "class: Buyer, sha256: abc"))
    result = herd.run("validate", malformed)
    assert result.returncode == 2, result.stdout + result.stderr
    assert re.search(rf"scenario\.yaml:{line}:\d+: users\[0\]\.code\.sha256: a SHA-256 is 64 hex digits "
                     r"\(sha256sum FILE\), got \"abc\"", result.stderr), result.stderr


def test_agent_whose_library_differs_from_the_pinned_one_exits_2(run, installed, tmp_path):
    library = tmp_path / "shop.so"
    shutil.copy(installed["library"], library)
    pinned = sha256_of(library)
    r = run()
    r.scenario.write_text(SCENARIO.format(url="http://127.0.0.1:9", library=library)
                          .replace("class: Buyer", f"class: Buyer, sha256: {pinned}"))
    r.start_coordinator(expect=1)
    with open(library, "ab") as f:
        f.write(b"\0")
    r.start_agent("a1")
    code, codes, _ = r.wait()
    assert (code, codes) == (2, {"a1": 2}), (r.coordinator_log(), r.agent_log("a1"))
    assert f"the scenario pins {pinned}: run the file it names" in r.coordinator_log(), r.coordinator_log()



@pytest.fixture
def redis(tmp_path):
    """A real redis-server on a free loopback port, nothing persisted; stopped at the end."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield port
    finally:
        proc.kill()
        proc.wait()


def command_calls(port):
    """redis-server's own count of each command: INFO commandstats."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"INFO commandstats\r\n")

        def more():
            chunk = s.recv(65536)
            assert chunk, "redis-server closed the connection"
            return chunk

        data = b""
        while b"\r\n" not in data:  # the bulk string's "$LENGTH" line
            data += more()
        header, _, body = data.partition(b"\r\n")
        while len(body) < int(header[1:]) + 2:
            body += more()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_(\w+):calls=(\d+)", body.decode())}


def test_resp_client_commands_equal_redis_commandstats(herd, redis, installed):
    library = os.path.join(os.path.dirname(installed["library"]), "redis.so")
    scenario = herd.scenario(f"""
name: resp
target: http://127.0.0.1:{redis}
users:
  - name: resp
    code: {{library: {library}, class: RespClient}}
load: {{users: 10, spawnRate: 100, duration: 2s}}
""")
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stdout + result.stderr
    calls = command_calls(redis)
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert by_name["SET"]["requests"] == calls["set"] > 1000, (by_name["SET"], calls)
    assert by_name["GET"]["requests"] == calls["get"], (by_name["GET"], calls)
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert result.returncode == 0, result.stdout + result.stderr


def api_scenario(herd, installed, target, cls, head="", code="", users=4, duration="2s"):
    """A scenario of one class of examples/compiled/api.cc: `head` goes before
    users: (params, defaults, data), `code` into the class's code: map."""
    library = os.path.join(os.path.dirname(installed["library"]), "api.so")
    return herd.scenario(f"""
name: {cls.lower()}
target: {target}
{head}
users:
  - name: {cls.lower()}
    code: {{library: {library}, class: {cls}{code}}}
load: {{users: {users}, spawnRate: 100, duration: {duration}}}
""")


def test_feeders_and_captures_work_as_in_yaml(herd, nginx, installed, tmp_path):
    """Member (examples/compiled/api.cc): a unique row per user in onStart (8 users,
    5 rows: 3 users find none and stop), a cycle row per iteration, and JSONPath,
    regex and header captures whose checks fail if a capture misses."""
    (tmp_path / "accounts.csv").write_text("name,pin\n" + "".join(f"row{i},{1000 + i}\n" for i in range(5)))
    (tmp_path / "items.csv").write_text("sku\nA\nB\nC\n")
    data = "data:\n  accounts: {file: accounts.csv, pick: unique}\n  items: {file: items.csv}"
    scenario = api_scenario(herd, installed, nginx.url, "Member", head=data, users=8)
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["totals"]["failures"] == 0, (summary["errors"], summary.get("checks"))
    counts = nginx.counts()
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert by_name["login"]["requests"] == counts[("GET", "/api/login")] == 5
    assert by_name["page"]["requests"] == counts[("GET", "/api/page")] > 50
    seen = collections.Counter()
    for (method, uri), n in counts.items():
        if uri.startswith("/seen/"):
            seen[tuple(uri.split("/")[2:])] += n
    assert sum(seen.values()) == by_name["seen"]["requests"] > 50
    # Every row once: five users kept theirs; the items went round on each worker.
    assert {row for row, _ in seen} == {f"row{i}" for i in range(5)}
    per_item = collections.Counter()
    for (_, item), n in seen.items():
        per_item[item] += n
    assert set(per_item) == {"A", "B", "C"}
    assert max(per_item.values()) - min(per_item.values()) <= 2, per_item  # one apart per worker


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "h2-tls"])
def test_http2_to_a_declared_origin_beside_http1_to_the_target(herd, nginx, installed, tls):
    """Spread: HTTP/1.1 to the target, the scenario's default HTTP/2 to a second
    origin declared in `code: {origins}`; each counted against its nginx's log."""
    with http2_nginx() as mirror:
        url = mirror.tls_url if tls else mirror.url
        scenario = api_scenario(herd, installed, nginx.url, "Spread",
                                head=f'params: {{mirror: "{url}"}}\ndefaults: {{http: "2"}}',
                                code=', origins: ["{{params.mirror}}"]')
        result, summary = herd.run_summary(scenario, "--insecure", "--workers", "2")
        log = mirror.access_log()
    assert summary is not None, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert by_name["target"]["protocol"] == "HTTP/1.1" and by_name["mirror"]["protocol"] == "HTTP/2"
    assert by_name["target"]["requests"] == nginx.counts()[("GET", "/")] > 50
    assert by_name["mirror"]["requests"] == len(log)
    assert {(fields[0], fields[1], fields[4]) for fields in log} == {("POST", "/echo", "HTTP/2.0")}


def raw_tls_scenario(herd, nginx, installed):
    return api_scenario(herd, installed, nginx.url, "RawTls", head=f'params: {{tlsPort: "{nginx.tls_port}"}}')


def test_raw_tls_connection_exchanges_equal_the_servers_log(herd, nginx, installed):
    """RawTls writes HTTP/1.1 by hand over user.connect(port, {.tls = true}); the
    certificate verifies against the CA given with --ca-file."""
    scenario = raw_tls_scenario(herd, nginx, installed)
    result, summary = herd.run_summary(scenario, "--ca-file", os.path.join(nginx.dir, "server.crt"), "--workers", "2")
    assert summary is not None, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert by_name["raw"]["requests"] == nginx.counts()[("GET", "/raw")] > 50


def test_raw_tls_refuses_a_certificate_it_cannot_verify(herd, nginx, installed):
    """Without --ca-file (or --insecure) nginx's self-signed certificate fails the
    handshake: the connects fail as exceptions, nothing reaches nginx."""
    result, summary = herd.run_summary(raw_tls_scenario(herd, nginx, installed), "--workers", "1", "--users", "1")
    assert summary is not None, result.stdout + result.stderr
    messages = {e["message"] for e in summary["errors"]}
    assert any("connect: TLS handshake or record failed" in m for m in messages), summary["errors"]
    assert nginx.counts()[("GET", "/raw")] == 0


def test_request_to_an_undeclared_origin_is_an_exception_naming_the_field(herd, nginx, installed):
    """Origins are resolved before the run: a request to one the class did not
    declare is not sent; it ends the iteration as an exception that says where
    to declare it, and the user goes on."""
    scenario = api_scenario(herd, installed, nginx.url, "Spread", head='params: {mirror: "http://127.0.0.1:9"}',
                            users=2, duration="1s")
    result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stdout + result.stderr
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert by_name["target"]["requests"] == nginx.counts()[("GET", "/")] > 20
    assert by_name["mirror"]["requests"] == 0
    errors = [(e["endpoint"], e["kind"], e["message"]) for e in summary["errors"]]
    assert errors == [("target", "exception",
                       'origin "http://127.0.0.1:9" is neither the target nor one of users[0].code.origins')], errors


def test_websocket_messages_equal_the_echo_servers_counts(herd, installed):
    """Chat (examples/compiled/api.cc): one socket per user from onStart to
    onStop, five echoed messages and a receive that times out per iteration.
    herd's connects, sends and clean closes equal the server's own counts;
    every send's echo is received and checked; each timeout is one failure."""
    echo = Echo()
    with WebSocketServer(echo) as server:
        scenario = api_scenario(herd, installed, server.url.replace("ws://", "http://"), "Chat", users=3,
                                duration="2s")
        result, summary = herd.run_summary(scenario)
    assert summary is not None, result.stdout + result.stderr
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    opened = by_key[("chat", "WS")]
    assert opened["requests"] == echo.connections == 3 and opened["failures"] == 0, (opened, echo.connections)
    sent = by_key[("chat", "SEND")]
    assert sent["requests"] == echo.text > 30 and sent["failures"] == 0, (sent, echo.text)
    reply = by_key[("reply", "RECEIVE")]
    # A stop waits for the receive in flight: every send's echo is counted.
    assert reply["requests"] == sent["requests"] and reply["failures"] == 0, reply
    # Each echo is the message as sent, '{"type": "hello", "user": N}' (users 0-2).
    assert reply["bytesReceived"] == len('{"type": "hello", "user": 0}') * reply["requests"]
    nothing = by_key[("nothing", "RECEIVE")]
    assert nothing["requests"] >= 3 and nothing["failures"] == nothing["requests"], nothing
    assert 80 <= nothing["latency"]["max"] < 1500
    closed = by_key[("chat", "CLOSE")]
    assert closed["requests"] == echo.closed_by_client == 3 and closed["failures"] == 0, (closed, echo.closed_by_client)
    kinds = {(e["endpoint"], e["kind"]) for e in summary["errors"]}
    assert kinds == {("nothing", "timeout")}, summary["errors"]


PUBSUB = """
name: compiled-pubsub
target: {target}
params: {{follow: "{follow}"}}
delivery: {{lostAfter: 1s}}
users:
  - name: proctor
    count: 2
    code: {{library: {library}, class: Proctor, origins: ["{{{{params.follow}}}}"]}}
  - name: learner
    count: 6
    code: {{library: {library}, class: Learner}}
load: {{users: 8, spawnRate: 1000, duration: 3s}}
"""


def pubsub_run(herd, installed, nchan, follow):
    """Learner and Proctor (examples/compiled/api.cc): 6 learners publish 20
    messages each to nchan; 2 proctors follow 3 learners each over a WebSocket
    to `follow`. The summary's one delivery stream."""
    library = os.path.join(os.path.dirname(installed["library"]), "api.so")
    text = PUBSUB.format(target=nchan.url, follow=follow, library=library)
    result, summary = herd.run_summary(herd.scenario(text), "--workers", "2")
    assert summary is not None, result.stdout + result.stderr
    assert len(summary["delivery"]) == 1, summary["delivery"]
    d = summary["delivery"][0]
    assert d["stream"] == "progress"
    return summary, d


def test_pubsub_delivery_from_cpp_classes_equals_what_nchan_accepted(herd, installed):
    with NchanServer() as nchan:
        summary, d = pubsub_run(herd, installed, nchan, nchan.url)
        accepted = published_by_nchan(nchan)
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    assert by_key[("publish", "POST")]["requests"] == accepted == 120, (by_key[("publish", "POST")], accepted)
    assert d["published"] == accepted
    assert d["delivered"] == accepted and d["lost"] == 0 and d["duplicates"] == 0, d
    assert 0 < d["latency"]["p50"] < 500
    assert by_key[("follow", "WS")]["requests"] == 2 and by_key[("follow", "WS")]["failures"] == 0


def test_pubsub_lost_and_duplicates_from_cpp_classes_equal_the_faults(herd, installed):
    """A relay between the proctors and nchan drops every message numbered 1
    mod 4 and repeats every one numbered 2 mod 4: exactly those are lost and
    duplicated."""
    with NchanServer() as nchan:
        relay = FaultyRelay(nchan.url.replace("http://", "ws://"))
        with WebSocketServer(relay) as proxy:
            summary, d = pubsub_run(herd, installed, nchan, proxy.url.replace("ws://", "http://"))
        accepted = published_by_nchan(nchan)
    assert accepted == 120
    faults = relay.faults
    assert faults.dropped == faults.repeated == 30, (faults.dropped, faults.repeated)
    assert d["published"] == accepted
    assert d["lost"] == faults.dropped and d["duplicates"] == faults.repeated, d
    assert d["delivered"] == accepted - faults.dropped, d
