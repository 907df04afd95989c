#!/usr/bin/env bash
# The Helm chart against the fixture's real apiserver (label k8s):
#   1. kubeconform -strict of the rendered chart (both RBAC modes, every optional
#      object) with JSON schemas generated from this apiserver's OpenAPI and the
#      LoadTest CRD; a manifest with an unknown field must be refused;
#   2. kubectl apply --dry-run=server of the rendered chart (CRD included);
#   3. helm install (namespaced mode, 2 replicas; the release and watched
#      namespaces enforce the restricted Pod Security Standard) and a second release in
#      cluster-wide mode; kubectl auth can-i as each ServiceAccount: everything
#      the operator uses is allowed, a list of what it must not do is denied;
#      the generated coordinator certificate names the Service and chains to the
#      generated CA, and helm upgrade keeps both;
#   4. herd-operator run locally with the Deployment's own arguments (listen
#      addresses moved to 127.0.0.1:0; no --coordinator-advertise, as there is
#      no cluster DNS here to resolve the Service name, so agents dial the
#      bound loopback address, verifying the Service's name in the chart's
#      certificate over TLS), as the chart's ServiceAccount (a token from
#      kubectl create token) and as one of the Deployment's pods (POD_NAME):
#      it takes the Lease, labels that pod herd.dev/leader=true (the coordinator
#      Service selects it), runs the example LoadTest against a real nginx on
#      loopback to Complete with verdict Passed and totals equal to nginx's
#      access log, ignores a LoadTest in an unwatched namespace, and its
#      /metrics parses as exposition text with the documented series, whose
#      values match the LoadTest status;
#      a second process as the other pod stands by, then takes over when the
#      first stops, and the coordinator Service follows the label.
# Needs HERD_KUBECONFIG (the k8s fixture), HERD_SOURCE_DIR, HERD_OPERATOR_BIN.
set -euo pipefail
: "${HERD_KUBECONFIG:?run under ctest -L k8s (the fixture sets it)}"
src=${HERD_SOURCE_DIR:?}
operator_bin=${HERD_OPERATOR_BIN:?}
cluster_dir=$(dirname "$HERD_KUBECONFIG")
source "$cluster_dir/cluster.env"
source "$src/tests/cluster/lib/versions.sh"
export KUBECONFIG=$HERD_KUBECONFIG
k() { "$KUBECTL" "$@"; }
python3() { /usr/bin/python3 "$@"; }  # Debian's, with python3-yaml and python3-prometheus-client
helm() { "$HELM_BIN/helm" "$@"; }
chart=$src/charts/herd

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

id=$RANDOM
sys=t-herd-sys-$id; wa=t-herd-a-$id; wb=t-herd-b-$id; wc=t-herd-c-$id; csys=t-herd-csys-$id
tmp=$(mktemp -d)
export HELM_CONFIG_HOME=$tmp/helm HELM_CACHE_HOME=$tmp/helm-cache HELM_DATA_HOME=$tmp/helm-data
op_pid= op2_pid= nginx_pid=
cleanup() {
  if [[ -n $nginx_pid ]]; then  # closing its stdin stops nginx (see below)
    exec 9>&-
    wait "$nginx_pid" 2>/dev/null || true
  fi
  [[ -n $op_pid ]] && kill "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null
  [[ -n $op2_pid ]] && kill "$op2_pid" 2>/dev/null && wait "$op2_pid" 2>/dev/null
  helm uninstall herd -n "$sys" >/dev/null 2>&1 || true
  helm uninstall herdc -n "$csys" >/dev/null 2>&1 || true
  k delete namespace "$sys" "$wa" "$wb" "$wc" "$csys" --wait=false >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for n in "$sys" "$wa" "$wb" "$wc" "$csys"; do k create namespace "$n" >/dev/null; done
# The restricted Pod Security Standard, enforced by the apiserver's PodSecurity
# admission: the operator's pods (release namespace) and the agent pods it creates
# (watched namespaces) must satisfy it, or they are refused and the test fails.
k label namespace "$sys" "$wa" "$wb" pod-security.kubernetes.io/enforce=restricted >/dev/null
if out=$(k run psa-probe -n "$wa" --image=herd:0 --restart=Never --dry-run=server 2>&1); then
  fail "a pod without a restricted security context was admitted: $out"
else [[ $out == *PodSecurity* ]] && ok "PodSecurity enforces restricted" || fail "psa-probe refused otherwise: $out"; fi
ns_values=(--set "watchNamespaces={$wa,$wb}")
all_on=(--set grafanaDashboard.enabled=true --set metrics.serviceMonitor.enabled=true
        --set agent.metrics.enabled=true --set agent.metrics.podMonitor.enabled=true
        --set 'networkPolicy.metricsNamespaces={monitoring}')

# --- 1. kubeconform with local schemas --------------------------------------
mkdir -p "$tmp/schemas"
k get --raw /openapi/v2 >"$tmp/openapi.json"
python3 "$src/tests/chart/openapi_to_kubeconform.py" "$tmp/openapi.json" "$tmp/schemas" \
  core/v1/ServiceAccount core/v1/Service core/v1/ConfigMap core/v1/Secret apps/v1/Deployment \
  policy/v1/PodDisruptionBudget rbac.authorization.k8s.io/v1/Role \
  rbac.authorization.k8s.io/v1/RoleBinding rbac.authorization.k8s.io/v1/ClusterRole \
  rbac.authorization.k8s.io/v1/ClusterRoleBinding networking.k8s.io/v1/NetworkPolicy \
  apiextensions.k8s.io/v1/CustomResourceDefinition
python3 "$src/tests/chart/openapi_to_kubeconform.py" --crd "$chart/crds/loadtest.yaml" "$tmp/schemas"
conform() {
  "$KUBECONFORM_BIN/kubeconform" -strict -summary -skip ServiceMonitor,PodMonitor,Kustomization,GitRepository,Application \
    -schema-location "$tmp/schemas/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$@"
}
helm template herd "$chart" -n "$sys" --include-crds "${ns_values[@]}" "${all_on[@]}" >"$tmp/namespaced.yaml"
helm template herdc "$chart" -n "$csys" --include-crds "${all_on[@]}" >"$tmp/cluster.yaml"
for f in namespaced cluster; do
  if out=$(conform "$tmp/$f.yaml" 2>&1); then ok "kubeconform $f: $out"; else fail "kubeconform $f: $out"; fi
done
if out=$(conform "$src"/examples/gitops/*.yaml 2>&1); then ok "kubeconform examples/gitops: $out"; else fail "kubeconform examples/gitops: $out"; fi
sed 's/^  replicas:/  replicaz:/' "$tmp/cluster.yaml" >"$tmp/bad.yaml"
conform "$tmp/bad.yaml" >/dev/null 2>&1 && fail "kubeconform accepted a Deployment with an unknown field" ||
  ok "kubeconform refuses an unknown field"

# --- 2. server-side dry run -------------------------------------------------
for f in namespaced cluster; do
  # The Service/PodMonitor CRDs (Prometheus operator) are not installed here.
  python3 -c 'import sys, yaml; print("---\n".join(yaml.safe_dump(d) for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] not in ("ServiceMonitor", "PodMonitor")))' \
    "$tmp/$f.yaml" >"$tmp/$f-dry.yaml"
  if out=$(k apply --dry-run=server -f "$tmp/$f-dry.yaml" 2>&1); then
    ok "dry-run=server $f: $(grep -c 'server dry run' <<<"$out") objects"
  else fail "dry-run=server $f: $out"; fi
done

# --- 3. install and RBAC ----------------------------------------------------
grep -nE '^\s*-\s*"?\*"?\s*$|\["\*"\]' "$tmp/namespaced.yaml" "$tmp/cluster.yaml" && fail "wildcard in the rendered RBAC" ||
  ok "no wildcard verbs or resources"
notes=$(helm install herd "$chart" -n "$sys" "${ns_values[@]}" --wait=false | sed -n '/^NOTES:/,$p')
[[ $notes == *"kubectl wait --for=condition=Complete"* && $notes == *"Watching: $wa, $wb"* ]] && ok "NOTES.txt" ||
  fail "NOTES.txt: $notes"
helm install herdc "$chart" -n "$csys" --set replicaCount=1 >/dev/null
k wait --for condition=Established --timeout=60s crd/loadtests.herd.dev >/dev/null
# TLS by default: the generated CA signed a certificate for the coordinator
# Service's names, and an upgrade keeps both (agents of running LoadTests trust that CA).
tls_secret() { k get secret herd-coordinator-tls -n "$sys" -o jsonpath="{.data.${1//./\\.}}" | base64 -d; }
mkdir -p "$tmp/tls"
for f in tls.crt tls.key ca.crt; do tls_secret "$f" >"$tmp/tls/$f"; done
if out=$(openssl verify -CAfile "$tmp/tls/ca.crt" "$tmp/tls/tls.crt" 2>&1) &&
   openssl x509 -in "$tmp/tls/tls.crt" -noout -ext subjectAltName | grep -q "DNS:herd-coordinator.$sys.svc,"; then
  ok "generated coordinator certificate: $(openssl x509 -in "$tmp/tls/tls.crt" -noout -ext subjectAltName | tail -1 | xargs)"
else fail "generated coordinator certificate: $out"; fi
helm upgrade herd "$chart" -n "$sys" "${ns_values[@]}" --wait=false >/dev/null
[[ $(tls_secret tls.crt) == "$(cat "$tmp/tls/tls.crt")" && $(tls_secret ca.crt) == "$(cat "$tmp/tls/ca.crt")" ]] &&
  ok "helm upgrade kept the coordinator's CA and certificate" || fail "helm upgrade replaced the coordinator's certificate"
# The NetworkPolicy (on by default) as the apiserver stored it.
for r in "$sys/herd" "$csys/herdc"; do
  if np=$(k get networkpolicy "${r#*/}" -n "${r%/*}" -o jsonpath='{.spec.ingress[0].ports[0].port} {.spec.ingress[0].from[0].podSelector.matchLabels.app\.kubernetes\.io/component}' 2>&1) &&
     [[ $np == "coordinator agent" ]]; then ok "NetworkPolicy $r stored: coordinator port from agent pods"
  else fail "NetworkPolicy $r: $np"; fi
done
cmp -s "$chart/crds/loadtest.yaml" "$src/crds/loadtest.yaml" && ok "chart CRD identical to crds/loadtest.yaml" ||
  fail "charts/herd/crds/loadtest.yaml differs from crds/loadtest.yaml"

can() {  # can SA NS VERB RESOURCE [NAME]  -> prints yes/no
  local sa=$1 ns=$2; shift 2
  k auth can-i --as "system:serviceaccount:$sa" ${ns:+-n "$ns"} "$@" 2>/dev/null || true
}
expect() {  # expect yes|no SA NS VERB RESOURCE...
  local want=$1 sa=$2 ns=$3; shift 3
  local got; got=$(can "$sa" "$ns" "$@")
  [[ $got == "$want" ]] && ok "can-i $sa ${ns:-(cluster)} $* = $got" || fail "can-i $sa ${ns:-(cluster)} $*: want $want, got ${got:-error}"
}
# Unquoted $u below is split into words; never globbed ("* *" is the wildcard check).
set -f
sa=$sys:herd
uses=(
  "get loadtests.herd.dev" "list loadtests.herd.dev" "watch loadtests.herd.dev" "update loadtests.herd.dev --subresource=status" "update loadtests.herd.dev --subresource=finalizers"
  "list pods" "watch pods" "create pods" "delete pods"
  "get secrets" "create secrets" "delete secrets" "get configmaps" "create configmaps" "list configmaps" "delete configmaps"
  "create events" "patch events" "get namespaces"
)
must_not=(
  "update loadtests.herd.dev" "delete loadtests.herd.dev" "create loadtests.herd.dev" "patch loadtests.herd.dev"
  "list secrets" "watch secrets" "update secrets" "update pods" "patch pods" "create pods --subresource=exec" "get pods --subresource=log"
  "update configmaps" "watch configmaps" "create services" "create deployments.apps"
  "create roles.rbac.authorization.k8s.io" "create rolebindings.rbac.authorization.k8s.io" "* *"
  "list namespaces" "watch namespaces" "update namespaces" "patch namespaces"
)
for n in "$wa" "$wb"; do
  for u in "${uses[@]}"; do expect yes "$sa" "$n" $u; done
  for u in "${must_not[@]}"; do expect no "$sa" "$n" $u; done
done
for u in "${uses[@]}"; do expect no "$sa" "$wc" $u; done   # unwatched namespace
expect yes "$sa" "$sys" create leases.coordination.k8s.io
expect yes "$sa" "$sys" get leases.coordination.k8s.io/herd-operator
expect yes "$sa" "$sys" update leases.coordination.k8s.io/herd-operator
expect no "$sa" "$sys" get leases.coordination.k8s.io/other
expect no "$sa" "$sys" delete leases.coordination.k8s.io/herd-operator
expect yes "$sa" "$sys" patch pods
expect no "$sa" "$sys" create pods
expect no "$sa" "$wa" create leases.coordination.k8s.io
for u in "list pods -A" "list loadtests.herd.dev -A" "create namespaces" "create clusterroles.rbac.authorization.k8s.io" \
         "create clusterrolebindings.rbac.authorization.k8s.io" "create customresourcedefinitions.apiextensions.k8s.io" \
         "list nodes" "update nodes" "delete namespaces" "* *"; do
  expect no "$sa" "" $u
done
# Cluster-wide release: the same verbs everywhere, still nothing else.
csa=$csys:herdc
for u in "${uses[@]}"; do expect yes "$csa" "$wc" $u; done
expect yes "$csa" "" list pods -A
expect yes "$csa" "" watch loadtests.herd.dev -A
for u in "${must_not[@]}"; do expect no "$csa" "$wc" $u; done
for u in "create namespaces" "list nodes" "create clusterroles.rbac.authorization.k8s.io" \
         "create customresourcedefinitions.apiextensions.k8s.io" "list secrets -A" "* *"; do
  expect no "$csa" "" $u
done

set +f

# --- 4. the operator with the chart's arguments and ServiceAccount -----------
token=$(k create token herd -n "$sys" --duration 1h)
python3 - "$HERD_KUBECONFIG" "$tmp/sa.kubeconfig" "$token" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
cfg["users"] = [{"name": "herd-sa", "user": {"token": sys.argv[3]}}]
for c in cfg["contexts"]:
    c["context"]["user"] = "herd-sa"
yaml.safe_dump(cfg, open(sys.argv[2], "w"))
PY
# The Deployment's own arguments, listen addresses moved to loopback port 0.
# --coordinator-advertise (the coordinator Service's DNS name) is dropped: no
# cluster DNS resolves it here, so the agents dial the bound loopback address,
# and --coordinator-tls-server-name makes them verify the Service's name in the
# chart's certificate all the same. The Secret's files stand in for its mount.
mapfile -t args < <(k get deploy herd -n "$sys" -o json | python3 -c '
import json, re, sys
tls_dir, service = sys.argv[1], sys.argv[2]
spec = json.load(sys.stdin)["spec"]["template"]["spec"]
c = spec["containers"][0]
assert c["command"] == ["herd-operator"], c["command"]
assert any(a.startswith("--coordinator-advertise=") for a in c["args"]), c["args"]
mount = next(m["mountPath"] for m in c["volumeMounts"] if m["name"] == "coordinator-tls")
assert any(v["name"] == "coordinator-tls" and v["secret"]["secretName"] == "herd-coordinator-tls" for v in spec["volumes"])
assert "--coordinator-tls-ca=" + mount + "/ca.crt" in c["args"], c["args"]
for a in c["args"]:
    if not a.startswith("--coordinator-advertise="):
        a = re.sub(r"^(--(?:coordinator|metrics|health)-listen)=.*", r"\1=127.0.0.1:0", a)
        print(a.replace("=" + mount + "/", "=" + tls_dir + "/"))
print("--coordinator-tls-server-name=" + service)' "$tmp/tls" "herd-coordinator.$sys.svc")
# The ReplicaSet's two pods exist (nothing runs them here); one operator process
# acts as each.
pods=()
for _ in $(seq 100); do
  read -ra pods <<<"$(k get pods -n "$sys" -l app.kubernetes.io/instance=herd -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)"
  ((${#pods[@]} == 2)) && break
  sleep 0.2
done
((${#pods[@]} == 2)) || { fail "the Deployment did not create 2 pods: ${pods[*]}"; exit 1; }
pod=${pods[0]} pod2=${pods[1]}
label_of() { k get pod "$1" -n "$sys" -o jsonpath='{.metadata.labels.herd\.dev/leader}'; }
selected() {
  local sel; sel=$(k get svc herd-coordinator -n "$sys" -o json | python3 -c 'import json,sys; print(",".join(f"{k}={v}" for k,v in json.load(sys.stdin)["spec"]["selector"].items()))')
  k get pods -n "$sys" -l "$sel" -o jsonpath='{.items[*].metadata.name}'
}
echo "operator args: ${args[*]}"
POD_NAME=$pod POD_NAMESPACE=$sys "$operator_bin" --kubeconfig "$tmp/sa.kubeconfig" "${args[@]}" >"$tmp/operator.log" 2>&1 &
op_pid=$!
for _ in $(seq 300); do grep -qs "controller started" "$tmp/operator.log" && break; kill -0 $op_pid 2>/dev/null || break; sleep 0.1; done
grep -q "controller started" "$tmp/operator.log" && ok "operator leads and started as $sa" || { cat "$tmp/operator.log"; fail "operator did not start"; exit 1; }
grep -q "listening on 127.0.0.1:0 (port [0-9]*) with TLS" "$tmp/operator.log" && ok "the coordinator serves TLS with the chart's certificate" ||
  fail "the coordinator does not serve TLS: $(grep -m1 'listening on' "$tmp/operator.log")"
metrics_port=$(sed -n 's/.*metrics listening on port \([0-9]*\).*/\1/p' "$tmp/operator.log" | head -1)
leader=$(label_of "$pod")
[[ $leader == true ]] && ok "leader labelled its pod herd.dev/leader=true" || fail "pod label herd.dev/leader=$leader"
# The second replica stands by: it labels its pod false and does not lead.
POD_NAME=$pod2 POD_NAMESPACE=$sys "$operator_bin" --kubeconfig "$tmp/sa.kubeconfig" "${args[@]}" >"$tmp/operator2.log" 2>&1 &
op2_pid=$!
for _ in $(seq 300); do grep -qs "labelled pod $sys/$pod2 herd.dev/leader=false" "$tmp/operator2.log" && break; sleep 0.1; done
[[ $(label_of "$pod2") == false ]] && ! grep -q "leading as" "$tmp/operator2.log" && ok "standby replica labelled its pod false and waits" ||
  fail "standby: label $(label_of "$pod2"), log: $(cat "$tmp/operator2.log")"
port2=$(sed -n 's/.*metrics listening on port \([0-9]*\).*/\1/p' "$tmp/operator2.log" | head -1)
standby_metrics=$(curl -sf "http://127.0.0.1:$port2/metrics")
grep -qx "herd_operator_leader 0" <<<"$standby_metrics" && ! grep -q "^herd_loadtest_" <<<"$standby_metrics" &&
  ok "standby's /metrics: herd_operator_leader 0, no LoadTest series" || fail "standby's /metrics: $standby_metrics"
sel=$(selected)
[[ $sel == "$pod" ]] && ok "coordinator Service selects exactly the leader's pod" || fail "coordinator Service selects '$sel', leader is $pod"

# A real nginx on loopback (tests/fixtures/nginx) for the example to load; it
# stops when its stdin (fd 9 here) is closed.
mkfifo "$tmp/nginx.ctl"
/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
from nginx_server import NginxServer
with NginxServer() as nginx:
    print(nginx.url, nginx.dir, flush=True)
    sys.stdin.read()
' "$src/tests/fixtures/nginx" <"$tmp/nginx.ctl" >"$tmp/nginx.out" 2>&1 &
nginx_pid=$!
exec 9>"$tmp/nginx.ctl"
for _ in $(seq 200); do [[ -s $tmp/nginx.out ]] && break; kill -0 $nginx_pid 2>/dev/null || break; sleep 0.05; done
read -r nginx_url nginx_dir <"$tmp/nginx.out"
[[ $nginx_url == http://127.0.0.1:* ]] || { fail "nginx did not start: $(cat "$tmp/nginx.out")"; exit 1; }
nginx_lines() { [[ -f $nginx_dir/access.log ]] && wc -l <"$nginx_dir/access.log" || echo 0; }
# examples/k8s/loadtest-inline.yaml as shipped, its target moved to this nginx.
sed "s|http://127.0.0.1:8080|$nginx_url|g" "$src/examples/k8s/loadtest-inline.yaml" >"$tmp/example.yaml"
grep -q "$nginx_url" "$tmp/example.yaml" || fail "the example's target was not replaced"
k apply -n "$wa" -f "$tmp/example.yaml" >/dev/null
k apply -n "$wc" -f "$tmp/example.yaml" >/dev/null
started=$SECONDS
if k wait -n "$wa" --for=condition=Complete lt/shop-smoke --timeout=120s >/dev/null; then
  ok "example LoadTest Complete in $((SECONDS - started))s: $(k get lt shop-smoke -n "$wa" -o jsonpath='phase={.status.phase} verdict={.status.verdict} requests={.status.totals.requests} failures={.status.totals.failures}')"
else fail "example LoadTest not Complete: $(k get lt shop-smoke -n "$wa" -o jsonpath='{.status}')"; fi
verdict=$(k get lt shop-smoke -n "$wa" -o jsonpath='{.status.verdict}')
[[ $verdict == Passed ]] && ok "example's verdict Passed" ||
  fail "example's verdict '$verdict': $(k get lt shop-smoke -n "$wa" -o jsonpath='{.status}')"
# Conservation: the status counts exactly the requests nginx logged (nginx
# writes a line when a response is done, so the count may lag briefly).
requests=$(k get lt shop-smoke -n "$wa" -o jsonpath='{.status.totals.requests}')
for _ in $(seq 100); do (($(nginx_lines) >= ${requests:-0})) && break; sleep 0.05; done
logged=$(nginx_lines)
[[ ${requests:-0} -gt 0 && $logged -eq $requests ]] && ok "status totals $requests requests = nginx's access log $logged" ||
  fail "status totals ${requests:-none} requests, nginx logged $logged"
# docs/gitops.md's CI recipe: a new run by annotation, wait for it, verdict as exit code.
first_run=$(k get lt shop-smoke -n "$wa" -o jsonpath='{.status.runId}')
k annotate -n "$wa" lt/shop-smoke herd.dev/run=ci-42 --overwrite >/dev/null
if k wait -n "$wa" lt/shop-smoke --for=jsonpath='{.status.runTrigger}'=ci-42 --timeout=60s >/dev/null &&
   k wait -n "$wa" lt/shop-smoke --for=condition=Complete --timeout=120s >/dev/null; then
  second_run=$(k get lt shop-smoke -n "$wa" -o jsonpath='{.status.runId}')
  [[ $second_run != "$first_run" ]] && ok "annotation started run $second_run after $first_run; Complete" ||
    fail "annotation did not start a new run ($second_run)"
else fail "CI recipe: the annotated run did not complete: $(k get lt shop-smoke -n "$wa" -o jsonpath='{.status}')"; fi
passed=0; k wait -n "$wa" lt/shop-smoke --for=condition=ThresholdsPassed --timeout=0 >/dev/null 2>&1 || passed=$?
verdict=$(k get lt shop-smoke -n "$wa" -o jsonpath='{.status.verdict}')
if [[ $verdict == Passed ]]; then ((passed == 0)) && ok "wait ThresholdsPassed exits 0 on Passed" || fail "wait ThresholdsPassed exit $passed on Passed"
else ((passed != 0)) && ok "wait ThresholdsPassed exits $passed on verdict $verdict" || fail "wait ThresholdsPassed exit 0 on verdict $verdict"; fi
[[ -z $(k get lt shop-smoke -n "$wc" -o jsonpath='{.status.phase}') ]] && ok "LoadTest in unwatched $wc left alone" ||
  fail "LoadTest in unwatched namespace got a status"
grep -i "forbidden" "$tmp/operator.log" && fail "operator hit a forbidden request" || ok "no forbidden request in the operator log"

status_json=$(k get lt shop-smoke -n "$wa" -o json)
if out=$(curl -sf "http://127.0.0.1:$metrics_port/metrics" | python3 "$src/tests/chart/check_metrics.py" "$wa" shop-smoke <(echo "$status_json") 2>&1); then
  ok "metrics: $out"
else fail "metrics: $out"; fi

# The Argo CD health check on the statuses the operator really wrote.
k get lt shop-smoke -n "$wa" -o json >"$tmp/lt-a.json"
k get lt shop-smoke -n "$wc" -o json >"$tmp/lt-c.json"
want=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["status"]; print("Healthy" if s.get("verdict") == "Passed" else "Degraded")' "$tmp/lt-a.json")
got=$(python3 "$src/tests/chart/argocd_health.py" "$src/examples/gitops/argocd-health.lua" "$tmp/lt-a.json")
[[ $got == "$want"$'\t'* ]] && ok "Argo CD health of the finished run: $got" || fail "Argo CD health $got, want $want"
got=$(python3 "$src/tests/chart/argocd_health.py" "$src/examples/gitops/argocd-health.lua" "$tmp/lt-c.json")
[[ $got == Progressing$'\t'* ]] && ok "Argo CD health of the unreconciled LoadTest: $got" || fail "Argo CD health $got, want Progressing"

kill -TERM $op_pid; rc=0; wait $op_pid || rc=$?; op_pid=
((rc == 0)) && ok "operator stopped by SIGTERM with 0" || fail "operator exit code $rc"
# Hand-over: the stopped leader released the Lease and unlabelled its pod; the
# standby takes over and the Service follows it.
for _ in $(seq 300); do grep -qs "controller started" "$tmp/operator2.log" && break; sleep 0.1; done
grep -q "controller started" "$tmp/operator2.log" && ok "standby took over" || fail "standby did not take over: $(cat "$tmp/operator2.log")"
[[ $(label_of "$pod") == false && $(label_of "$pod2") == true ]] && ok "labels moved: $pod false, $pod2 true" ||
  fail "labels after hand-over: $pod=$(label_of "$pod") $pod2=$(label_of "$pod2")"
sel=$(selected)
[[ $sel == "$pod2" ]] && ok "coordinator Service follows the new leader" || fail "coordinator Service selects '$sel' after hand-over"
kill -TERM $op2_pid; rc=0; wait $op2_pid || rc=$?; op2_pid=
((rc == 0)) && ok "standby-turned-leader stopped with 0" || fail "second operator exit code $rc"
echo "$failures failures"
((failures == 0))
