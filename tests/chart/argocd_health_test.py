#!/usr/bin/env python3
"""The Argo CD health check (examples/gitops/argocd-health.lua) on sample
LoadTests covering each branch; tests/chart/chart_cluster_test.sh also feeds it
the statuses the real operator wrote. Needs lua5.4 (scripts/install-deps)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from argocd_health import health  # noqa: E402

SCRIPT = os.path.join(os.environ["HERD_SOURCE_DIR"], "examples/gitops/argocd-health.lua")


def lt(status=None, schedule=False, generation=1):
    obj = {"apiVersion": "herd.dev/v1alpha1", "kind": "LoadTest",
           "metadata": {"name": "shop", "namespace": "perf", "generation": generation},
           "spec": {"scenario": {"inline": "name: x"}}}
    if schedule:
        obj["spec"]["schedule"] = {"cron": "0 3 * * *"}
    if status is not None:
        obj["status"] = status
    return obj


def cond(t, s, reason="", message=""):
    return {"type": t, "status": s, "reason": reason, "message": message}


CASES = [
    ("no status", lt(), "Progressing", "Waiting for herd-operator"),
    ("stale generation", lt({"observedGeneration": 1, "phase": "Succeeded"}, generation=2), "Progressing", "latest spec"),
    ("invalid scenario", lt({"observedGeneration": 1, "phase": "Failed",
                             "conditions": [cond("Validated", "False", "InvalidScenario", "perf/shop:spec.scenario.inline:3:5: bad"),
                                            cond("Complete", "True", "InvalidScenario")]}),
     "Degraded", "InvalidScenario: perf/shop:spec.scenario.inline:3:5: bad"),
    ("starting", lt({"observedGeneration": 1, "phase": "Starting", "runId": "shop-1a2b3c",
                     "conditions": [cond("Validated", "True"), cond("Complete", "False")]}),
     "Progressing", "Run shop-1a2b3c Starting"),
    ("running, agent lost", lt({"observedGeneration": 1, "phase": "Running", "runId": "shop-1a2b3c",
                                "conditions": [cond("Validated", "True"), cond("Complete", "False"),
                                               cond("Degraded", "True", "AgentLost", "agent 1 lost")]}),
     "Progressing", "AgentLost: agent 1 lost"),
    ("passed", lt({"observedGeneration": 1, "phase": "Succeeded", "runId": "shop-1a2b3c", "verdict": "Passed",
                   "conditions": [cond("Validated", "True"), cond("Complete", "True"), cond("ThresholdsPassed", "True")]}),
     "Healthy", "Run shop-1a2b3c passed"),
    ("thresholds failed", lt({"observedGeneration": 1, "phase": "Failed", "runId": "shop-1a2b3c", "verdict": "Failed",
                              "conditions": [cond("Validated", "True"), cond("Complete", "True"),
                                             cond("ThresholdsPassed", "False", "ThresholdsFailed", "http.latency p95 < 500ms: 812ms")]}),
     "Degraded", "ThresholdsFailed: http.latency p95 < 500ms: 812ms"),
    ("failed without thresholds condition", lt({"observedGeneration": 1, "phase": "Failed", "reason": "AgentsNotReady",
                                                "message": "1 of 2 agents ready", "conditions": [cond("Complete", "True")]}),
     "Degraded", "AgentsNotReady: 1 of 2 agents ready"),
    ("scheduled, before first run", lt({"observedGeneration": 1, "nextScheduleTime": "2026-11-24T03:00:00Z",
                                        "conditions": [cond("Validated", "True")]}, schedule=True),
     "Healthy", "next run 2026-11-24T03:00:00Z"),
    ("scheduled, run live", lt({"observedGeneration": 1, "phase": "Running", "runId": "shop-9f9f9f",
                                "conditions": [cond("Validated", "True")]}, schedule=True),
     "Progressing", "Run shop-9f9f9f Running"),
    ("scheduled, last run failed", lt({"observedGeneration": 1, "phase": "Failed", "runId": "shop-9f9f9f",
                                       "history": [{"runId": "shop-9f9f9f", "verdict": "Failed", "reason": "Regression"},
                                                   {"runId": "shop-111111", "verdict": "Passed"}]}, schedule=True),
     "Degraded", "Last run shop-9f9f9f Failed (Regression)"),
    ("scheduled, last run passed", lt({"observedGeneration": 1, "phase": "Succeeded", "runId": "shop-9f9f9f",
                                       "nextScheduleTime": "2026-11-25T03:00:00Z",
                                       "history": [{"runId": "shop-9f9f9f", "verdict": "Passed"}]}, schedule=True),
     "Healthy", "next run 2026-11-25T03:00:00Z"),
    ("scheduled, invalid cron", lt({"observedGeneration": 1, "reason": "InvalidSchedule", "message": "bad cron"}, schedule=True),
     "Degraded", "InvalidSchedule: bad cron"),
]

failures = 0
for name, obj, want_status, want_message in CASES:
    status, message = health(SCRIPT, obj)
    good = status == want_status and want_message in message
    failures += not good
    print(f"{'ok' if good else 'FAIL'}: {name}: {status} {message!r}" + ("" if good else f" (want {want_status} ~{want_message!r})"))
print(f"{len(CASES)} cases, {failures} failures")
sys.exit(1 if failures else 0)
