#!/usr/bin/env bash
# An agent pod deleted mid-run (kubectl delete --grace-period=0 --force: the
# container is killed, it sends no final report) under agentLossPolicy
# Rebalance: the operator starts a replacement pod, the run completes, and
# status.totals.requests falls short of nginx's count by at most what the lost
# agent had not reported yet. Agents report every second; the bound asserted is
# two seconds of one agent's average rate (the second in progress and a report
# in flight when the pod died), and the totals never exceed nginx's count.
source "$(dirname "$0")/lib.sh"
test_namespace e2e-lost
users=20 duration=40 agents=2
loadtest lost "$users" "${duration}s" | k apply -n "$NS" -f - >/dev/null
poll 120 "lost Running" lt_running lost || { fail "lost never ran"; finish; }
counting() { (($(lt_field lost '{.status.totals.requests}') > 0)); }
poll 30 "lost counting requests" counting || fail "no totals while running"
poll 30 "10 s into the run" ran_for lost 10 || fail "lost did not run for 10 s"
victim=$(k get pods -n "$NS" -l herd.dev/loadtest=lost,herd.dev/agent-index=0 -o jsonpath='{.items[0].metadata.name}')
victim_uid=$(k get pod -n "$NS" "$victim" -o jsonpath='{.metadata.uid}')
say "deleting agent pod $victim"
k delete pod -n "$NS" "$victim" --grace-period=0 --force >/dev/null 2>&1
replaced() {
  local uid
  uid=$(k get pods -n "$NS" -l herd.dev/loadtest=lost,herd.dev/agent-index=0 \
    -o jsonpath='{.items[?(@.status.phase=="Running")].metadata.uid}')
  [[ -n $uid && $uid != "$victim_uid" ]]
}
poll 60 "a replacement agent pod Running" replaced && ok "replacement agent pod started" ||
  fail "no replacement pod for $victim"
wait_complete lost $((duration + 120)) || { fail "lost did not complete"; finish; }
[[ $PHASE == Succeeded ]] && ok "phase Succeeded" || fail "phase $PHASE ($REASON)"
count=$(target_count)
bound=$((2 * count / (duration * agents)))
missing=$((count - TOTAL))
((TOTAL > 0 && missing >= 0 && missing <= bound)) &&
  ok "totals.requests $TOTAL, nginx $count: $missing missing, bound $bound (2 s of one agent)" ||
  fail "totals.requests $TOTAL, nginx $count: $missing missing, bound $bound"
finish
