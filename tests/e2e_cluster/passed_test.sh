#!/usr/bin/env bash
# A LoadTest (examples/k8s/loadtest-service.yaml) on the real node: two agent
# pods started by the kubelet from herd's image under the restricted Pod
# Security Standard resolve the coordinator's Service and the target's
# (SERVICE.NAMESPACE.svc) through cluster DNS, load the in-cluster nginx, and
# the run ends Complete / Succeeded / Passed with status.totals.requests equal to
# the number of requests nginx logged; the agents reached the coordinator over
# TLS with the chart's generated certificate.
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
# Over TLS (the chart's default): the leader serves the generated certificate,
# the run's Secret carries the CA and the agents were told to verify it.
leader=$(k get pods -n "$RELEASE_NS" -l herd.dev/leader=true -o name | head -1)
leader_log=$(k logs -n "$RELEASE_NS" "$leader")  # whole, not piped: grep -q would cut the pipe (pipefail)
[[ $leader_log == *"listening on 0.0.0.0:7070 (port 7070) with TLS"* ]] && ok "the coordinator serves TLS" ||
  fail "the leader $leader does not log a TLS listener: $(grep -m1 'listening on' <<<"$leader_log")"
run_id=$(k get lt smoke -n "$NS" -o jsonpath='{.status.runId}')
ca=$(k get secret "$run_id-token" -n "$NS" -o jsonpath='{.data.ca\.crt}' | base64 -d)
[[ $ca == *"BEGIN CERTIFICATE"* ]] && ok "the run's Secret holds the coordinator's CA" || fail "no ca.crt in $run_id-token"
args=$(k get pods -n "$NS" -l "herd.dev/run=$run_id" -o jsonpath='{.items[0].spec.containers[0].args}')
[[ $args == *'"--tls-ca","/var/run/herd/token/ca.crt"'* ]] && ok "agent pods dial with --tls-ca" ||
  fail "agent pod args: $args"
finish
