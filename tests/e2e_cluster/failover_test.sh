#!/usr/bin/env bash
# Operator failover mid-run on the real node: failover_test.sh kill|restart
#   kill     the leading operator pod is killed (kubectl delete pod
#            --grace-period=0 --force) 15 s into a 60 s run, while the standby
#            has been up for more than 2 minutes (longer than an operator holds
#            unknown runs after it starts). The node is cordoned first, so the
#            Deployment's replacement pod cannot start and race the standby
#            for the Lease: the standby must take over;
#   restart  kubectl rollout restart of the operator 15 s into a 60 s run.
# Either way another pod takes the Lease, the agents re-attach to it through the
# coordinator Service, no agent pod fails, the run completes Passed and
# status.totals.requests equals nginx's count.
source "$(dirname "$0")/lib.sh"
mode=${1:?usage: failover_test.sh kill|restart}
test_namespace "e2e-fo-$mode"
op() { k get pods -n "$RELEASE_NS" -l app.kubernetes.io/name=herd "$@"; }
leader() { k get pods -n "$RELEASE_NS" -l herd.dev/leader=true -o jsonpath='{.items[0].metadata.name}'; }
# standby_age: seconds since the oldest non-leading operator container started.
standby_age() {
  local l t oldest=
  l=$(leader)
  while read -r name t; do
    [[ $name == "$l" || -z $t ]] && continue
    t=$(date -d "$t" +%s)
    [[ -z $oldest || $t -lt $oldest ]] && oldest=$t
  done < <(op -o jsonpath='{range .items[*]}{.metadata.name} {.status.containerStatuses[0].state.running.startedAt}{"\n"}{end}')
  [[ -n $oldest ]] && echo $(($(date +%s) - oldest))
}
standby_old() { local a; a=$(standby_age) && ((a > 125)); }
if [[ $mode == kill ]]; then
  poll 200 "the standby operator up for more than 2 minutes" standby_old ||
    { fail "no standby operator older than 2 minutes"; finish; }
  say "standby up $(standby_age)s"
fi

loadtest "fo-$mode" 20 60s | k apply -n "$NS" -f - >/dev/null
lt=fo-$mode
poll 120 "$lt Running" lt_running "$lt" || { fail "$lt never ran"; finish; }
poll 30 "15 s into the run" ran_for "$lt" 15 || fail "$lt did not run for 15 s"
before=$(lt_field "$lt" '{.status.totals.requests}')
old=$(leader)
standby=$(op -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | grep -vx "$old" | head -1)
case $mode in
  kill) trap 'k uncordon herd-node >/dev/null 2>&1 || true; on_exit' EXIT
        k cordon herd-node >/dev/null
        say "killing the leader $old (standby $standby)"
        k delete pod -n "$RELEASE_NS" "$old" --grace-period=0 --force >/dev/null 2>&1 ;;
  restart) say "rollout restart (leader $old)"
        k rollout restart -n "$RELEASE_NS" deploy/herd >/dev/null ;;
esac
new_leader() { local l; l=$(leader) && [[ -n $l && $l != "$old" ]]; }
poll 60 "a new leader" new_leader && ok "$(leader) took the Lease from $old" || fail "no new leader after $old"
if [[ $mode == kill ]]; then
  [[ $(leader) == "$standby" ]] && ok "the standby took over" || fail "$(leader) took over, not the standby $standby"
fi
wait_complete "$lt" 300 || { fail "$lt did not complete"; finish; }
[[ $PHASE == Succeeded ]] && ok "phase Succeeded" || fail "phase $PHASE ($REASON)"
[[ $VERDICT == Passed ]] && ok "verdict Passed" || fail "verdict $VERDICT ($REASON)"
lost=$(lt_field "$lt" '{.status.lostAgents}')
[[ -z $lost || $lost == "[]" ]] && ok "no agent lost" || fail "agents lost: $lost"
count=$(target_count)
((TOTAL > before)) && [[ $TOTAL == "$count" ]] && ok "totals.requests $TOTAL == nginx's $count" ||
  fail "totals.requests $TOTAL, nginx logged $count (before the failover: $before)"
[[ $mode == kill ]] && k uncordon herd-node >/dev/null
# The next test (or run) starts with both operator replicas up again.
poll 120 "operator rollout done" k rollout status -n "$RELEASE_NS" deploy/herd --timeout 5s ||
  fail "the operator Deployment did not recover"
finish
