#!/usr/bin/env bash
# A LoadTest (examples/k8s/loadtest-service.yaml) on the real node: two agent
# pods started by the kubelet from herd's image under the restricted Pod
# Security Standard resolve the coordinator's Service and the target's
# (SERVICE.NAMESPACE.svc) through cluster DNS, load the in-cluster nginx, and
# the run ends Complete / Succeeded / Passed with status.totals.requests equal to
# the number of requests nginx logged.
source "$(dirname "$0")/lib.sh"
test_namespace e2e-passed
start=$SECONDS
loadtest smoke 20 20s | k apply -n "$NS" -f - >/dev/null
wait_complete smoke 180 || { fail "smoke did not complete"; finish; }
say "apply -> Complete in $((SECONDS - start))s"
[[ $PHASE == Succeeded ]] && ok "phase Succeeded" || fail "phase $PHASE"
[[ $VERDICT == Passed ]] && ok "verdict Passed" || fail "verdict $VERDICT ($REASON)"
count=$(target_count)
((TOTAL > 0)) && [[ $TOTAL == "$count" ]] && ok "totals.requests $TOTAL == nginx's $count" ||
  fail "totals.requests $TOTAL, nginx logged $count"
finish
