# The real node of `up --node`: a CNI bridge, containerd, the kubelet,
# kube-scheduler, kube-proxy and CoreDNS. Sourced by up after lib/cluster.sh.
# Everything it changes on the machine is undone by lib/node_undo.sh.
#
# The node needs an address that is not loopback (the kubelet refuses one, and
# while it runs its KUBE-FIREWALL drops connections to 127.0.0.0/8 that do not
# come from loopback): the bridge's gateway address serves as node IP, kubelet
# address, apiserver address and DNS server. Pods get addresses on that subnet
# only; nothing is masqueraded and the bridge may not forward elsewhere, so no
# pod traffic leaves the machine.

# iptables, ip and nft live in sbin, which a minimal PATH (a CI runner's, sudo's
# secure_path aside) may lack; the kubelet and kube-proxy run iptables too.
case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin ;; esac

NODE_BRIDGE=herd-br0
NODE_SUBNET=10.217.0.0/24
NODE_IP=10.217.0.1
NODE_NAME=herd-node
NODE_POD_RANGE_START=10.217.0.10
NODE_POD_RANGE_END=10.217.0.250
NODE_STATE=$CLUSTER_DIR/node
CONTAINERD_SOCK=$NODE_STATE/containerd-state/containerd.sock
CNI_BIN_DIR=${HERD_CNI_BIN_DIR:-/usr/lib/cni}

# The bridge exists, with its address, before anything that needs the node IP
# starts. The FORWARD rule keeps pod packets on the bridge (ip_forward is on
# while the node runs, for the bridge plugin's gateway).
make_bridge() {
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
  ip link add "$NODE_BRIDGE" type bridge
  ip addr add "$NODE_IP/${NODE_SUBNET#*/}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  iptables -w -N HERD-NODE-ISOLATE
  iptables -w -A HERD-NODE-ISOLATE -i "$NODE_BRIDGE" ! -o "$NODE_BRIDGE" -j DROP
  iptables -w -A HERD-NODE-ISOLATE -o "$NODE_BRIDGE" ! -i "$NODE_BRIDGE" -j DROP
  iptables -w -I FORWARD -j HERD-NODE-ISOLATE
}

write_cni_config() {
  mkdir -p "$NODE_STATE/cni" "$NODE_STATE/cni-ipam"
  cat >"$NODE_STATE/cni/10-herd.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "herd",
  "plugins": [
    {
      "type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": true,
      "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$NODE_STATE/cni-ipam",
        "ranges": [[{"subnet": "$NODE_SUBNET", "gateway": "$NODE_IP",
                     "rangeStart": "$NODE_POD_RANGE_START", "rangeEnd": "$NODE_POD_RANGE_END"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

# containerd with its own root, state, socket and runc root, so it never meets
# another containerd on the machine. restrict_oom_score_adj: the kubelet asks
# for oom_score_adj -998, which a root without CAP_SYS_RESOURCE cannot set, and
# runc then fails every sandbox ("can't get final child's PID from pipe").
start_containerd() {
  local s=$NODE_STATE
  mkdir -p "$s/containerd-root" "$s/containerd-state" "$s/runc" "$s/opt"
  cat >"$s/containerd.toml" <<EOF
version = 2
root = "$s/containerd-root"
state = "$s/containerd-state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$s/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:herd"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "$s/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$s/cni"
EOF
  start containerd containerd --config "$s/containerd.toml"
}
containerd_ready() { ctr_k8s version; }
ctr_k8s() { ctr -a "$CONTAINERD_SOCK" -n k8s.io "$@"; }

write_kubelet_config() {
  local s=$NODE_STATE pki=$CLUSTER_DIR/pki
  # Pods with dnsPolicy Default get this resolver: nothing outside the pod.
  echo "nameserver 127.0.0.1" >"$s/resolv.conf"
  cat >"$s/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
protectKernelDefaults: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
imageServiceEndpoint: unix://$CONTAINERD_SOCK
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $s/resolv.conf
podLogsDir: $s/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
EOF
}

start_kubelet() {
  local s=$NODE_STATE
  mkdir -p "$s/kubelet" "$s/kubelet-pki"
  write_kubelet_config
  start kubelet "$K8S_BIN/kubelet" --config "$s/kubelet.yaml" \
    --kubeconfig "$CLUSTER_DIR/kubelet.kubeconfig" --root-dir "$s/kubelet" \
    --cert-dir "$s/kubelet-pki" --node-ip "$NODE_IP" --hostname-override "$NODE_NAME" --v 1
}
node_ready() {
  "$K8S_BIN/kubectl" --kubeconfig "$CLUSTER_DIR/kubeconfig" get node "$NODE_NAME" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}

start_scheduler() {
  start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 --v 1
}
scheduler_ready() { grep -q 'Caches are synced\|Starting Kubernetes Scheduler' "$CLUSTER_DIR/logs/kube-scheduler.log"; }

# conntrack all zero: kube-proxy leaves the machine's conntrack sysctls alone.
start_kube_proxy() {
  cat >"$NODE_STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $NODE_SUBNET
hostnameOverride: $NODE_NAME
bindAddress: 127.0.0.1
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
nodePortAddresses: [$NODE_IP/32]
clientConnection: {kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy "$K8S_BIN/kube-proxy" --config "$NODE_STATE/kube-proxy.yaml" --v 1
}
kube_proxy_ready() { curl -sf --max-time 2 http://127.0.0.1:10256/healthz >/dev/null; }

# Cluster DNS for SERVICE.NAMESPACE.svc names. No forward plugin: a name outside
# cluster.local gets SERVFAIL/NXDOMAIN, never a query to another server.
start_coredns() {
  cat >"$NODE_STATE/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CLUSTER_DIR/kubeconfig herd-test
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
EOF
  start coredns "$COREDNS_BIN/coredns" -conf "$NODE_STATE/Corefile"
}
coredns_ready() { grep -q 'CoreDNS-' "$CLUSTER_DIR/logs/coredns.log" && [[ -n $(ss -Hlun "src $NODE_IP:53") ]]; }

# The sandbox image every pod needs, before the kubelet starts pods. Built (a
# static C program, seconds) and cached by scripts/build-image.
import_pause_image() {
  local repo archive
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
  archive=$("$repo/scripts/build-image" --cached pause)
  ctr_k8s images import "$archive" >/dev/null
}
