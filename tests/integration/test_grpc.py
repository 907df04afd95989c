"""gRPC calls against a real gRPC server on loopback (Debian's python3-grpcio,
tests/fixtures/grpc/grpc_server.py, serving examples/protos/shop/catalog.proto):
herd's counts per method equal the server's, unary and server-streaming, over
h2c and TLS; a deliberate NOT_FOUND is counted as failures under its code; a
deadline shorter than the server's delay is DEADLINE_EXCEEDED; a descriptor
set works as the .proto files do; and a run through `herd coordinator` with
two agents counts the same."""
import os
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "fixtures", "grpc"))
from grpc_server import PROTOS, CatalogServer  # noqa: E402

SCHEMA = f"grpc: {{protos: [{PROTOS}/shop/catalog.proto], importPaths: [{PROTOS}]}}"

SCENARIO = """
name: catalog
target: {url}
{schema}
users:
  - name: shopper
    steps:
      - grpc:
          call: shop.Catalog/GetItem
          message: {{id: 7}}
          metadata: {{x-tenant: acme}}
          check: {{jsonPath: {{$.name: item-7, $.price.cents: "700", "$.tags[0]": new}}}}
          capture: {{cents: {{jsonPath: $.price.cents}}}}
      - grpc:
          call: /shop.Catalog/GetItem
          name: by user
          message: {{id: "{{{{cents}}}}{{{{user.index}}}}"}}
          check: {{jsonPath: {{$.name: "item-{{{{cents}}}}{{{{user.index}}}}"}}}}
      - grpc:
          call: shop.Catalog/ListItems
          message: {{category: books, count: 3}}
          check: {{jsonPath: {{"$[0].name": books-1, "$[2].id": "3"}}}}
      - grpc: {{call: shop.Catalog/GetItem, name: missing, message: {{id: 0}}}}
      - think: 10ms
load: {{users: 4, spawnRate: 1000, duration: {duration}}}
"""

GET = "/shop.Catalog/GetItem"
LIST = "/shop.Catalog/ListItems"


def endpoints(summary):
    return {e["name"]: e for e in summary["endpoints"]}


def errors(summary):
    return {(e["endpoint"], e["kind"], e["message"]): e["count"] for e in summary["errors"]}


def certs(tmp_path):
    folder = tmp_path / "certs"
    subprocess.run(["bash", os.path.join(SOURCE_DIR, "tests", "support", "make_test_certs.sh"), str(folder)],
                   check=True)
    return folder


@pytest.mark.parametrize("tls", [False, True], ids=["h2c", "tls"])
def test_counts_equal_the_servers_per_method(herd, tmp_path, tls):
    folder = certs(tmp_path) if tls else None
    args = ["--ca-file", str(folder / "ca.crt")] if tls else []
    with CatalogServer(tls_dir=folder) as server:
        scenario = herd.scenario(SCENARIO.format(url=server.url, schema=SCHEMA, duration="2s"))
        result, summary = herd.run_summary(scenario, "--workers", "1", *args)
    catalog = server.catalog
    assert summary is not None, result.stderr
    by_name = endpoints(summary)
    unary, templated, stream, missing = (by_name[n] for n in (GET, "by user", LIST, "missing"))
    assert unary["requests"] > 10
    assert unary["requests"] + templated["requests"] + missing["requests"] == catalog.calls[GET]
    assert stream["requests"] == catalog.calls[LIST]
    assert {e["method"] for e in summary["endpoints"]} == {"GRPC"}
    assert {e["protocol"] for e in summary["endpoints"]} == {"HTTP/2"}
    # Checks held (messages converted both ways, the capture fed the next call)...
    assert unary["failures"] == templated["failures"] == stream["failures"] == 0, summary["errors"]
    # ...metadata arrived, and NOT_FOUND is a failure named by its code.
    assert catalog.tenants["acme"] == unary["requests"]
    assert missing["failures"] == missing["requests"] == catalog.statuses[(GET, "NOT_FOUND")] > 0
    assert errors(summary) == {("missing", "grpc", "grpc NOT_FOUND"): missing["requests"]}
    assert result.returncode == 0, result.stdout + result.stderr


def test_tls_without_the_ca_is_a_tls_failure(herd, tmp_path):
    with CatalogServer(tls_dir=certs(tmp_path)) as server:
        scenario = herd.scenario(SCENARIO.format(url=server.url, schema=SCHEMA, duration="1s"))
        result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stderr
    assert sum(server.catalog.calls.values()) == 0
    assert {e["kind"] for e in summary["errors"]} == {"tls"}


def test_a_deadline_shorter_than_the_servers_delay_is_deadline_exceeded(herd):
    with CatalogServer() as server:
        scenario = herd.scenario(f"""
name: deadline
target: {server.url}
{SCHEMA}
users:
  - name: impatient
    steps:
      - grpc: {{call: shop.Catalog/GetItem, name: slow, message: {{id: 1, delay_ms: 400}}, timeout: 100ms}}
      - grpc: {{call: shop.Catalog/GetItem, name: quick, message: {{id: 1, delayMs: 10}}, timeout: 2s}}
load: {{users: 2, spawnRate: 100, duration: 1s}}
""")
        result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stderr
    slow, quick = endpoints(summary)["slow"], endpoints(summary)["quick"]
    assert slow["failures"] == slow["requests"] > 0
    assert quick["failures"] == 0
    assert errors(summary) == {("slow", "grpc", "grpc DEADLINE_EXCEEDED"): slow["requests"]}
    # herd gave up on time: no slow call took the server's 400 ms.
    assert slow["latency"]["max"] < 300
    assert slow["requests"] + quick["requests"] == server.catalog.calls[GET]


def test_a_rendered_message_that_does_not_convert_fails_unsent(herd):
    with CatalogServer() as server:
        scenario = herd.scenario(f"""
name: invalid-argument
target: {server.url}
{SCHEMA}
users:
  - name: typo
    steps:
      - grpc: {{call: shop.Catalog/GetItem, name: bad id, message: {{id: "x{{{{user.index}}}}"}}}}
      - grpc: {{call: shop.Catalog/GetItem, name: good id, message: {{id: "1{{{{user.index}}}}"}}}}
      - think: 20ms
load: {{users: 2, spawnRate: 100, duration: 1s}}
""")
        result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stderr
    bad, good = endpoints(summary)["bad id"], endpoints(summary)["good id"]
    assert bad["failures"] == bad["requests"] > 0 and bad["bytesReceived"] == 0
    assert errors(summary) == {("bad id", "grpc", "grpc INVALID_ARGUMENT"): bad["requests"]}
    # Only the good ones reached the server.
    assert good["failures"] == 0 and good["requests"] == server.catalog.calls[GET] > 0


def test_a_descriptor_set_serves_as_the_protos_do(herd, tmp_path):
    descriptors = tmp_path / "catalog.pb"
    subprocess.run(["protoc", f"-I{PROTOS}", "--include_imports", f"--descriptor_set_out={descriptors}",
                    "shop/catalog.proto"], check=True)
    with CatalogServer() as server:
        scenario = herd.scenario(SCENARIO.format(url=server.url, schema=f"grpc: {{descriptorSet: {descriptors.name}}}",
                                                 duration="1s"))
        result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stderr
    by_name = endpoints(summary)
    assert by_name[LIST]["requests"] == server.catalog.calls[LIST] > 0
    assert by_name[GET]["failures"] == by_name[LIST]["failures"] == 0, summary["errors"]


def test_invalid_grpc_scenarios_exit_2_naming_the_place(herd):
    scenario = herd.scenario(f"""
name: bad
target: http://127.0.0.1:1
{SCHEMA}
users:
  - name: u
    steps:
      - grpc: {{call: shop.Catalog/ListItems, message: {{category: books, cuont: 3}}}}
load: {{users: 1, duration: 1s}}
""")
    result = herd.run("validate", scenario)
    assert result.returncode == 2
    assert ('scenario.yaml:8:73: users[0].steps[0].grpc.message.cuont: shop.ListItemsRequest has no field "cuont" '
            '(did you mean "count"?)') in result.stderr


def test_coordinator_with_two_agents(tmp_path):
    from test_distributed import Run
    with CatalogServer() as server:
        r = Run(tmp_path, None, text=SCENARIO.format(url=server.url, schema=SCHEMA, duration="2s"))
        code, agents, summary = r.run_agents()
    catalog = server.catalog
    assert code == 0, r.stdout + r.coordinator_log()
    assert agents == {"a1": 0, "a2": 0}, [r.agent_log(n) for n in agents]
    by_name = endpoints(summary)
    assert by_name[GET]["requests"] + by_name["by user"]["requests"] + by_name["missing"]["requests"] == \
        catalog.calls[GET]
    assert by_name[LIST]["requests"] == catalog.calls[LIST] > 0
    assert by_name["missing"]["failures"] == catalog.statuses[(GET, "NOT_FOUND")]
    assert summary["totals"]["failures"] == by_name["missing"]["requests"], summary["errors"]
