# Starting and stopping the pieces of one test cluster. Sourced by up, down and
# ctl after lib/versions.sh. State lives in the cluster directory:
#   DIR/cluster.env     ports and URLs (sourced again by down and ctl)
#   DIR/run/NAME.pid    one pid per process we started
#   DIR/logs/NAME.log   its stdout and stderr

# A free loopback port. Ports are picked at random in a range that kernels do not
# hand out as ephemeral ports, and checked with ss; a race with another process is
# possible but then the component fails to bind and `up` reports it.
free_port() {
  local p taken=" ${*} "
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    [[ $taken == *" $p "* ]] && continue
    if [[ -z $(ss -Hltn "sport = :$p") ]]; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

# start NAME BINARY ARGS...: runs the process in its own session so signals aimed
# at the caller's process group (Ctrl-C, CTest's timeout) do not reach it, with
# every stream redirected: a child holding CTest's output pipe would make CTest
# wait for it forever.
start() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$CLUSTER_DIR/logs/$name.log" 2>&1 &
  echo $! >"$CLUSTER_DIR/run/$name.pid"
}

# alive NAME: true while the process we recorded still runs *and* is ours; the
# cmdline check keeps a recycled pid from being mistaken for (and killed as) ours.
alive() {
  local f=$CLUSTER_DIR/run/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CLUSTER_DIR"
}

# started NAME: true while the process `start` just launched has not ended. Not
# `alive`: while a child is between fork and exec its /proc cmdline can read
# empty, which `alive` would take for a process that exited. A pid we started
# moments ago cannot have been recycled; an ended one is gone or a zombie.
started() {
  local f=$CLUSTER_DIR/run/$1.pid state
  [[ -f $f ]] || return 1
  state=$(awk '{print $3}' "/proc/$(<"$f")/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# stop NAME: TERM, then KILL after 10 s; forgets the pid. Safe when not running.
stop() {
  local name=$1 f=$CLUSTER_DIR/run/$1.pid pid
  [[ -f $f ]] || return 0
  pid=$(<"$f")
  if alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do alive "$name" || break; sleep 0.1; done
    if alive "$name"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$f"
}

start_etcd() {
  start etcd "$ETCD_BIN/etcd" --name herd --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "herd=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --log-level warn
}

# The apiserver listens on APISERVER_HOST: loopback, or the node's bridge
# address for `up --node` (pods reach it there; see lib/node.sh).
# Without a node, ServiceAccount admission is off: nothing would mount the
# tokens it adds. With one, it is on (pods then get a token and the in-cluster
# operator authenticates) and the apiserver reaches the kubelet (logs, exec)
# with a client certificate.
start_apiserver() {
  local pki=$CLUSTER_DIR/pki host=${APISERVER_HOST:-127.0.0.1} mode=()
  if [[ -n ${NODE:-} ]]; then
    mode=(--kubelet-preferred-address-types InternalIP
      --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt"
      --kubelet-client-key "$pki/apiserver-kubelet-client.key")
  else
    mode=(--disable-admission-plugins ServiceAccount)
  fi
  start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$host" --advertise-address "$host" --secure-port "$APISERVER_PORT" \
    --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" --authorization-mode RBAC \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer "https://$host:$APISERVER_PORT/" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    "${mode[@]}" --allow-privileged=true \
    --profiling=false --v "${HERD_APISERVER_V:-1}"
}

start_kcm() {
  local pki=$CLUSTER_DIR/pki
  # --secure-port 0: no health endpoint, so parallel clusters never fight over
  # kcm's fixed default port 10257. Leader election off: one instance per cluster.
  # kcm exits for good when the apiserver vanishes while it is still starting its
  # controllers (a fault-injection test restarting the apiserver early), and then
  # nothing collects garbage: a small supervisor starts it again. TERM to the
  # supervisor (what `stop` sends) stops the controller manager with it.
  start kube-controller-manager bash -c \
    'trap "kill \$child 2>/dev/null; wait \$child; exit 0" TERM
     while :; do "$@" & child=$!; wait $child; sleep 1; done' supervise \
    "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$CLUSTER_DIR/kcm.kubeconfig" --secure-port 0 --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=true --v 1
}

# curl against the apiserver as admin.
api_curl() {
  local pki=$CLUSTER_DIR/pki
  curl -sS --max-time 5 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://${APISERVER_HOST:-127.0.0.1}:$APISERVER_PORT$1"
}

# wait_until SECONDS WHAT CMD...: polls CMD every 0.2 s; fails with the log tail.
wait_until() {
  local limit=$1 what=$2 deadline; shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "up: $what not ready after ${limit}s; log tail:" >&2
      tail -n 30 "$CLUSTER_DIR/logs/$what.log" >&2 || true
      return 1
    fi
    started "$what" || { echo "up: $what exited; log tail:" >&2
      tail -n 30 "$CLUSTER_DIR/logs/$what.log" >&2; return 1; }
    sleep 0.2
  done
}

etcd_ready() { curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_ready() { [[ $(api_curl /readyz) == ok ]]; }
# The controller manager has no port to ask (see start_kcm); it is ready once it
# has created the root CA ConfigMap in the default namespace and its garbage
# collector has synced (the last step of its start-up). Until then an apiserver
# restart (tests/cluster/ctl) kills it: it exits when it cannot create the
# controllers' service accounts, and owner references stop being collected.
kcm_ready() {
  api_curl /api/v1/namespaces/default/configmaps/kube-root-ca.crt | grep -q '"name": *"kube-root-ca.crt"' &&
    grep -q 'Caches are synced" controller="garbage collector"' "$CLUSTER_DIR/logs/kube-controller-manager.log"
}

# The kubelet stand-in (pod_runner/pod_runner.cc, test only): runs pods as local
# processes. Its binary comes from the build tree: HERD_POD_RUNNER, else the
# newest build/*/tests/cluster/herd_pod_runner; `herd` in a container command
# runs HERD_BIN, else the same build's agent/cli/herd.
# HERD_POD_RUNNER=none: no pod-runner (pods stay Pending).
pod_runner_bin() {
  if [[ -n ${HERD_POD_RUNNER:-} ]]; then echo "$HERD_POD_RUNNER"; return; fi
  local repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
  # Under `set -o pipefail` a checkout without a build (no match) must not end
  # the caller: the caller says what is missing.
  ls -t "$repo"/build/*/tests/cluster/herd_pod_runner 2>/dev/null | head -1 || true
}

start_pod_runner() {
  local bin=$1 herd=${HERD_BIN:-}
  [[ -n $herd ]] || herd=$(cd "$(dirname "$bin")/../.." && pwd)/agent/cli/herd
  mkdir -p "$CLUSTER_DIR/pod-runner"
  start pod-runner "$bin" --kubeconfig "$CLUSTER_DIR/kubeconfig" --work-dir "$CLUSTER_DIR/pod-runner" \
    --exec "herd=$herd"
}

pod_runner_ready() { grep -q "watching pods" "$CLUSTER_DIR/logs/pod-runner.log"; }
