"""Every run appends a row to the ledger; `herd ledger` lists the runs and
`herd compare` shows the parameter that changed and the metric deltas."""
import hashlib
import json
import re

SCENARIO = """
name: paged
target: {url}
params: {{page: 1}}
users:
  - name: reader
    steps:
      - get: /items?page={{{{params.page}}}}
      - think: 10ms
load: {{users: 2, spawnRate: 20, duration: 2s}}
"""


def ledger_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_runs_listed_and_compared(herd, nginx, tmp_path):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url))
    first, a = herd.run_summary(scenario, "-p", "page=3", "--note", "baseline")
    second, b = herd.run_summary(scenario, "-p", "page=9", "--note", "next page")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr

    rows = ledger_rows(tmp_path / "herd-ledger.jsonl")
    assert [r["runId"] for r in rows] == [a["runId"], b["runId"]]
    assert [r["params"] for r in rows] == [{"page": "3"}, {"page": "9"}]
    digest = hashlib.sha256(open(scenario, "rb").read()).hexdigest()
    assert all(r["scenarioSha256"] == digest and r["scenario"] == "paged" for r in rows)
    assert [r["requests"] for r in rows] == [a["totals"]["requests"], b["totals"]["requests"]]
    assert rows[0]["rps"] == a["totals"]["rps"] and rows[0]["p95"] == a["totals"]["latency"]["p95"]
    assert rows[0]["users"] == 2 and rows[0]["spawnRate"] == 20 and rows[0]["agents"] == 1
    assert rows[0]["durationSeconds"] == a["durationSeconds"]
    assert rows[0]["failurePercent"] == 0 and rows[0]["lost"] == 0 and rows[0]["duplicates"] == 0
    assert [r["verdict"] for r in rows] == ["passed", "passed"]
    assert [r["note"] for r in rows] == ["baseline", "next page"]

    listing = herd.run("ledger")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[:3] == ["#", "time", "run"]
    assert re.match(r"^1\s.*page=3.*passed\s+baseline$", lines[1]), lines[1]
    assert re.match(r"^2\s.*page=9.*passed\s+next page$", lines[2]), lines[2]

    compare = herd.run("compare", "1", "2")
    assert compare.returncode == 0, compare.stderr
    out = compare.stdout
    assert re.search(r"^\s+-p page\s+3\s+9\s*$", out, re.M), out
    assert "users" not in out.split("Unchanged:")[0], "only the changed parameter is listed as changed"
    delta = b["totals"]["requests"] - a["totals"]["requests"]
    requests = re.search(r"^\s+requests\s+(\d+)\s+(\d+)\s+(\S+)", out, re.M)
    assert requests, out
    assert (int(requests[1]), int(requests[2])) == (a["totals"]["requests"], b["totals"]["requests"])
    assert requests[3] == ("0" if delta == 0 else f"{delta:+d}")
    assert re.search(r"^\s+requests/s\s", out, re.M) and re.search(r"^\s+p95 \(ms\)\s", out, re.M)
    assert "A: baseline" in out and "B: next page" in out
    # The same runs by id and counted from the end.
    assert herd.run("compare", a["runId"], "-1").stdout == out


def test_ledger_file_flag_no_ledger_and_bad_lines(herd, nginx, tmp_path):
    scenario = herd.scenario(SCENARIO.format(url=nginx.url).replace("duration: 2s", "duration: 1s"))
    elsewhere = tmp_path / "runs" / "ledger.jsonl"
    elsewhere.parent.mkdir()
    result, _ = herd.run_summary(scenario, "--ledger", str(elsewhere))
    assert result.returncode == 0, result.stderr
    result, _ = herd.run_summary(scenario, "--no-ledger")
    assert result.returncode == 0, result.stderr
    assert len(ledger_rows(elsewhere)) == 1
    assert not (tmp_path / "herd-ledger.jsonl").exists()
    assert herd.run("ledger", "--ledger", str(elsewhere)).stdout.count("\n") == 2

    missing = herd.run("ledger")
    assert missing.returncode == 2 and "herd-ledger.jsonl" in missing.stderr
    with open(elsewhere, "a") as f:
        f.write("{half a line\n")
    broken = herd.run("ledger", "--ledger", str(elsewhere))
    assert broken.returncode == 2 and f"{elsewhere}:2" in broken.stderr, broken.stderr
    unknown = herd.run("compare", "1", "nope", "--ledger", str(elsewhere).replace("ledger.jsonl", "x"))
    assert unknown.returncode == 2
