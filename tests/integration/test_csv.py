"""herd's CSV files carry Locust's file names and columns: the headers are compared
with files that Debian's Locust writes itself against the same nginx, and the rows
are checked against summary.json and nginx's own count."""
import csv
import subprocess

LOCUST = "/usr/bin/locust"

LOCUSTFILE = """
from locust import HttpUser, task, constant


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def home(self):
        self.client.get("/")

    @task
    def missing(self):
        self.client.get("/status/404")
"""

SCENARIO = """
name: csv
target: {url}
users:
  - name: visitor
    steps:
      - get: /
      - get: /status/404
      - think: 20ms
load: {{users: 3, spawnRate: 30, duration: 3s}}
"""

KINDS = ("stats", "stats_history", "failures")


def read(path):
    with open(path, newline="") as f:
        raw = f.read()
    assert raw.endswith("\r\n"), f"{path}: rows end with \\r\\n like Python's csv module"
    return list(csv.reader(raw.splitlines()))


def locust_csvs(tmp_path, url):
    (tmp_path / "locustfile.py").write_text(LOCUSTFILE)
    prefix = tmp_path / "locust"
    result = subprocess.run([LOCUST, "-f", str(tmp_path / "locustfile.py"), "--headless", "-u", "2", "-r", "2",
                             "-t", "2s", "--host", url, "--csv", str(prefix), "--only-summary"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 1), result.stderr  # 1: Locust's exit for "there were failures"
    return {kind: read(f"{prefix}_{kind}.csv") for kind in KINDS}


def test_headers_match_locusts_own_files(herd, nginx, tmp_path):
    theirs = locust_csvs(tmp_path, nginx.url)
    out = tmp_path / "out"
    result, _ = herd.run_summary(herd.scenario(SCENARIO.format(url=nginx.url)), "--out", str(out),
                                 "--csv-prefix", str(tmp_path / "mine"))
    assert result.returncode == 0, result.stderr
    for kind in KINDS:
        ours = read(out / f"herd_{kind}.csv")
        assert ours[0] == theirs[kind][0], kind
        # --csv-prefix writes the same files as --out DIR.
        assert read(tmp_path / f"mine_{kind}.csv") == ours
    # Both put the totals last, in a row named Aggregated with an empty Type.
    assert theirs["stats"][-1][:2] == ["", "Aggregated"]
    assert read(out / "herd_stats.csv")[-1][:2] == ["", "Aggregated"]


def test_rows_agree_with_the_summary_and_nginx(herd, nginx, tmp_path):
    out = tmp_path / "out"
    result, summary = herd.run_summary(herd.scenario(SCENARIO.format(url=nginx.url)), "--out", str(out))
    assert result.returncode == 0, result.stderr
    counts = nginx.counts()

    with open(out / "herd_stats.csv", newline="") as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    assert set(stats) == {"/", "/status/404", "Aggregated"}
    assert int(stats["/"]["Request Count"]) == counts[("GET", "/")] > 0
    assert int(stats["/"]["Failure Count"]) == 0
    assert int(stats["/status/404"]["Request Count"]) == counts[("GET", "/status/404")]
    assert int(stats["/status/404"]["Failure Count"]) == counts[("GET", "/status/404")]
    total = stats["Aggregated"]
    assert int(total["Request Count"]) == summary["totals"]["requests"] == sum(counts.values())
    assert int(total["Failure Count"]) == summary["totals"]["failures"]
    assert abs(float(total["Requests/s"]) - summary["totals"]["rps"]) < 1e-6 * summary["totals"]["rps"]
    assert float(total["Min Response Time"]) <= float(total["Average Response Time"]) <= float(total["Max Response Time"])
    assert int(total["100%"]) >= int(total["50%"]) >= 0

    with open(out / "herd_stats_history.csv", newline="") as f:
        history = list(csv.DictReader(f))
    # One row per second of the run; each second's count is exact, so they add up.
    assert 3 <= len(history) <= 5
    assert all(row["Name"] == "Aggregated" and row["Type"] == "" for row in history)
    assert sum(float(row["Requests/s"]) for row in history) == summary["totals"]["requests"]
    assert int(history[-1]["Total Request Count"]) == summary["totals"]["requests"]
    stamps = [int(row["Timestamp"]) for row in history]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] == len(stamps) - 1
    assert max(int(row["User Count"]) for row in history) == 3

    with open(out / "herd_failures.csv", newline="") as f:
        failures = list(csv.DictReader(f))
    assert [(r["Method"], r["Name"], r["Error"]) for r in failures] == [("GET", "/status/404", "status: HTTP 404")]
    assert int(failures[0]["Occurrences"]) == counts[("GET", "/status/404")]
