#!/usr/bin/env bash
# The Helm chart without a cluster: helm lint in every mode, the CRD identical
# to crds/, values.schema.json refusing bad values, the template refusing
# several replicas without leader election, no wildcard in any rendered RBAC, the
# coordinator's TLS from each source (generated, cert-manager, existing Secret) or off.
# Needs HERD_SOURCE_DIR; helm comes from tests/cluster/build-tools' cache.
set -euo pipefail
src=${HERD_SOURCE_DIR:?}
source "$src/tests/cluster/lib/versions.sh"
"$src/tests/cluster/build-tools" >/dev/null
helm() { "$HELM_BIN/helm" "$@"; }
chart=$src/charts/herd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HELM_CONFIG_HOME=$tmp/helm HELM_CACHE_HOME=$tmp/helm-cache HELM_DATA_HOME=$tmp/helm-data

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

cmp -s "$chart/crds/loadtest.yaml" "$src/crds/loadtest.yaml" && ok "chart CRD identical to crds/loadtest.yaml" ||
  fail "charts/herd/crds/loadtest.yaml differs from crds/loadtest.yaml: cp crds/loadtest.yaml charts/herd/crds/"

modes=(
  "defaults|"
  "namespaced|--set watchNamespaces={perf,qa}"
  "single replica without leader election|--set replicaCount=1 --set leaderElection.enabled=false"
  "everything optional on|--set grafanaDashboard.enabled=true --set metrics.serviceMonitor.enabled=true --set podDisruptionBudget.enabled=true"
  "existing service account|--set serviceAccount.create=false --set serviceAccount.name=ops"
  "agent metrics with a PodMonitor|--set agent.metrics.enabled=true --set agent.metrics.podMonitor.enabled=true"
  "coordinator TLS from cert-manager|--set coordinator.tls.source=certManager --set coordinator.tls.certManager.issuerRef.name=ca"
  "coordinator TLS from an existing Secret|--set coordinator.tls.source=existingSecret --set coordinator.tls.existingSecret=mine"
  "coordinator plaintext|--set coordinator.tls.enabled=false"
  "guardrails set|--set guardrails.maxUsers=50 --set guardrails.maxDuration=10m --set guardrails.maxRate=2.5 --set guardrails.allowedHosts={*.perf.svc} --set guardrails.allowServiceAccount=true"
  "no NetworkPolicy|--set networkPolicy.enabled=false"
  "NetworkPolicy with metrics namespaces|--set networkPolicy.metricsNamespaces={monitoring}"
)
for m in "${modes[@]}"; do
  name=${m%%|*}; read -ra args <<<"${m#*|}"
  if out=$(helm lint --strict "$chart" "${args[@]}" 2>&1); then ok "helm lint --strict: $name"; else fail "helm lint $name: $out"; fi
  out=$(helm template t "$chart" -n herd "${args[@]}")
  grep -nE '"\*"' <<<"$out" && fail "wildcard in the rendered chart ($name)"
done

refuse() {  # refuse WHY PATTERN ARGS...: helm template must fail, naming PATTERN
  local why=$1 pattern=$2; shift 2
  if out=$(helm template t "$chart" "$@" 2>&1); then fail "accepted $why"
  elif grep -q -- "$pattern" <<<"$out"; then ok "refuses $why"
  else fail "refused $why without naming '$pattern': $out"; fi
}
refuse "2 replicas without leader election" "needs leaderElection.enabled" --set leaderElection.enabled=false
refuse "replicaCount 0" "replicaCount" --set replicaCount=0
refuse "an unknown log level" "logLevel" --set operator.logLevel=verbose
refuse "an unknown top-level key" "replica" --set replica=3
refuse "a port out of range" "port" --set metrics.port=70000
refuse "an agent metrics port out of range" "port" --set agent.metrics.port=0
refuse "a namespace that is not a DNS label" "watchNamespaces" --set 'watchNamespaces={Perf_1}'
refuse "an unknown TLS source" "source" --set coordinator.tls.source=acme
refuse "cert-manager TLS without an issuer" "issuerRef.name" --set coordinator.tls.source=certManager
refuse "an existing-Secret TLS without its name" "existingSecret" --set coordinator.tls.source=existingSecret

# The coordinator's TLS: on by default with a generated CA and certificate for the
# Service's names; cert-manager and an existing Secret mount theirs; plaintext
# only when asked, and then the operator is told so (--coordinator-insecure).
tls_mode() { helm template t "$chart" -n herd "$@" >"$tmp/tls.yaml"; python3 - "$tmp/tls.yaml" "${mode_check:?}"; }
tls_check='
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
spec = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
args = spec["containers"][0]["args"]
secrets = [d for d in docs if d["kind"] == "Secret"]
certs = [d for d in docs if d["kind"] == "Certificate"]
volume = next((v["secret"]["secretName"] for v in spec.get("volumes", []) if v["name"] == "coordinator-tls"), None)
tls_args = [a for a in args if a.startswith("--coordinator-tls-")]
'
mode_check="$tls_check
import base64, subprocess
assert volume == 't-herd-coordinator-tls' and '--coordinator-insecure' not in args, args
assert tls_args == ['--coordinator-tls-cert=/etc/herd/coordinator-tls/tls.crt', '--coordinator-tls-key=/etc/herd/coordinator-tls/tls.key', '--coordinator-tls-ca=/etc/herd/coordinator-tls/ca.crt'], tls_args
(secret,) = secrets
assert secret['type'] == 'kubernetes.io/tls' and sorted(secret['data']) == ['ca.crt', 'tls.crt', 'tls.key'], secret
crt = base64.b64decode(secret['data']['tls.crt'])
san = subprocess.run(['openssl', 'x509', '-noout', '-ext', 'subjectAltName'], input=crt, capture_output=True, check=True).stdout.decode()
for name in ['t-herd-coordinator', 't-herd-coordinator.herd', 't-herd-coordinator.herd.svc', 't-herd-coordinator.herd.svc.cluster.local']:
    assert 'DNS:' + name + ',' in san + ',', san
" tls_mode && ok "TLS by default: generated Secret for the Service's names, mounted, operator flags" || fail "default TLS rendering"
mode_check="$tls_check
assert not secrets and volume == 't-herd-coordinator-tls' and len(tls_args) == 3, (secrets, volume, args)
(cert,) = certs
assert cert['spec']['secretName'] == 't-herd-coordinator-tls' and cert['spec']['issuerRef']['name'] == 'ca', cert
assert 't-herd-coordinator.herd.svc' in cert['spec']['dnsNames'], cert
" tls_mode --set coordinator.tls.source=certManager --set coordinator.tls.certManager.issuerRef.name=ca &&
  ok "TLS from a cert-manager Certificate" || fail "cert-manager TLS rendering"
mode_check="$tls_check
assert not secrets and not certs and volume == 'mine' and len(tls_args) == 3, (secrets, volume, args)
" tls_mode --set coordinator.tls.source=existingSecret --set coordinator.tls.existingSecret=mine &&
  ok "TLS from an existing Secret" || fail "existing-Secret TLS rendering"
mode_check="$tls_check
assert not secrets and not certs and volume is None and not tls_args and '--coordinator-insecure' in args, args
" tls_mode --set coordinator.tls.enabled=false && ok "plaintext only when asked: --coordinator-insecure" ||
  fail "plaintext rendering"
refuse "a negative user limit" "maxUsers" --set guardrails.maxUsers=-1
refuse "a duration limit that is not a duration" "maxDuration" --set guardrails.maxDuration=forever
refuse "a host list in one string" "allowedHosts" --set 'guardrails.allowedHosts[0]=a.svc\,b.svc'
refuse "a metrics namespace that is not a DNS label" "metricsNamespaces" --set 'networkPolicy.metricsNamespaces={Mon_1}'

# Guardrails: every value becomes its herd-operator flag; the yes/no rules are
# always passed (their default is no). NetworkPolicy: on by default, coordinator
# port from agent pods only (in the watched namespaces when there is a list),
# metrics from the listed namespaces only, none when disabled.
helm template t "$chart" -n herd --set guardrails.maxUsers=50 --set guardrails.maxAgents=4 \
  --set guardrails.maxDuration=10m --set guardrails.maxRate=2.5 --set 'guardrails.allowedHosts={*.perf.svc,10.0.0.0/8}' \
  --set 'guardrails.allowedImages={registry.example/herd:}' --set guardrails.allowSecretEnv=true \
  --set 'watchNamespaces={perf}' --set 'networkPolicy.metricsNamespaces={monitoring}' >"$tmp/guarded.yaml"
helm template t "$chart" -n herd >"$tmp/defaults.yaml"
helm template t "$chart" -n herd --set networkPolicy.enabled=false >"$tmp/no-np.yaml"
python3 - "$tmp/guarded.yaml" "$tmp/defaults.yaml" "$tmp/no-np.yaml" <<'PY' && ok "guardrail flags and NetworkPolicy rendering" || fail "guardrails/NetworkPolicy rendering"
import sys, yaml
def load(path): return [d for d in yaml.safe_load_all(open(path)) if d]
def args(docs): return next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
guarded, defaults, no_np = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
want = ["--max-users=50", "--max-agents=4", "--max-duration=10m", "--max-rate=2.5", "--allow-host=*.perf.svc",
        "--allow-host=10.0.0.0/8", "--allow-image=registry.example/herd:", "--allow-service-account=false",
        "--allow-priority-class=false", "--allow-secret-env=true"]
assert [a for a in args(guarded) if a in want] == want, args(guarded)
assert not [a for a in args(defaults) if a.startswith(("--max-", "--allow-host", "--allow-image"))], args(defaults)
assert "--allow-service-account=false" in args(defaults), args(defaults)
[np] = [d for d in guarded if d["kind"] == "NetworkPolicy"]
coord, metrics = np["spec"]["ingress"]
assert np["spec"]["policyTypes"] == ["Ingress"]
assert coord["ports"] == [{"port": "coordinator", "protocol": "TCP"}]
assert coord["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "herd", "app.kubernetes.io/component": "agent",
                                                          "app.kubernetes.io/managed-by": "herd-operator"}},
                          "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                                                      "values": ["perf"]}]}}], coord["from"]
assert metrics["ports"] == [{"port": "metrics", "protocol": "TCP"}]
assert metrics["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == ["monitoring"]
[np] = [d for d in defaults if d["kind"] == "NetworkPolicy"]
assert len(np["spec"]["ingress"]) == 1 and np["spec"]["ingress"][0]["from"][0]["namespaceSelector"] == {}, np
assert not [d for d in no_np if d["kind"] == "NetworkPolicy"]
PY

# Agent metrics: off by default; on, the operator gets --agent-metrics-port and
# the PodMonitor selects the agent pods the operator labels, in the watched namespaces.
out=$(helm template t "$chart" -n herd)
if grep -qE -- "--agent-metrics-port|kind: PodMonitor" <<<"$out"; then fail "agent metrics on by default"
else ok "agent metrics off by default"; fi
helm template t "$chart" -n herd --set agent.metrics.enabled=true --set agent.metrics.port=9555 \
  --set agent.metrics.podMonitor.enabled=true --set 'watchNamespaces={perf}' >"$tmp/agent-metrics.yaml"
python3 - "$tmp/agent-metrics.yaml" <<'PY' && ok "agent metrics: operator flag and PodMonitor" || fail "agent metrics rendering"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
deploy = next(d for d in docs if d["kind"] == "Deployment")
args = deploy["spec"]["template"]["spec"]["containers"][0]["args"]
assert "--agent-metrics-port=9555" in args, args
pm = next(d for d in docs if d["kind"] == "PodMonitor")
assert pm["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "herd", "app.kubernetes.io/component": "agent",
                                                 "app.kubernetes.io/managed-by": "herd-operator"}, pm["spec"]["selector"]
assert pm["spec"]["namespaceSelector"] == {"matchNames": ["perf"]}, pm["spec"]["namespaceSelector"]
assert pm["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
PY

# The dashboard is valid JSON and queries only documented series.
python3 - "$chart/dashboards/herd.json" "$src/docs/install.md" <<'PY' && ok "dashboard queries documented series" || fail "dashboard"
import json, re, sys
d = json.load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()
used = {m for p in d["panels"] for t in p["targets"] for m in re.findall(r"herd_[a-z0-9_]+", t["expr"])}
# A histogram's series (NAME_bucket, _sum, _count) are documented under NAME.
documented = lambda u: f"`{u}`" in doc or f"`{re.sub(r'_(bucket|sum|count)$', '', u)}` | histogram" in doc
missing = sorted(u for u in used if not documented(u))
sys.exit(f"undocumented in docs/install.md: {missing}" if missing else 0)
PY
echo "$failures failures"
((failures == 0))
