"""WebSocket conversations against a real echo server on loopback (Debian's
python3-websockets): herd's per-endpoint counts equal the server's, checks and
captures read the received messages, and a failed check is counted as one."""
import os
import ssl
import subprocess
import sys
import textwrap

from conftest import SOURCE_DIR
from local_http import LocalHttpServer

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "websocket"))
from websocket_server import Echo, WebSocketServer  # noqa: E402


ONE_SOCKET = """
name: {name}
target: {target}
users:
  - name: chatter
    count: 1
    steps:
      - websocket:
{socket}
      - stopUser: true
load: {{users: 1, duration: 1s}}
"""


def one_socket(name, server, socket):
    """A scenario whose one user opens one socket on `server` (the websocket
    step's body in `socket`) and stops."""
    target = server.url.replace("ws://", "http://").replace("wss://", "https://")
    body = textwrap.indent(textwrap.dedent(socket).strip("\n"), " " * 10)
    return ONE_SOCKET.format(name=name, target=target, socket=body)

SCENARIO = """
name: chat
target: {http}
users:
  - name: chatter
    count: 3
    steps:
      # Four whole conversations each, then the user ends: none is cut by the
      # run's stop (which drops a socket between steps).
      - loop:
          count: 4
          steps:
            - websocket:
                url: {url}/chat?user={{{{user.index}}}}
                name: chat
                timeout: 2s
                steps:
                  - loop:
                      count: 5
                      steps:
                        - send: '{{"type": "hello", "user": {{{{user.index}}}}}}'
                        - receive:
                            name: hello reply
                            timeout: 2s
                            check: {{jsonPath: {{"$.type": hello, "$.user": "{{{{user.index}}}}"}}}}
                            capture: {{who: {{jsonPath: $.user}}}}
                  - send: {{binary: "bytes-{{{{who}}}}", name: bytes}}
                  - receive: {{name: bytes reply, check: {{bodyContains: "bytes-{{{{user.index}}}}"}}}}
                  - ping: true
                  - send: '{{"type": "wrong"}}'
                  - receive: {{name: wrong reply, check: {{jsonPath: {{"$.type": right}}}}}}
            - think: 50ms
      - stopUser: true
load: {{users: 3, duration: 3s}}
"""


def test_conversation_counts_checks_and_captures(herd):
    echo = Echo()
    with WebSocketServer(echo) as server:
        result, summary = herd.run_summary(herd.scenario(SCENARIO.format(url=server.url, http=server.url.replace("ws://", "http://"))))
    assert summary is not None, result.stderr
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    sockets = by_key[("chat", "WS")]["requests"]
    assert sockets == echo.connections == 12
    assert by_key[("chat", "WS")]["failures"] == 0
    # Every socket ran its steps whole: 6 text messages and 1 binary each.
    assert echo.text == 6 * sockets and echo.binary == sockets
    assert by_key[("chat", "SEND")]["requests"] == 6 * sockets
    assert by_key[("bytes", "SEND")]["requests"] == sockets
    hello = by_key[("hello reply", "RECEIVE")]
    assert hello["requests"] == 5 * sockets and hello["failures"] == 0
    # The capture fed the binary message, whose echo the check then found.
    assert by_key[("bytes reply", "RECEIVE")]["failures"] == 0
    assert by_key[("chat", "PING")]["requests"] == sockets and by_key[("chat", "PING")]["failures"] == 0
    wrong = by_key[("wrong reply", "RECEIVE")]
    assert wrong["requests"] == sockets and wrong["failures"] == sockets
    # The implicit close at the end of the steps is a clean close handshake.
    assert by_key[("chat", "CLOSE")]["requests"] == sockets and by_key[("chat", "CLOSE")]["failures"] == 0
    assert echo.closed_by_client == sockets
    # Bytes: each echo is the message as sent, '{"type": "hello", "user": N}' (users 0-2).
    assert hello["bytesReceived"] == len('{"type": "hello", "user": 0}') * 5 * sockets


def test_receive_timeout_and_server_close_are_failures(herd):
    echo = Echo()
    with WebSocketServer(echo) as server:
        text = one_socket("chat-failures", server, """
            url: /chat
            steps:
              - receive: {name: nothing, timeout: 200ms}
              - send: close
              - receive: {name: after close, timeout: 2s}
            """)
        result, summary = herd.run_summary(herd.scenario(text))
    assert summary is not None, result.stderr
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    nothing = by_key[("nothing", "RECEIVE")]
    assert nothing["requests"] == 1 and nothing["failures"] == 1
    assert 150 <= nothing["latency"]["max"] < 1500
    after = by_key[("after close", "RECEIVE")]
    assert after["requests"] == 1 and after["failures"] == 1
    kinds = {(e["endpoint"], e["kind"]) for e in summary["errors"]}
    assert ("nothing", "timeout") in kinds and ("after close", "reset") in kinds, summary["errors"]


def test_wss_verifies_the_server_and_talks_over_tls(herd, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    echo = Echo()
    with WebSocketServer(echo, context) as server:
        text = one_socket("chat-tls", server, f"""
            url: {server.url}/chat
            name: chat
            steps:
              - send: hello
              - receive: {{check: {{bodyContains: hello}}}}
            """)
        scenario = herd.scenario(text)
        trusted, summary = herd.run_summary(scenario, "--ca-file", str(cert))
        untrusted, untrusted_summary = herd.run_summary(scenario)
    assert summary is not None, trusted.stderr
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    assert by_key[("chat", "WS")]["requests"] == 1 and summary["totals"]["failures"] == 0, summary["errors"]
    assert by_key[("chat", "RECEIVE")]["requests"] == 1
    # Without the CA the handshake fails verification: a tls failure, no message sent.
    assert [(e["endpoint"], e["kind"]) for e in untrusted_summary["errors"]][:1] == [("chat", "tls")]
    assert echo.text == 1


def test_server_pings_are_answered(herd):
    echo = Echo()
    with WebSocketServer(echo) as server:
        text = one_socket("chat-pings", server, """
            url: /chat
            steps:
              - loop:
                  count: 3
                  steps:
                    - send: ping me
                    - receive: {name: pong, timeout: 3s, check: {bodyContains: "pong"}}
            """)
        result, summary = herd.run_summary(herd.scenario(text))
    assert summary is not None, result.stderr
    assert echo.pongs == 3
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    assert by_key[("pong", "RECEIVE")]["requests"] == 3 and summary["totals"]["failures"] == 0, summary["errors"]


class WrongAccept(LocalHttpServer):
    """Answers every upgrade with 101 and a Sec-WebSocket-Accept for another key."""

    def on_get(self, request):
        request.send_response(101)
        request.send_header("Upgrade", "websocket")
        request.send_header("Connection", "Upgrade")
        request.send_header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        request.end_headers()
        request.close_connection = True


def test_a_wrong_accept_fails_the_handshake(herd):
    with WrongAccept() as server:
        text = one_socket("chat-accept", server, "{url: /chat, name: chat, steps: [{send: hello}]}")
        result, summary = herd.run_summary(herd.scenario(text))
    assert summary is not None, result.stderr
    assert [(e["endpoint"], e["kind"]) for e in summary["errors"]] == [("chat", "protocol")]
    # The socket's steps are skipped: nothing is sent on a socket that never opened.
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    assert by_key[("chat", "WS")]["requests"] == 1 and by_key[("chat", "SEND")]["requests"] == 0


def test_distributed_conversation_through_a_coordinator_and_two_agents(tmp_path):
    """The same conversation split over two agents: the coordinator's totals
    equal what the echo server counted."""
    from test_distributed import Run
    echo = Echo()
    with WebSocketServer(echo) as server:
        text = (SCENARIO.replace("    count: 3\n", "").replace("users: 3,", "users: 4, spawnRate: 100,")
                .format(url=server.url, http=server.url.replace("ws://", "http://")))
        r = Run(tmp_path, None, text=text)
        code, agents, summary = r.run_agents()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n) for n in agents]
    by_key = {(e["name"], e["method"]): e for e in summary["endpoints"]}
    assert len(summary["distributed"]["agents"]) == 2
    assert by_key[("chat", "WS")]["requests"] == echo.connections >= 4
    sent_text = by_key[("chat", "SEND")]["requests"]
    assert sent_text == echo.text and by_key[("bytes", "SEND")]["requests"] == echo.binary
    assert by_key[("hello reply", "RECEIVE")]["failures"] == 0
