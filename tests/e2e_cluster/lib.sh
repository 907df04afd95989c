# Shared by the e2e-cluster tests (sourced). The fixture (setup.sh) has started
# a real node, loaded the images and installed the chart; HERD_E2E_DIR is its
# cluster directory. Each test works in a namespace of its own that enforces the
# restricted Pod Security Standard, with its own target, and removes it at exit.
set -euo pipefail
: "${HERD_E2E_DIR:?run under ctest -L e2e-cluster (the fixture sets it)}"
e2e_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$e2e_here/../.." && pwd)
source "$HERD_E2E_DIR/cluster.env"
export KUBECONFIG=$HERD_E2E_DIR/kubeconfig
RELEASE_NS=herd-system
k() { "$KUBECTL" --request-timeout 20s "$@"; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
say() { echo "[$(date +%T)] $*"; }
finish() { ((failures == 0)) || { echo "$failures failure(s)" >&2; exit 1; }; }

# poll SECONDS WHAT CMD...: CMD every 0.5 s until it succeeds; false after SECONDS.
poll() {
  local limit=$1 what=$2 deadline; shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "timed out after ${limit}s: $what" >&2; return 1; }
    sleep 0.5
  done
}

# test_namespace NAME: a fresh namespace enforcing restricted, deleted at exit
# (with what the test left in it), and the target deployed in it.
test_namespace() {
  NS=$1-$RANDOM
  trap 'on_exit' EXIT
  k create namespace "$NS" >/dev/null
  k label namespace "$NS" pod-security.kubernetes.io/enforce=restricted >/dev/null
  k apply -n "$NS" -f "$e2e_here/target.yaml" >/dev/null
  poll 60 "target ready in $NS" k rollout status -n "$NS" deploy/target --timeout 5s
  # A Ready pod is not yet a routed Service, and agents check the target (a
  # name lookup and a TCP connect, once) when they join. Wait for each step of
  # that path: the EndpointSlice lists the pod as ready (what kube-proxy
  # programs from), the name resolves inside a pod (cluster DNS, the pods'
  # search path), and a TCP connect to the ClusterIP succeeds (no request, so
  # nothing in the access log) three times in a row, kube-proxy's rules in place.
  poll 30 "target's EndpointSlice ready" target_endpoint_ready
  poll 30 "target.$NS.svc resolves in a pod" k exec -n "$NS" deploy/target -- getent hosts "target.$NS.svc"
  local ip
  ip=$(k get svc -n "$NS" target -o jsonpath='{.spec.clusterIP}')
  poll 30 "Service target routed" target_routed "$ip"
}
target_endpoint_ready() {
  [[ " $(k get endpointslices -n "$NS" -l kubernetes.io/service-name=target \
          -o jsonpath='{.items[*].endpoints[*].conditions.ready}') " == *" true "* ]]
}
target_routed() {
  local i
  for i in 1 2 3; do
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/8080" || return 1
    sleep 0.2
  done
}
on_exit() {
  if ((failures)) || [[ ${KEEP:-} ]]; then
    k get lt,pods -n "$NS" -o wide >&2 || true
    k get lt -n "$NS" -o yaml >&2 || true
    k get events -n "$NS" --sort-by=.lastTimestamp >&2 || true
    # The agents' own words (an exited container's log stays until its pod goes).
    for p in $(k get pods -n "$NS" -l herd.dev/loadtest -o name); do
      echo "--- $p" >&2; k logs -n "$NS" "$p" --tail 40 >&2 || true
    done
    for p in $(k get pods -n "$RELEASE_NS" -o name); do
      echo "--- $p" >&2; k logs -n "$RELEASE_NS" "$p" --tail 60 >&2 || true
    done
  fi
  k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}

# loadtest NAME USERS DURATION [EXTRA-SPEC-YAML]: examples/k8s/loadtest-service.yaml
# renamed, pointed at this namespace's target, with the given load.
loadtest() {
  local name=$1 users=$2 duration=$3 extra=${4:-}
  sed -e "s/name: shop-service/name: $name/" -e "s/target\.shop\.svc/target.$NS.svc/" \
      -e "s/users: 20, spawnRate: 20, duration: 20s/users: $users, spawnRate: $users, duration: $duration/" \
      "$src/examples/k8s/loadtest-service.yaml"
  [[ -z $extra ]] || printf '%s\n' "$extra" | sed 's/^/  /'
}

lt_field() { k get lt -n "$NS" "$1" -o "jsonpath=$2"; }
lt_phase() { lt_field "$1" '{.status.phase}'; }
lt_done() { [[ $(lt_field "$1" '{.status.conditions[?(@.type=="Complete")].status}') == True ]]; }
lt_running() { [[ $(lt_phase "$1") == Running ]]; }
# ran_for NAME SECONDS: the run has been Running for SECONDS (its Running
# condition's transition time, by the apiserver's clock = this machine's).
ran_for() {
  local since
  since=$(lt_field "$1" '{.status.conditions[?(@.type=="Running")].lastTransitionTime}')
  [[ $(lt_phase "$1") == Running && -n $since ]] && (($(date +%s) - $(date -d "$since" +%s) >= $2))
}
agent_pods() { k get pods -n "$NS" -l "herd.dev/loadtest=$1" -o name; }

# target_count: requests nginx logged, once the count is stable (its access log
# is buffered for at most a second).
target_count() {
  local last=-1 n i
  for i in $(seq 20); do
    n=$(k exec -n "$NS" deploy/target -- bash -c 'wc -l </var/log/target/access.log')
    [[ $n == "$last" ]] && { echo "$n"; return 0; }
    last=$n
    sleep 1.5
  done
  echo "target count not stable: $last" >&2
  return 1
}

# wait_complete NAME SECONDS: the run's Complete condition, then its fields.
wait_complete() {
  poll "$2" "LoadTest $1 Complete" lt_done "$1" || return 1
  PHASE=$(lt_phase "$1")
  VERDICT=$(lt_field "$1" '{.status.verdict}')
  REASON=$(lt_field "$1" '{.status.reason}')
  TOTAL=$(lt_field "$1" '{.status.totals.requests}')
  say "$1: phase $PHASE, verdict $VERDICT, reason $REASON, totals.requests $TOTAL"
}
