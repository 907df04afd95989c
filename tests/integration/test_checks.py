"""Checks, captures and the cookie jar against real nginx: what a user captured
and the cookies it was given come back in its own later requests, which nginx
echoes; checks that cannot hold are counted as failures of kind `check`."""

SCENARIO = """
name: checks
target: {url}
users:
  - name: member
    onStart:
      - post:
          url: /api/login?user={{{{user.index}}}}
          name: login
          check: {{status: 200, jsonPath: {{"$.ok": "true", "$.user.id": "{{{{user.index}}}}"}}, header: {{content-type: application/json}}}}
          capture: {{token: {{jsonPath: "$.token"}}, session: {{cookie: SID}}}}
      - get:
          url: /api/page?user={{{{user.index}}}}
          name: page
          capture: {{csrf: {{regex: 'name="csrf" value="([^"]+)"'}}}}
    steps:
      - get:
          url: /api/me
          name: me
          headers: {{authorization: "Bearer {{{{token}}}} {{{{csrf}}}} {{{{session}}}}"}}
          check:
            status: 200
            jsonPath: {{"$.sid": "s{{{{user.index}}}}", "$.auth": "Bearer t-{{{{user.index}}}} c-{{{{user.index}}}} s{{{{user.index}}}}"}}
      - get: {{url: /api/me, name: wrong-body, check: {{bodyContains: "no such text"}}}}
      - get: {{url: /status/404, name: expected-404, check: {{status: [404]}}}}
      - get: {{url: /api/me, name: wrong-header, check: {{header: {{x-missing: ~}}}}}}
      - think: 5ms
load: {{users: 8, spawnRate: 100, duration: 2s}}
"""


def test_checks_captures_and_cookies(herd, nginx):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    by_name = {e["name"]: e for e in summary["endpoints"]}
    counts = nginx.counts()
    # Every request herd counted reached nginx, and nothing else did.
    assert summary["totals"]["requests"] == sum(counts.values())
    assert by_name["login"]["requests"] == 8 and by_name["login"]["failures"] == 0
    assert by_name["page"]["failures"] == 0
    # The per-user token, CSRF value and session cookie came back in every request.
    me = by_name["me"]
    assert me["requests"] > 50
    assert me["failures"] == 0, summary["errors"]
    # A 404 the step expects is not a failure.
    assert by_name["expected-404"]["requests"] > 0 and by_name["expected-404"]["failures"] == 0
    # Checks that cannot hold fail every time, as kind `check`, named.
    for name in ("wrong-body", "wrong-header"):
        assert by_name[name]["failures"] == by_name[name]["requests"] > 0
    errors = {(e["endpoint"], e["kind"], e["message"]): e["count"] for e in summary["errors"]}
    assert errors == {
        ("wrong-body", "check", 'check failed: body contains "no such text"'): by_name["wrong-body"]["requests"],
        ("wrong-header", "check", "check failed: header x-missing exists"): by_name["wrong-header"]["requests"],
    }
    assert summary["totals"]["failures"] == by_name["wrong-body"]["requests"] + by_name["wrong-header"]["requests"]


def test_without_cookie_jar_the_session_is_not_sent(herd, nginx):
    """The control: with cookies off, nginx sees no session and answers 401."""
    scenario = herd.scenario(f"""
name: nocookies
target: {nginx.url}
defaults: {{cookies: false}}
users:
  - name: member
    onStart: [{{post: {{url: "/api/login?user={{{{user.index}}}}", name: login}}}}]
    steps: [{{get: {{url: /api/me, name: me}}}}, {{think: 10ms}}]
load: {{users: 2, duration: 1s}}
""")
    result, summary = herd.run_summary(scenario, "--workers", "1")
    assert summary is not None, result.stderr
    me = {e["name"]: e for e in summary["endpoints"]}["me"]
    assert me["requests"] > 0 and me["failures"] == me["requests"]
    assert nginx.counts()[("GET", "/api/me")] == me["requests"]
