"""TLS and mTLS between `herd coordinator` and `herd agent` on loopback: agents
that cannot prove what the coordinator demands are refused (and both sides say
why), and runs over TLS and over mTLS count what nginx counts. Certificates are
made at test time by tests/support/make_test_certs.sh."""
import os
import subprocess
import time

import pytest

from conftest import HERD, SOURCE_DIR
from nginx_server import free_port
from test_distributed import nginx_total, run  # noqa: F401 (run is a fixture)

MAKE_CERTS = os.path.join(SOURCE_DIR, "tests", "support", "make_test_certs.sh")


@pytest.fixture
def certs(tmp_path):
    directory = tmp_path / "certs"
    subprocess.run(["bash", MAKE_CERTS, str(directory)], check=True, capture_output=True)
    return directory


def refused(r, name, *args):
    """An agent the coordinator will not talk to: it gives up (exit 3); its log."""
    proc = r.start_agent(name, None, None, "--reconnect-timeout", "2s", *args)
    assert proc.wait(timeout=30) == 3, r.agent_log(name)
    del r.agents[name]
    log = r.agent_log(name)
    assert "giving up" in log, log
    return log


def handshake_refusals(r, at_least, timeout=10):
    """The coordinator's log lines about refused handshakes, once there are enough."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in r.coordinator_log().splitlines() if "refused a connection during the TLS handshake" in l]
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)



def test_tls_refuses_plaintext_and_untrusting_agents_and_conserves_totals(run, nginx, certs):
    r = run(duration="2s")
    r.start_coordinator("--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "server.key"), expect=2)
    assert "with TLS" in r.coordinator_log()

    plain = refused(r, "plain")
    assert "pass --tls-ca" in [l for l in plain.splitlines() if "giving up" in l][0], plain
    assert handshake_refusals(r, 1), r.coordinator_log()

    wrong_ca = refused(r, "wrong-ca", "--tls-ca", str(certs / "other-ca.crt"))
    giving_up = [l for l in wrong_ca.splitlines() if "giving up" in l][0]
    assert "certificate verify failed" in giving_up.lower(), wrong_ca
    # The certificate chains to the CA but does not name what the agent expects.
    wrong_name = refused(r, "wrong-name", "--tls-ca", str(certs / "ca.crt"), "--tls-server-name", "elsewhere.example")
    giving_up = [l for l in wrong_name.splitlines() if "giving up" in l][0]
    assert "Peer name elsewhere.example is not in peer certificate" in giving_up, wrong_name
    lines = handshake_refusals(r, 3)
    assert len(lines) >= 3, r.coordinator_log()
    assert "wrong version number" in lines[0], lines  # the plaintext agent
    assert any("the peer closed the connection" in l for l in lines[1:]), lines  # the agents that distrust it
    print("\n".join(lines))

    # Trusting the CA, the agents verify 127.0.0.1 against the certificate's IP name.
    for name in ("a1", "a2"):
        r.start_agent(name, None, None, "--tls-ca", str(certs / "ca.crt"))
    code, agents, summary = r.wait()
    assert code == 0, r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n) for n in agents]
    assert summary["totals"]["requests"] == nginx_total(nginx) > 0
    assert len(summary["distributed"]["agents"]) == 2


def test_mtls_refuses_an_agent_without_a_client_certificate_and_conserves_totals(run, nginx, certs):
    r = run(duration="2s")
    r.start_coordinator("--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "server.key"),
                        "--tls-client-ca", str(certs / "ca.crt"), expect=2)
    assert "with mTLS" in r.coordinator_log()

    anonymous = refused(r, "anonymous", "--tls-ca", str(certs / "ca.crt"))
    assert "pass --tls-cert and --tls-key" in [l for l in anonymous.splitlines() if "giving up" in l][0], anonymous
    lines = handshake_refusals(r, 1)
    assert lines, r.coordinator_log()
    assert "peer did not return a certificate" in lines[0], lines
    print("coordinator:", lines[0])
    print("agent:", [l for l in anonymous.splitlines() if "giving up" in l][0])

    for name in ("a1", "a2"):
        r.start_agent(name, None, None, "--tls-ca", str(certs / "ca.crt"),
                      "--tls-cert", str(certs / "client.crt"), "--tls-key", str(certs / "client.key"))
    code, agents, summary = r.wait()
    assert code == 0, r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n) for n in agents]
    assert summary["totals"]["requests"] == nginx_total(nginx) > 0


def test_half_configured_tls_is_invalid_input(tmp_path, certs):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\ntarget: http://127.0.0.1:9\nusers: [{name: u, steps: [{get: /}]}]\n"
                        "load: {users: 1, duration: 1s}\n")
    client_ca_alone = subprocess.run(
        [HERD, "coordinator", str(scenario), "--listen", "127.0.0.1:0", "--expect-agents", "1",
         "--tls-client-ca", str(certs / "ca.crt")], capture_output=True, text=True, timeout=30)
    assert client_ca_alone.returncode == 3 and "--tls-client-ca" in client_ca_alone.stderr, client_ca_alone.stderr
    cert_without_ca = subprocess.run(
        [HERD, "agent", "--coordinator", "127.0.0.1:9", "--tls-cert", str(certs / "client.crt"),
         "--tls-key", str(certs / "client.key")], capture_output=True, text=True, timeout=30)
    assert cert_without_ca.returncode == 3 and "--tls-ca" in cert_without_ca.stderr, cert_without_ca.stderr


def test_restarted_tls_coordinator_adopts_the_running_agents(run, nginx, certs):
    """The agents redial a coordinator that died mid-run and complete a new TLS
    handshake with its successor (same certificate, run id and token)."""
    r = run(duration="8s")
    port = free_port()
    tls = ("--listen", f"127.0.0.1:{port}", "--run-id", "adopt-tls", "--tls-cert", str(certs / "server.crt"),
           "--tls-key", str(certs / "server.key"))
    r.coordinator = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *tls, "--expect-agents", "2", "--token-file", str(r.token)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=r.tmp)
    assert "listening on port" in r.coordinator.stdout.readline()
    r.port = port
    for name in ("a1", "a2"):
        r.start_agent(name, None, None, "--tls-ca", str(certs / "ca.crt"))
    deadline = time.monotonic() + 20
    while nginx_total(nginx) == 0 and time.monotonic() < deadline:  # the run is under way
        time.sleep(0.05)
    assert nginx_total(nginx) > 0
    r.coordinator.kill()
    r.coordinator.wait()
    r.coordinator = subprocess.Popen(
        [HERD, "coordinator", str(r.scenario), *tls, "--expect-agents", "2", "--token-file", str(r.token),
         "--summary-json", str(r.summary)],
        stdout=subprocess.PIPE, stderr=open(r.tmp / "coordinator.err", "w"), text=True, cwd=r.tmp)
    code, agents, summary = r.wait()
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n)[-2000:] for n in agents]
    assert len([e for e in summary["events"] if e["message"].startswith("adopted agent")]) == 2, summary["events"]
    assert summary["totals"]["requests"] == nginx_total(nginx)
