"""Pub/sub delivery tracking against nginx with nchan, checked against ground
truth the test computes itself: what nchan accepted (its access log) and what a
fault-injecting proxy between the subscribers and nchan dropped or repeated."""
import asyncio
import http.client
import os
import re
import sys
import threading
import time

import pytest

from conftest import SOURCE_DIR
from local_http import LocalHttpServer

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "nchan"))
from nchan_server import NchanServer  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "websocket"))
import websockets  # noqa: E402
from websocket_server import WebSocketServer  # noqa: E402

MARKER = re.compile(r"~herd:(\d+):(\d+):(\d+)~")


class Faults:
    """The fault plan of the proxies below, one per transport: of the messages
    carrying herd's delivery marker, those whose number is 1 mod 4 are dropped
    and those whose number is 2 mod 4 are sent twice, counting both."""

    def __init__(self):
        self.lock = threading.Lock()
        self.dropped = 0
        self.repeated = 0

    def copies(self, text):
        """How many times to pass on the message `text` (0, 1 or 2)."""
        match = MARKER.search(text)
        if not match:
            return 1
        seq = int(match.group(2))
        with self.lock:
            if seq % 4 == 1:
                self.dropped += 1
                return 0
            if seq % 4 == 2:
                self.repeated += 1
                return 2
        return 1


def assert_faults_counted_exactly(summary, published, faults):
    """Every message nchan accepted was published by herd; exactly the dropped
    ones are lost and exactly the repeated ones are duplicates."""
    d = delivery(summary)
    assert faults.dropped > 5 and faults.repeated > 5
    assert d["published"] == published
    assert d["lost"] == faults.dropped
    assert d["duplicates"] == faults.repeated
    assert d["delivered"] == published - faults.dropped

SCENARIO = """
name: pubsub
target: {url}
delivery: {{lostAfter: {lost_after}}}
stop: {{drain: {drain}}}
users:
  - name: proctor
    count: 2
    steps:
      - subscribe:
          url: {sub_url}
          stream: progress
          mode: {mode}
          cohort: {{size: 3, topic: "learner-{{{{member}}}}"}}
          timeout: 60s
  - name: learner
    count: 6
    onStart: [{{think: 300ms}}]
    steps:
      - publish:
          url: /pub/learner-{{{{user.classIndex}}}}
          stream: progress
          topic: learner-{{{{user.classIndex}}}}
          body: '{{"progress": {{{{random(1, 100)}}}}}}'
      - think: {think}
load: {{users: 8, spawnRate: 1000, duration: 2s}}
thresholds:
  - "delivery.lost count == 0"
  - "delivery.duplicates count == 0"
"""


@pytest.fixture
def nchan():
    with NchanServer() as server:
        yield server


def published_by_nchan(nchan):
    counts = nchan.counts(key=lambda fields: (fields[0], fields[1], fields[2]))
    return sum(n for (method, uri, status), n in counts.items()
               if method == "POST" and uri.startswith("/pub/") and status in ("201", "202"))


def delivery(summary):
    assert len(summary["delivery"]) == 1, summary["delivery"]
    return summary["delivery"][0]


def assert_progress_delivered_once(summary, published):
    """The `progress` stream: every message nchan accepted was published by herd,
    delivered once, none lost, with a plausible loopback latency, and no request failed."""
    d = delivery(summary)
    assert d["stream"] == "progress"
    assert d["published"] == published
    assert d["delivered"] == published
    assert d["duplicates"] == 0 and d["lost"] == 0
    assert 0 < d["latency"]["p50"] < 500
    assert summary["totals"]["failures"] == 0, summary["errors"]


@pytest.mark.parametrize("mode,path", [("longpoll", "/lp"), ("stream", "/stream"), ("sse", "/sse")])
def test_no_faults_everything_delivered_once(herd, nchan, mode, path):
    scenario = herd.scenario(SCENARIO.format(url=nchan.url, sub_url=path + "/{{topics}}", mode=mode,
                                             lost_after="1s", drain="1500ms", think="50ms"))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    published = published_by_nchan(nchan)
    assert published > 100
    # Each learner's topic is followed by exactly one proctor (cohorts of 3).
    assert_progress_delivered_once(summary, published)
    assert result.returncode == 0, result.stdout


def queued_in_nchan(nchan, topics):
    """Messages nchan holds per channel (its channel info), summed: what it
    accepted when they were published over WebSockets, which its access log
    shows as one request per socket."""
    total = 0
    for topic in topics:
        connection = http.client.HTTPConnection("127.0.0.1", nchan.port, timeout=10)
        connection.request("GET", "/pub/" + topic, headers={"Accept": "text/plain"})
        text = connection.getresponse().read().decode()
        connection.close()
        total += int(re.search(r"queued messages: (\d+)", text).group(1))
    return total


def websocket_publishers(text):
    """The scenario with its publishes sent over a WebSocket each learner keeps open."""
    return text.replace("      - publish:\n", "      - publish:\n          mode: websocket\n")


def test_websocket_publish_and_subscribe_deliver_everything_once(herd, nchan):
    scenario = herd.scenario(websocket_publishers(SCENARIO.format(
        url=nchan.url, sub_url="/ws/{{topics}}", mode="websocket", lost_after="1s", drain="1500ms", think="50ms")))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    published = queued_in_nchan(nchan, [f"learner-{i}" for i in range(6)])
    assert published > 100
    assert_progress_delivered_once(summary, published)
    assert result.returncode == 0, result.stdout
    # One socket per learner and per proctor, kept for the whole run (nginx logs
    # a socket when it ends: 499, the client hung up at the stop; the 200s are
    # the channel-info requests above).
    counts = nchan.counts(key=lambda fields: (fields[0], fields[1].split("/")[1], fields[2]))
    assert counts == {("GET", "pub", "499"): 6, ("GET", "ws", "499"): 2, ("GET", "pub", "200"): 6}, counts


class FaultyRelay:
    """WebSocket relay: each client to `upstream` + the client's path, the
    messages coming back passed on as `faults` says."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.faults = Faults()

    async def __call__(self, websocket, path):
        async with websockets.connect(self.upstream + path) as upstream:
            # Relays until the client leaves (the upstream never ends by itself).
            pump = asyncio.ensure_future(self.pump(upstream, websocket))
            try:
                await websocket.wait_closed()
            finally:
                pump.cancel()

    async def pump(self, upstream, websocket):
        try:
            async for message in upstream:
                text = message if isinstance(message, str) else message.decode(errors="replace")
                for _ in range(self.faults.copies(text)):
                    await websocket.send(message)
        except websockets.ConnectionClosed:
            pass


def test_websocket_dropped_and_repeated_messages_are_counted_exactly(herd, nchan):
    relay = FaultyRelay(nchan.url.replace("http://", "ws://"))
    with WebSocketServer(relay) as proxy:
        text = websocket_publishers(SCENARIO.format(
            url=nchan.url, sub_url=proxy.url + "/ws/{{topics}}", mode="websocket", lost_after="1s", drain="1500ms",
            think="50ms"))
        result, summary = herd.run_summary(herd.scenario(text), "--workers", "2")
    assert summary is not None, result.stderr
    assert_faults_counted_exactly(summary, queued_in_nchan(nchan, [f"learner-{i}" for i in range(6)]), relay.faults)
    assert result.returncode == 1


class FaultyProxy(LocalHttpServer):
    """Long-poll proxy to nchan that applies `faults` to each message of a
    response: a dropped one is blanked (the subscriber never sees it, but its
    position moves past it), a repeated one makes the body come twice."""

    def __init__(self, upstream_port):
        super().__init__()
        self.upstream_port = upstream_port
        self.faults = Faults()

    def on_get(self, request):
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("if-modified-since", "if-none-match")}
        connection.request("GET", request.path, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        if response.status == 200:
            text = self.inject(text)
        position = [(name, response.getheader(name)) for name in ("Last-Modified", "Etag") if response.getheader(name)]
        request.reply(response.status, text.encode(), position)

    def inject(self, text):
        for match in MARKER.finditer(text):
            copies = self.faults.copies(match.group(0))
            if copies == 0:
                text = text.replace(match.group(0), "~dropped~")
            elif copies == 2:
                text = text + text
        return text


def test_dropped_and_repeated_messages_are_counted_exactly(herd, nchan):
    with FaultyProxy(nchan.port) as proxy:
        # The proxy is slow (a new upstream connection per poll): fewer messages and
        # a longer lostAfter, so that only its drops are lost, not late messages.
        scenario = herd.scenario(SCENARIO.format(url=nchan.url, sub_url=proxy.url + "/lp/{{topics}}",
                                                 mode="longpoll", lost_after="3s", drain="3500ms", think="150ms"))
        result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    assert_faults_counted_exactly(summary, published_by_nchan(nchan), proxy.faults)
    # The thresholds saw it too: the run failed.
    assert result.returncode == 1
    assert [t["passed"] for t in summary["thresholds"]] == [False, False]


class FaultyEventStreamProxy(LocalHttpServer):
    """Event-stream proxy to nchan that passes each event on as `faults` says.
    It streams until the subscriber or nchan hangs up."""

    def __init__(self, upstream_port):
        super().__init__()
        self.upstream_port = upstream_port
        self.faults = Faults()
        self.last_event_ids = []

    def on_get(self, request):
        with self.lock:
            self.last_event_ids.append(request.headers.get("Last-Event-ID"))
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("accept", "last-event-id")}
        connection.request("GET", request.path, headers=headers)
        response = connection.getresponse()
        request.send_response(response.status)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True
        event = b""
        try:
            while True:
                line = response.readline()
                if not line:
                    return
                event += line
                if line.strip():
                    continue
                request.wfile.write(event * self.faults.copies(event.decode()))
                request.wfile.flush()
                event = b""
        except OSError:
            return  # the subscriber hung up (the run's drain ended)
        finally:
            connection.close()


def test_event_stream_dropped_and_repeated_events_are_counted_exactly(herd, nchan):
    with FaultyEventStreamProxy(nchan.port) as proxy:
        scenario = herd.scenario(SCENARIO.format(url=nchan.url, sub_url=proxy.url + "/sse/{{topics}}",
                                                 mode="sse", lost_after="1s", drain="1500ms", think="50ms"))
        result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    assert_faults_counted_exactly(summary, published_by_nchan(nchan), proxy.faults)
    # One event stream per proctor, never reconnected within the run.
    assert proxy.last_event_ids == [None, None]
    assert result.returncode == 1


def test_without_drain_subscribers_stop_at_once(herd, nchan):
    """A stream subscriber with a 60 s timeout must not hold the stop: with no
    drain its request is dropped when the test ends (and not counted as failed)."""
    text = SCENARIO.format(url=nchan.url, sub_url="/stream/{{topics}}", mode="stream",
                           lost_after="1s", drain="0s", think="100ms")
    scenario = herd.scenario(text)
    started = time.monotonic()
    result, summary = herd.run_summary(scenario, "--workers", "2", timeout=60)
    elapsed = time.monotonic() - started
    assert summary is not None, result.stderr
    assert elapsed < 2.0 + 1.5, elapsed
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert delivery(summary)["published"] > 0


class ClosingEventStream(LocalHttpServer):
    """An event stream that asks for `retry: 300`, sends two events and hangs
    up, every time; it notes each request's Last-Event-ID and arrival time."""

    def __init__(self):
        super().__init__()
        self.requests = []  # (monotonic arrival, Last-Event-ID)
        self.closed_at = []

    def on_get(self, request):
        with self.lock:
            self.requests.append((time.monotonic(), request.headers.get("Last-Event-ID"),
                                  request.headers.get("Accept")))
            n = len(self.requests)
        body = f"retry: 300\nid: {n}-a\ndata: one\n\nid: {n}-b\ndata: two\n\n".encode()
        request.reply(200, body, [("Content-Type", "text/event-stream"), ("Connection", "close")])
        with self.lock:
            self.closed_at.append(time.monotonic())


def test_event_stream_reconnects_with_last_event_id_after_the_retry_time(herd):
    with ClosingEventStream() as server:
        scenario = herd.scenario(f"""
name: sse-reconnect
target: {server.url}
users:
  - name: follower
    count: 1
    steps:
      - subscribe: {{url: /events, stream: s, topics: [t], mode: sse, timeout: 10s}}
load: {{users: 1, duration: 1500ms}}
""")
        result, summary = herd.run_summary(scenario)
    assert summary is not None, result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    requests = server.requests
    # 1.5 s with a 300 ms retry: between 3 and 6 connections, never faster.
    assert 3 <= len(requests) <= 6, requests
    assert requests[0][1] is None
    for n in range(1, len(requests)):
        assert requests[n][1] == f"{n}-b"
        assert requests[n][2] == "text/event-stream"
        assert requests[n][0] - server.closed_at[n - 1] >= 0.29
