"""CSV data feeders against real nginx: `unique` hands every row out once across
users, worker threads and agents (shards); `cycle` goes round; `random` stays in
the file. nginx's log shows which row each request carried."""
import collections
import subprocess

ROWS = 30


def write_csv(tmp_path):
    lines = ["name,pin"] + [f"row{i},{1000 + i}" for i in range(ROWS)]
    (tmp_path / "accounts.csv").write_text("\n".join(lines) + "\n")


SCENARIO = """
name: data
target: {url}
data:
  accounts: {{file: accounts.csv, pick: {pick}}}
users:
  - name: member
    onStart:
      - feed: accounts
      - get: /login/{{{{accounts.name}}}}/{{{{accounts.pin}}}}
    steps:{feed}
      - get: /seen/{{{{accounts.name}}}}
      - think: 20ms
load: {{users: {users}, spawnRate: 1000, duration: 1s}}
"""


def rows_requested(counts, prefix):
    out = collections.Counter()
    for (method, uri), n in counts.items():
        if uri.startswith(prefix):
            out[uri[len(prefix):]] += n
    return out


def test_unique_rows_once_each_across_two_shards(herd, nginx, tmp_path):
    write_csv(tmp_path)
    # 2 agents × 2 workers × 10 users = 40 users for 30 rows: every row is used
    # exactly once, by the onStart of 30 users; the other 10 find none and stop.
    scenario = herd.scenario(SCENARIO.format(url=nginx.url, pick="unique", users=20, feed=""))
    procs = [subprocess.Popen([herd_bin(), "run", scenario, "--workers", "2", "--shard", f"{i}/2",
                               "--summary-json", str(tmp_path / f"s{i}.json")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    counts = nginx.counts()
    logins = rows_requested(counts, "/login/")
    assert sorted(logins) == sorted(f"row{i}/{1000 + i}" for i in range(ROWS))
    assert set(logins.values()) == {1}
    # Each user kept its row for its iterations.
    seen = rows_requested(counts, "/seen/")
    assert set(seen) == {f"row{i}" for i in range(ROWS)} and min(seen.values()) > 5


def test_cycle_and_random_stay_in_the_file(herd, nginx, tmp_path):
    write_csv(tmp_path)
    for pick in ("cycle", "random"):
        scenario = herd.scenario(SCENARIO.format(url=nginx.url, pick=pick, users=4, feed="\n      - feed: accounts"),
                                 name=f"{pick}.yaml")
        result, summary = herd.run_summary(scenario, "--workers", "2")
        assert summary is not None and result.returncode == 0, result.stderr
    seen = rows_requested(nginx.counts(), "/seen/")
    assert set(seen) <= {f"row{i}" for i in range(ROWS)}
    assert sum(seen.values()) > 100
    # Cycling 4 users for a second goes round the 30 rows: all of them show up.
    assert len(seen) == ROWS


def herd_bin():
    from conftest import HERD
    return HERD
