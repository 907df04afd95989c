"""--junit and --markdown against real nginx: the JUnit file validates against the
JUnit XML schema (tests/fixtures/junit/junit.xsd, with python3-lxml) and holds one
test case per threshold and per check, one failure per failing one carrying the
measured value and the bound; the markdown renders (python3-markdown) to tables."""
import os

import markdown
from lxml import etree

SCHEMA = os.path.join(os.environ.get("HERD_SOURCE_DIR", "."), "tests", "fixtures", "junit", "junit.xsd")

SCENARIO = """
name: ci <formats> & "quotes"
target: {url}
users:
  - name: visitor
    steps:
      - get: {{url: /, name: home, check: {{status: 200}}}}
      - get: {{url: /, name: wrong-body, check: {{bodyContains: "no such text"}}}}
      - think: 20ms
load: {{users: 4, spawnRate: 100, duration: 2s}}
thresholds:
  - "http.latency p95 < 10s"
  - "http.failures rate < 1%"
  - "http.requests count >= 1000000000"
"""


def test_junit_validates_and_has_one_failure_per_failing_threshold_and_check(herd, nginx, tmp_path):
    junit, md = tmp_path / "junit.xml", tmp_path / "summary.md"
    result, summary = herd.run_summary(herd.scenario(SCENARIO.format(url=nginx.url)),
                                       "--junit", str(junit), "--markdown", str(md))
    assert result.returncode == 1, result.stdout + result.stderr

    schema = etree.XMLSchema(etree.parse(SCHEMA))
    doc = etree.parse(str(junit))
    assert schema.validate(doc), schema.error_log

    suite = doc.getroot().find("testsuite")
    assert suite.get("name") == 'ci <formats> & "quotes"'
    cases = suite.findall("testcase")
    thresholds = [c for c in cases if c.get("classname") == "herd.thresholds"]
    checks = [c for c in cases if c.get("classname") == "herd.checks"]
    assert [c.get("name") for c in thresholds] == [t["expression"] for t in summary["thresholds"]]
    assert len(checks) == len(summary["checks"]) == 2
    failing = {t["expression"]: t for t in summary["thresholds"] if not t["passed"]}
    assert set(failing) == {"http.failures rate < 1%", "http.requests count >= 1000000000"}
    for case in thresholds:
        failures = case.findall("failure")
        if case.get("name") not in failing:
            assert failures == []
            continue
        assert len(failures) == 1
        t = failing[case.get("name")]
        assert failures[0].get("type") == "threshold"
        assert failures[0].get("message") == f"measured {t['shown']}, bound: {t['expression']}"
    failed_checks = [c for c in checks if c.findall("failure")]
    assert len(failed_checks) == 1 and "no such text" in failed_checks[0].get("name")
    assert int(suite.get("tests")) == 5 and int(suite.get("failures")) == 3
    assert suite.find("properties/property[@name='verdict']").get("value") == "failed"

    html = markdown.markdown(md.read_text(), extensions=["tables"])
    page = etree.fromstring(f"<div>{html}</div>")
    tables = page.findall("table")
    assert len(tables) == 4  # endpoints, thresholds, checks, errors (the failed check's)
    rows = [[td.xpath("string()") for td in tr.findall("td")] for tr in tables[0].find("tbody")]
    assert [r[0] for r in rows] == ["home", "wrong-body", "Total"]
    assert rows[2][2] == str(summary["totals"]["requests"])
    verdicts = [r.findall("td")[0].xpath("string()") for r in tables[1].find("tbody")]
    assert verdicts == ["pass", "FAIL", "FAIL"]
    assert 'ci <formats> & "quotes"' in page.find("h3").xpath("string()")
    expressions = [r.findall("td")[1].xpath("string()") for r in tables[1].find("tbody")]
    assert expressions == [t["expression"] for t in summary["thresholds"]]
