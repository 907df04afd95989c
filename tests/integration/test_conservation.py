"""Counts are conserved: what herd reports per endpoint equals what nginx logged."""

SCENARIO = """
name: conservation
target: {url}
users:
  - name: reader
    weight: 3
    onStart:
      - post: {{url: /login, json: {{user: "u{{{{user.index}}}}"}}, name: login}}
    steps:
      - get: /items?page={{{{random(1, 1000)}}}}
        name: /items?page=[n]
      - get: /about
  - name: writer
    weight: 1
    tasks:
      - {{weight: 3, steps: [{{put: {{url: /cart, body: "x"}}}}]}}
      - {{weight: 1, steps: [{{get: /status/404, name: missing}}]}}
load: {{users: 40, spawnRate: 200, duration: 3s}}
"""

# herd's endpoint name -> (method, nginx $uri)
EXPECTED = {
    "login": ("POST", "/login"),
    "/items?page=[n]": ("GET", "/items"),
    "/about": ("GET", "/about"),
    "/cart": ("PUT", "/cart"),
    "missing": ("GET", "/status/404"),
}


def test_counts_equal_nginx_access_log(herd, nginx):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    counts = nginx.counts()
    by_name = {e["name"]: e for e in summary["endpoints"]}
    assert set(by_name) == set(EXPECTED)
    total = 0
    for name, (method, uri) in EXPECTED.items():
        endpoint = by_name[name]
        assert endpoint["method"] == method
        assert endpoint["requests"] == counts[(method, uri)], (name, endpoint, counts)
        total += endpoint["requests"]
    assert summary["totals"]["requests"] == total == sum(counts.values())
    assert total > 500, "the run should have made plenty of requests"
    # Only the deliberate 404s failed, each classified as a status error.
    assert by_name["missing"]["failures"] == by_name["missing"]["requests"] > 0
    assert summary["totals"]["failures"] == by_name["missing"]["failures"]
    assert [(e["endpoint"], e["kind"], e["message"]) for e in summary["errors"]] == [("missing", "status", "HTTP 404")]
    # Every user logged in exactly once.
    assert by_name["login"]["requests"] == 30
    assert result.returncode == 0, result.stdout + result.stderr


def test_keepalive_limit_crossed_without_errors(herd, nginx):
    """nginx closes a keep-alive connection after 1000 requests; herd reconnects
    without losing or failing a request."""
    scenario = herd.scenario(f"""
name: keepalive
target: {nginx.url}
users:
  - name: hammer
    steps: [{{get: /}}]
load: {{users: 2, spawnRate: 100, duration: 2s}}
""")
    result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stderr
    assert summary["totals"]["failures"] == 0, summary["errors"]
    assert summary["totals"]["requests"] > 2000
    assert summary["totals"]["requests"] == nginx.counts()[("GET", "/")]
