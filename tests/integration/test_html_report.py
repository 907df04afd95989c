"""report.html opens in headless Chromium with no console errors and no network
requests, and its charts hold the run's data: one point per second of the run."""
import csv
import json
import os

from chromium import Browser
from conftest import visitor_scenario

THRESHOLDS = ["http.latency p99 < 10s", "http.failures rate < 1%"]


def scenario_text(url, duration="3s"):
    return visitor_scenario("report", url, 4, 4, duration, THRESHOLDS)


CHARTS = """JSON.stringify([...document.querySelectorAll('.chart')].map(c => ({
  id: c.id,
  points: Number(c.dataset.points),
  lines: [...c.querySelectorAll('polyline')].map(p => p.getAttribute('points').trim().split(/\\s+/).length),
})))"""

TABLES = """JSON.stringify({
  thresholds: [...document.querySelectorAll('#thresholds-body tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
  endpoints: [...document.querySelectorAll('#endpoints-body tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
  errors: document.querySelectorAll('#errors-body tbody tr').length,
  deliveryHidden: document.getElementById('delivery').hidden,
  verdict: document.getElementById('verdict').textContent,
  parameters: document.getElementById('parameters-body').textContent,
  rpsSum: JSON.parse(document.getElementById('herd-data').textContent).series.rps.reduce((a, b) => a + b, 0),
})"""


def artifact_dir(tmp_path):
    directory = os.environ.get("HERD_ARTIFACT_DIR") or str(tmp_path)
    os.makedirs(directory, exist_ok=True)
    return directory


def test_report_opens_cleanly_and_charts_hold_every_second(herd, nginx, tmp_path):
    out = tmp_path / "out"
    result, summary = herd.run_summary(herd.scenario(scenario_text(nginx.url)), "--out", str(out),
                                       "-p", "size=big", "--note", "report check")
    assert result.returncode == 1, result.stdout + result.stderr  # the failure-rate threshold fails
    with open(out / "herd_stats_history.csv", newline="") as f:
        seconds = len(list(csv.DictReader(f)))
    assert 3 <= seconds <= 4

    url = (out / "report.html").as_uri()
    with Browser() as browser:
        browser.open(url)
        charts = json.loads(browser.evaluate(CHARTS))
        tables = json.loads(browser.evaluate(TABLES))
        browser.screenshot(os.path.join(artifact_dir(tmp_path), "report.png"))
        requested = browser.requested_urls()
        errors = browser.console_errors()

    assert errors == []
    assert requested == [url], "the report must load nothing but itself"
    assert [c["id"] for c in charts] == ["chart-rps", "chart-users", "chart-latency", "chart-errors", "chart-cpu"]
    for chart in charts:
        assert chart["points"] == seconds, chart
        assert chart["lines"] and all(n == seconds for n in chart["lines"]), chart
    assert len(next(c for c in charts if c["id"] == "chart-latency")["lines"]) == 3  # p50, p95, p99
    assert tables["rpsSum"] == summary["totals"]["requests"]

    assert tables["verdict"] == "failed"
    assert [row[:2] for row in tables["thresholds"]] == [["http.latency p99 < 10s", "pass"],
                                                        ["http.failures rate < 1%", "FAIL"]]
    assert [row[0] for row in tables["endpoints"]] == ["/", "missing", "Total"]
    assert tables["endpoints"][-1][2] == f"{summary['totals']['requests']:,}"
    assert tables["errors"] == 1
    assert tables["deliveryHidden"] is True  # this scenario tracks no pub/sub delivery
    assert "size=big" in tables["parameters"] and "report check" in tables["parameters"]


DELIVERY = [{"stream": "cohort-<1>", "published": 1000, "delivered": 997, "duplicates": 2, "lost": 3,
             "latency": {"mean": 40.0, "p50": 35.0, "p90": 80.0, "p95": 120.0, "p99": 400.0, "max": 1900.0}}]

DELIVERY_ROWS = """JSON.stringify({
  hidden: document.getElementById('delivery').hidden,
  rows: [...document.querySelectorAll('#delivery-body tbody tr')].map(r => [...r.cells].map(c => c.textContent)),
})"""


def with_delivery(page, delivery):
    """The same page with summary.delivery filled in, as a pub/sub run writes it."""
    start_tag = '<script id="herd-data" type="application/json">'
    start = page.index(start_tag) + len(start_tag)
    end = page.index("</script>", start)
    data = json.loads(page[start:end])
    data["summary"]["delivery"] = delivery
    blob = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return page[:start] + blob + page[end:]


def test_delivery_section_shows_when_the_summary_has_it(herd, nginx, tmp_path):
    out = tmp_path / "out"
    result, _ = herd.run_summary(herd.scenario(scenario_text(nginx.url, "1s")),
                                 "--out", str(out))
    assert result.returncode == 1, result.stderr
    page = tmp_path / "delivery.html"
    page.write_text(with_delivery((out / "report.html").read_text(), DELIVERY))
    with Browser() as browser:
        browser.open(page.as_uri())
        shown = json.loads(browser.evaluate(DELIVERY_ROWS))
        errors = browser.console_errors()
        requested = browser.requested_urls()
    assert errors == [] and requested == [page.as_uri()]
    assert shown["hidden"] is False
    assert shown["rows"] == [["cohort-<1>", "1,000", "997", "2", "3", "35.0 ms", "120 ms", "400 ms", "1.90 s"]]
