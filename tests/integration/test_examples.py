"""Every example in examples/ runs against the test nginx, briefly, with its
counts conserved against nginx's own log."""
import os
import sys

import pytest

from conftest import SOURCE_DIR


def example(name):
    return os.path.join(SOURCE_DIR, "examples", name)


def run_example(herd, nginx, name, *args):
    result, summary = herd.run_summary(example(name), "--target", nginx.url, "--workers", "2", *args)
    assert summary is not None, result.stderr
    counts = nginx.counts()
    assert summary["totals"]["requests"] == sum(counts.values())
    return result, summary, counts


def test_website(herd, nginx):
    result, summary, counts = run_example(herd, nginx, "website.yaml", "--users", "6", "--duration", "2s",
                                          "-p", "thinkMin=10ms", "-p", "thinkMax=30ms")
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert by_name["login"]["requests"] == 6 and by_name["login form"]["requests"] == 6
    assert counts[("POST", "/logout")] == 6
    # The weighted pages: 6:3:1.
    home, products, report = (by_name[n]["requests"] for n in ("/", "/products?page=[n]", "/report"))
    assert home > products > report > 0
    # Every report page loaded its frame and both assets, and every home page was
    # followed by a session check, except where the end of the run came between
    # the two: the stop lets requests in flight finish but starts no new ones, so
    # each of the 6 users may have cut one such pair short.
    users = 6
    for path in ("/report/frame", "/static/app.css", "/static/app.js"):
        assert report - users <= counts[("GET", path)] <= report, path
    # The session cookie from the login came back on every session check (a
    # failed check would be a failure, and there are none).
    assert home - users <= by_name["session"]["requests"] <= home


@pytest.mark.parametrize("chance,logins", [("1", 8), ("0", 0), ("50%", None)])
def test_web_mobile_auth_chance(herd, nginx, chance, logins):
    result, summary, counts = run_example(herd, nginx, "web-mobile.yaml", "--users", "8", "--duration", "1s",
                                          "-p", f"authChance={chance}", "-p", "think=20ms")
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    made = counts.get(("POST", "/api/login"), 0)
    if logins is not None:
        assert made == logins
    assert counts[("GET", "/m/feed")] > 0 and counts[("GET", "/")] > 0
    # Only users with a session ask for their account; the others see offers.
    assert (counts.get(("GET", "/api/me"), 0) > 0) == (made > 0)
    if logins is not None:
        assert (counts.get(("GET", "/offers"), 0) > 0) == (logins == 0)


def test_http2(herd):
    """The HTTP/2 example against nginx speaking h2c: every request over HTTP/2.0."""
    from nginx_server import HTTP2_DEFAULTS, HTTP2_TEMPLATE, NginxServer
    with NginxServer(template=HTTP2_TEMPLATE, extra=HTTP2_DEFAULTS) as nginx:
        result, summary, counts = run_example(herd, nginx, "http2.yaml", "--users", "8", "--duration", "1s",
                                              "-p", "think=10ms")
        protocols = {fields[4] for fields in nginx.access_log()}
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert protocols == {"HTTP/2.0"}
    assert {e["protocol"] for e in summary["endpoints"]} == {"HTTP/2"}
    assert counts[("GET", "/")] == next(e["requests"] for e in summary["endpoints"] if e["name"] == "home") > 0


def test_classroom_on_nchan(herd):
    """40 learners and their proctor: every progress message reaches the proctor,
    every notice reaches all 40 learners, nothing twice, nothing lost."""
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "nchan"))
    from nchan_server import NchanServer
    with NchanServer() as nchan:
        result, summary = herd.run_summary(example("classroom.yaml"), "--target", nchan.url, "--workers", "2",
                                           "--duration", "3s", "-p", "progressEvery=200ms",
                                           "-p", "noticeEvery=500ms")
        counts = nchan.counts(key=lambda fields: (fields[0], fields[1].split("-")[0], fields[2]))
    assert summary is not None, result.stderr
    assert result.returncode == 0, result.stdout
    streams = {d["stream"]: d for d in summary["delivery"]}
    progress, control = streams["progress"], streams["control"]
    accepted = lambda prefix: sum(n for (m, uri, status), n in counts.items()
                                  if m == "POST" and uri == prefix and status in ("201", "202"))
    assert progress["published"] == accepted("/pub/progress") > 200
    assert control["published"] == accepted("/pub/control") >= 3
    assert progress["delivered"] == progress["published"]
    assert control["delivered"] == 40 * control["published"]
    for d in (progress, control):
        assert d["lost"] == 0 and d["duplicates"] == 0


def test_chat_on_an_echo_server(herd):
    """The WebSocket conversation: the server got every message herd counted as
    sent, each answer was received and every check held (the stop may end a
    socket between its steps, never inside an exchange)."""
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "websocket"))
    from websocket_server import Echo, WebSocketServer
    echo = Echo()
    with WebSocketServer(echo) as server:
        result, summary = herd.run_summary(example("chat.yaml"), "--target", server.url.replace("ws://", "http://"),
                                           "--users", "4", "--duration", "2s")
    assert summary is not None, result.stderr
    assert result.returncode == 0, result.stdout
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    sockets = by_key[("chat", "WS")]["requests"]
    assert sockets == echo.connections >= 4
    sent = by_key[("chat", "SEND")]["requests"]
    assert echo.text == sent >= 3 * 4
    assert echo.binary == by_key[("frame", "SEND")]["requests"] >= 4
    assert by_key[("hello reply", "RECEIVE")]["requests"] == sent
    assert summary["totals"]["failures"] == 0, summary["errors"]


def test_grpc_on_the_catalog_server(herd):
    """The shop's catalog over gRPC, against the test server for its .proto:
    herd's calls per method equal the server's, and every check holds."""
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "grpc"))
    from grpc_server import CatalogServer
    with CatalogServer() as server:
        result, summary = herd.run_summary(example("grpc.yaml"), "--target", server.url, "--users", "4",
                                           "--duration", "2s", "-p", "think=20ms")
    assert summary is not None, result.stderr
    assert result.returncode == 0, result.stdout
    by_name = {e["name"]: e for e in summary["endpoints"]}
    for method in ("/shop.Catalog/GetItem", "/shop.Catalog/ListItems"):
        assert by_name[method]["requests"] == server.catalog.calls[method] >= 4
    assert server.catalog.tenants["example"] == by_name["/shop.Catalog/GetItem"]["requests"]
    assert summary["totals"]["failures"] == 0, summary["errors"]


def test_classroom_realtime_on_nchan(herd):
    """The classroom over a WebSocket and Server-Sent Events: delivered equals
    what nchan accepted times the subscribers each message is owed to."""
    import http.client
    import re
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "nchan"))
    from nchan_server import NchanServer
    with NchanServer() as nchan:
        result, summary = herd.run_summary(example("classroom-realtime.yaml"), "--target", nchan.url,
                                           "--workers", "2", "--duration", "3s", "-p", "progressEvery=200ms",
                                           "-p", "noticeEvery=500ms")
        counts = nchan.counts(key=lambda fields: (fields[0], fields[1], fields[2]))
        queued = 0
        for learner in range(40):  # WebSocket publishes: nchan's own count per channel
            connection = http.client.HTTPConnection("127.0.0.1", nchan.port, timeout=10)
            connection.request("GET", f"/pub/progress-{learner}", headers={"Accept": "text/plain"})
            text = connection.getresponse().read().decode()
            connection.close()
            queued += int(re.search(r"queued messages: (\d+)", text).group(1))
    assert summary is not None, result.stderr
    assert result.returncode == 0, result.stdout
    streams = {d["stream"]: d for d in summary["delivery"]}
    progress, control = streams["progress"], streams["control"]
    notices = sum(n for (m, uri, status), n in counts.items() if m == "POST" and uri == "/pub/control"
                  and status in ("201", "202"))
    assert progress["published"] == queued > 200
    assert control["published"] == notices >= 3
    assert progress["delivered"] == progress["published"]
    assert control["delivered"] == 40 * control["published"]
    for d in (progress, control):
        assert d["lost"] == 0 and d["duplicates"] == 0
