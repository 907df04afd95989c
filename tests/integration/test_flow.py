"""Flow control against real nginx: loops, conditions, set, parallel branches,
stopping a user and onStop, each counted by nginx's own access log."""

SCENARIO = """
name: flow
target: {url}
users:
  - name: looper
    count: 3
    onStart:
      - loop: {{count: 4, steps: [{{get: /loop/count}}]}}
      - loop: {{over: [a, "b#c", "{{{{user.index}}}}"], as: item, steps: [{{get: "/loop/over/{{{{item}}}}"}}]}}
      - set: {{n: ""}}
      - loop: {{while: {{notEquals: ["{{{{n}}}}", xxx]}}, steps: [{{set: {{n: "{{{{n}}}}x"}}}}, {{get: /loop/while}}]}}
      - if: {{chance: 0}}
        then: [{{get: /if/never}}]
        else: [{{get: /if/else}}]
      - if: {{equals: ["{{{{n}}}}", xxx]}}
        then: [{{get: /if/equals}}]
      - if: {{set: n}}
        then: [{{get: /if/set}}]
    steps:
      - get: /iterate
      - stopUser: true
      - get: /never/after-stop
    onStop:
      - post: /bye/looper
  - name: learner
    count: 2
    steps:
      - parallel:
          - - loop:
                forever: true
                steps: [{{get: /learner/control}}, {{think: 100ms}}]
          - - loop: {{count: 3, steps: [{{post: /learner/progress}}, {{think: 50ms}}]}}
            - stopUser: true
    onStop:
      - post: /bye/learner
  - name: browser
    count: 2
    steps:
      - get: /browse
      - think: 20ms
    onStop:
      - post: /bye/browser
load: {{users: 7, spawnRate: 100, duration: 2s}}
"""


def test_flow_steps_counted_by_nginx(herd, nginx):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url))
    result, summary = herd.run_summary(scenario, "--workers", "2")
    assert summary is not None, result.stderr
    assert result.returncode == 0, result.stderr
    counts = nginx.counts()
    assert summary["totals"]["requests"] == sum(counts.values())
    assert summary["totals"]["failures"] == 0, summary["errors"]
    get = lambda uri: counts.get(("GET", uri), 0)
    post = lambda uri: counts.get(("POST", uri), 0)
    assert get("/loop/count") == 3 * 4
    assert get("/loop/over/a") == 3 and get("/loop/over/b#c") == 3  # escaped as %23 in the path
    over_index = sum(get(f"/loop/over/{i}") for i in range(7))
    assert over_index == 3, counts
    assert get("/loop/while") == 3 * 3
    assert get("/if/never") == 0 and get("/if/else") == 3
    assert get("/if/equals") == 3 and get("/if/set") == 3
    # stopUser ends the user after its first iteration; onStop runs once.
    assert get("/iterate") == 3
    assert get("/never/after-stop") == 0
    assert post("/bye/looper") == 3
    # Both branches ran at the same time: the forever loop did not keep the other
    # branch from publishing, and its stopUser ended the forever loop too.
    assert post("/learner/progress") == 2 * 3
    assert 2 <= get("/learner/control") <= 2 * 3, counts
    assert post("/bye/learner") == 2
    # Users still iterating when the test stops run onStop once each.
    assert get("/browse") > 20
    assert post("/bye/browser") == 2
