#!/usr/bin/env python3
"""Parses herd-operator's /metrics (stdin) with prometheus_client's parser and
checks the documented series (docs/install.md#metrics) against the LoadTest's
status (JSON file): every family present and typed, one sample set per
LoadTest, values equal to the status, phase and verdict one-hot over the CRD's
enums, and the merged latency histogram's histogram_quantile(0.95) within the
width of the bucket holding the run's p95.

  curl -s HOST:PORT/metrics | check_metrics.py NAMESPACE LOADTEST STATUS.json
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

ns, name, status_file = sys.argv[1:4]
lt = json.load(open(status_file))
status = lt.get("status", {})
families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
problems = []


def family(fname, ftype):
    f = families.get(fname)
    if f is None:
        problems.append(f"missing {fname}")
        return []
    if f.type != ftype:
        problems.append(f"{fname} is {f.type}, want {ftype}")
    return f.samples


for fname in ("herd_operator_reconciles", "herd_operator_reconcile_errors"):
    samples = family(fname, "counter")
    if samples and fname == "herd_operator_reconciles" and samples[0].value < 1:
        problems.append("no reconcile counted")
# The operator's requests to the apiserver, one series per verb, each a counter.
apiserver = family("herd_operator_apiserver_requests", "counter")
verbs = sorted(s.labels.get("verb", "") for s in apiserver if s.name.endswith("_total"))
if verbs != sorted(["DELETE", "GET", "PATCH", "POST", "PUT", "WATCH"]):
    problems.append(f"herd_operator_apiserver_requests_total verbs {verbs}")
elif sum(s.value for s in apiserver if s.labels.get("verb") in ("GET", "WATCH")) < 1:
    problems.append("herd_operator_apiserver_requests_total counts no GET or WATCH on a leader that reconciled")
leader = family("herd_operator_leader", "gauge")
if leader and leader[0].value != 1:
    problems.append(f"herd_operator_leader = {leader[0].value} on the leader")


def ours(samples):
    return [s for s in samples if s.labels.get("namespace") == ns and s.labels.get("loadtest") == name]


totals = status.get("totals", {})
expected = {
    "herd_loadtest_users": status.get("users", 0),
    "herd_loadtest_rps": totals.get("rps", 0),
    "herd_loadtest_requests": totals.get("requests", 0),
    "herd_loadtest_failures": totals.get("failures", 0),
    "herd_loadtest_latency_p95_seconds": totals.get("latency", {}).get("p95", 0) / 1000.0,
    "herd_loadtest_agents_connected": status.get("agents", {}).get("connected", 0),
}
for fname, want in expected.items():
    samples = ours(family(fname, "gauge"))
    if len(samples) != 1:
        problems.append(f"{fname}: {len(samples)} samples for {ns}/{name}, want 1")
    elif abs(samples[0].value - want) > 1e-9:
        problems.append(f"{fname} = {samples[0].value}, status says {want}")

phases = {s.labels["phase"]: s.value for s in ours(family("herd_loadtest_phase", "gauge"))}
if set(phases) != {"Pending", "Starting", "Running", "Stopping", "Succeeded", "Failed"}:
    problems.append(f"phase labels {sorted(phases)}")
elif [p for p, v in phases.items() if v == 1] != [status.get("phase")]:
    problems.append(f"phase series {phases}, status phase {status.get('phase')}")
verdicts = {s.labels["verdict"]: s.value for s in ours(family("herd_loadtest_verdict", "gauge"))}
if status.get("verdict"):
    if set(verdicts) != {"Passed", "Failed", "Aborted"} or verdicts[status["verdict"]] != 1 or sum(verdicts.values()) != 1:
        problems.append(f"verdict series {verdicts}, status verdict {status['verdict']}")
elif verdicts:
    problems.append(f"verdict series {verdicts} before any verdict")


def histogram_quantile(q, buckets):
    """Prometheus' histogram_quantile over [(le, cumulative count)], +Inf last:
    linear interpolation inside the bucket holding rank q * count."""
    buckets = sorted(buckets)
    count = buckets[-1][1]
    rank = q * count
    lower, below = 0.0, 0.0
    for le, cumulative in buckets:
        if cumulative >= rank:
            if le == float("inf"):
                return lower
            return lower + (le - lower) * (rank - below) / (cumulative - below)
        lower, below = le, cumulative
    return lower


latency = ours(family("herd_loadtest_latency_seconds", "histogram"))
buckets = [(float(s.labels["le"]), s.value) for s in latency if s.name.endswith("_bucket")]
p95 = totals.get("latency", {}).get("p95", 0) / 1000.0
if totals.get("requests", 0) > 0:
    if len(buckets) < 2:
        problems.append(f"herd_loadtest_latency_seconds: {len(buckets)} buckets")
    else:
        estimate = histogram_quantile(0.95, buckets)
        bounds = sorted(le for le, _ in buckets if le != float("inf"))
        upper = next((b for b in bounds if b >= p95), bounds[-1])
        lower = max([b for b in bounds if b < upper], default=0.0)
        if abs(estimate - p95) > upper - lower:
            problems.append(f"histogram_quantile(0.95) = {estimate:.6f} s, status p95 {p95:.6f} s: "
                            f"more than the bucket's width {upper - lower:.6f} s apart")
        else:
            print(f"histogram_quantile(0.95) {estimate * 1000:.3f} ms, the run's p95 {p95 * 1000:.3f} ms "
                  f"(bucket {lower * 1000:g}-{upper * 1000:g} ms)")
# Bounded cardinality: labels are only namespace, loadtest, the enums, the
# buckets' le and the apiserver requests' verb (six values).
for f in families.values():
    for s in f.samples:
        extra = set(s.labels) - {"namespace", "loadtest", "phase", "verdict", "le", "verb"}
        if extra:
            problems.append(f"{s.name} has labels {sorted(extra)}")

if problems:
    sys.exit("; ".join(problems))
print(f"{len(families)} families parsed; {ns}/{name} phase={status.get('phase')} "
      f"verdict={status.get('verdict', '-')} requests={totals.get('requests', 0)} match the status")
