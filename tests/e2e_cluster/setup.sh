#!/usr/bin/env bash
# The e2e-cluster fixture: tests/e2e_cluster/setup.sh DIR
#   1. tests/cluster/up --node DIR (after down DIR: a killed run may have left one);
#   2. the herd, target and pause images from scripts/build-image --cached (built
#      when their inputs changed; scripts/test builds them before the tests run),
#      imported with tests/cluster/load-image;
#   3. helm install of charts/herd into herd-system (restricted Pod Security):
#      the built image with pullPolicy Never, two replicas, leader election;
#      waits for both operator pods and for one of them to hold the Lease.
# Timings go to stdout (ctest -V shows them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
dir=${1:?usage: setup.sh DIR}
source "$src/tests/cluster/lib/versions.sh"
t0=$SECONDS
"$src/tests/cluster/down" "$dir"
"$src/tests/cluster/up" --node "$dir"
t1=$SECONDS
mapfile -t archives < <("$src/scripts/build-image" --cached herd target)
t2=$SECONDS
"$src/tests/cluster/load-image" "$dir" "${archives[@]}"
t3=$SECONDS

export KUBECONFIG=$dir/kubeconfig
k() { "$K8S_BIN/kubectl" --request-timeout 20s "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HELM_CONFIG_HOME=$tmp/config HELM_CACHE_HOME=$tmp/cache HELM_DATA_HOME=$tmp/data
k create namespace herd-system >/dev/null
k label namespace herd-system pod-security.kubernetes.io/enforce=restricted >/dev/null
"$HELM_BIN/helm" install herd "$src/charts/herd" -n herd-system \
  --set image.repository=localhost/herd --set image.tag=e2e --set image.pullPolicy=Never \
  --set replicaCount=2 --set leaderElection.enabled=true --set operator.logLevel=debug \
  --wait --timeout 120s >/dev/null
leader() { k get pods -n herd-system -l herd.dev/leader=true -o name | grep -q pod/; }
for _ in $(seq 120); do leader && break; sleep 0.5; done
leader || { echo "setup: no operator pod took the Lease" >&2; k get pods -A -o wide >&2; exit 1; }
t4=$SECONDS
echo "setup: node up $((t1 - t0))s, images $((t2 - t1))s, import $((t3 - t2))s, chart ready $((t4 - t3))s"
k get pods -A -o wide
