#!/usr/bin/env bash
# The LoadTest CRD (crds/loadtest.yaml) against the fixture's real apiserver:
#   - it installs and becomes Established; `kubectl explain lt.spec` teaches it;
#   - every sample in examples/k8s/ is accepted (and validates with kubeconform
#     against the CRD's own schema);
#   - every manifest in tests/manifests/invalid/ is refused by `kubectl apply`
#     itself, with the message its first line announces (`# expect: ...`);
#   - the printer columns show in `kubectl get lt`; `kubectl scale` sets spec.agents.
# Needs HERD_KUBECONFIG (the k8s fixture) and HERD_SOURCE_DIR.
set -euo pipefail
: "${HERD_KUBECONFIG:?run under ctest -L k8s (the fixture sets it)}"
src=${HERD_SOURCE_DIR:?}
cluster_dir=$(dirname "$HERD_KUBECONFIG")
source "$cluster_dir/cluster.env"
source "$src/tests/cluster/lib/versions.sh"
export KUBECONFIG=$HERD_KUBECONFIG
k() { "$KUBECTL" "$@"; }

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

ns=t-crd-$RANDOM
k create namespace "$ns" >/dev/null
trap 'k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
tmp=$(mktemp -d)

k apply -f "$src/crds/loadtest.yaml" >/dev/null
k wait --for condition=Established --timeout=60s crd/loadtests.herd.dev >/dev/null
# Discovery may lag Established by a moment; explain needs it.
for _ in $(seq 50); do k explain lt.spec >/dev/null 2>&1 && break; sleep 0.2; done

explain=$(k explain lt.spec.agentLossPolicy)
[[ $explain == *"Rebalance replaces the pod"* ]] && ok "explain lt.spec.agentLossPolicy" ||
  fail "kubectl explain lacks the description: $explain"
explain=$(k explain lt.spec.schedule)
[[ $explain == *"cron"*"-required-"* && $explain == *"concurrencyPolicy"* ]] && ok "explain lt.spec.schedule" ||
  fail "kubectl explain lt.spec.schedule: $explain"

for f in "$src"/examples/k8s/*.yaml; do
  if out=$(k apply -n "$ns" -f "$f" 2>&1); then ok "sample accepted: ${f##*/}"
  else fail "sample ${f##*/} refused: $out"; fi
done

n=0
for f in "$src"/tests/manifests/invalid/*.yaml; do
  n=$((n + 1))
  expect=$(sed -n '1s/^# expect: //p' "$f")
  [[ -n $expect ]] || { fail "${f##*/} has no '# expect:' first line"; continue; }
  if out=$(k apply -n "$ns" -f "$f" 2>&1); then
    fail "${f##*/} was accepted: $out"
  elif [[ $out != *"$expect"* ]]; then
    fail "${f##*/}: expected '$expect' in: $out"
  else ok "refused: ${f##*/}"; fi
done
((n >= 10)) || fail "only $n invalid manifests"
[[ -z $(k get lt -n "$ns" bad --ignore-not-found -o name) ]] || fail "an invalid LoadTest exists"

# No `| head` here: under pipefail kubectl's SIGPIPE would end the script.
table=$(k get lt -n "$ns")
header=${table%%$'\n'*}
for col in NAME PHASE USERS AGENTS RPS P95 ERRORS% VERDICT AGE; do
  [[ $header == *"$col"* ]] || fail "kubectl get lt lacks column $col: $header"
done

# The scale subresource writes spec.agents; with usersPerAgent the CEL rule refuses it.
k scale -n "$ns" lt/shop-smoke --replicas 5 >/dev/null
agents=$(k get lt -n "$ns" shop-smoke -o jsonpath='{.spec.agents}')
[[ $agents == 5 ]] && ok "kubectl scale sets spec.agents" || fail "after scale, spec.agents=$agents"
if out=$(k scale -n "$ns" lt/shop-configmap --replicas 3 2>&1); then
  fail "scale of a usersPerAgent LoadTest accepted"
else [[ $out == *"set either agents or usersPerAgent"* ]] || fail "scale refused oddly: $out"; fi

# kubeconform with a JSON schema generated from the CRD (strict: unknown keys fail).
python3 - "$src/crds/loadtest.yaml" "$tmp/loadtest_v1alpha1.json" <<'PY'
import json, sys, yaml
crd = yaml.safe_load(open(sys.argv[1]))
schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
def strict(s):
    if isinstance(s, dict):
        s.pop("x-kubernetes-validations", None)
        if s.get("type") == "object" and "properties" in s and not s.get("x-kubernetes-preserve-unknown-fields"):
            s.setdefault("additionalProperties", False)
        for v in list(s.values()): strict(v)
    elif isinstance(s, list):
        for v in s: strict(v)
strict(schema)
schema["properties"]["metadata"] = {"type": "object"}
json.dump(schema, open(sys.argv[2], "w"))
PY
if out=$("$KUBECONFORM_BIN/kubeconform" -strict -summary -skip ConfigMap \
    -schema-location "$tmp/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" "$src"/examples/k8s/*.yaml 2>&1); then
  ok "kubeconform: $out"
else fail "kubeconform: $out"; fi
if "$KUBECONFORM_BIN/kubeconform" -strict -skip ConfigMap \
    -schema-location "$tmp/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json" \
    "$src/tests/manifests/invalid/15-unknown-field.yaml" >/dev/null 2>&1; then
  fail "kubeconform accepted an unknown field"
fi

echo "$n invalid manifests checked, $failures failures"
((failures == 0))
