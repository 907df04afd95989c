# Undoing what the real node changes on the whole machine. Sourced by up and
# down after lib/node.sh.
#
# A node is machine-wide (the bridge, its subnet, ports 10250/10248/10249/10256,
# sysctls, iptables chains), so one runs at a time. NODE_MARK records which
# cluster directory owns it and what the machine looked like before; a start
# finds it after a crashed run and cleans up first, and down removes it last.
NODE_MARK=${HERD_NODE_MARK:-/run/herd-node}

# What the kubelet (overcommit, panic), the bridge plugin (ip_forward) and
# kube-proxy (route_localnet, bridge-nf-call) may change.
NODE_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward
  net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables)

# claim_node: records the owner and the machine's state before anything changes.
claim_node() {
  local k
  mkdir -p "$NODE_MARK"
  echo "$CLUSTER_DIR" >"$NODE_MARK/owner"
  : >"$NODE_MARK/sysctl"
  for k in "${NODE_SYSCTLS[@]}"; do
    sysctl -n "$k" >/dev/null 2>&1 && echo "$k=$(sysctl -n "$k")" >>"$NODE_MARK/sysctl"
  done
  # The nft tables there before (only when nft is installed: Debian's iptables
  # does not need it, and without it there is nothing to compare or delete).
  if command -v nft >/dev/null; then nft list tables 2>/dev/null | sort >"$NODE_MARK/nft-tables" || true; fi
  local d
  for d in /var/lib/cni /run/containerd /var/log/containers /run/netns; do
    [[ -e $d ]] && echo "$d" >>"$NODE_MARK/existed"
  done
  ls /run/netns 2>/dev/null | sort >"$NODE_MARK/netns" || true
}

# node_owner_alive: the recorded owner's kubelet or containerd still runs.
node_owner_alive() {
  [[ -f $NODE_MARK/owner ]] || return 1
  local CLUSTER_DIR
  CLUSTER_DIR=$(<"$NODE_MARK/owner")
  alive kubelet || alive containerd
}

# undo_node: stops the node's processes and removes everything they left, in the
# order that leaves nothing behind. Safe to run twice and after a crash.
undo_node() {
  [[ -f $NODE_MARK/owner ]] || return 0
  local CLUSTER_DIR NODE_STATE CONTAINERD_SOCK
  CLUSTER_DIR=$(<"$NODE_MARK/owner")
  NODE_STATE=$CLUSTER_DIR/node
  CONTAINERD_SOCK=$NODE_STATE/containerd-state/containerd.sock
  delete_pods
  local name
  for name in kube-proxy kube-scheduler coredns kubelet; do stop "$name"; done
  [[ -x $K8S_BIN/kube-proxy ]] && "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  remove_containers
  stop containerd
  kill_shims
  unmount_under "$NODE_STATE"
  remove_netns
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
  remove_cgroups
  remove_chains
  remove_files
  restore_sysctls
  rm -rf "$NODE_MARK"
}

# Deleting the pods lets the kubelet stop their sandboxes through containerd,
# which runs the CNI DEL (addresses, veths, portmap rules). Bounded: what is left
# after 60 s is removed below by force.
delete_pods() {
  alive kubelet && alive kube-apiserver || return 0
  local k=("$K8S_BIN/kubectl" --kubeconfig "$CLUSTER_DIR/kubeconfig" --request-timeout 10s)
  "${k[@]}" delete deployments,replicasets,statefulsets,daemonsets,jobs --all -A --wait=false >/dev/null 2>&1 || true
  "${k[@]}" delete pods --all -A --grace-period 2 --timeout 60s >/dev/null 2>&1 || true
}

# What the kubelet did not stop (all of it after a crash): every container in
# our runc root, by force. The shim keeps one root per containerd namespace
# (runc/k8s.io).
remove_containers() {
  local root id
  for root in "$NODE_STATE"/runc/*/; do
    [[ -d $root ]] || continue
    for id in $(runc --root "$root" list -q 2>/dev/null); do
      runc --root "$root" delete -f "$id" >/dev/null 2>&1 || true
    done
  done
}

# containerd's shims outlive it; ours name our socket on their command line.
kill_shims() {
  local pid
  for pid in $(pgrep -f "containerd-shim.*-address $CONTAINERD_SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# unmount_under DIR: every mount below DIR, deepest first (the kubelet
# bind-mounts its root dir onto itself, pods' volumes, containerd's overlays).
unmount_under() {
  local m
  [[ -d $1 ]] || return 0
  awk -v d="$1" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# Network namespaces CRI created while the node ran (/run/netns/cni-*).
remove_netns() {
  local n
  for n in $(ls /run/netns 2>/dev/null); do
    [[ $n == cni-* ]] || continue
    grep -qx "$n" "$NODE_MARK/netns" 2>/dev/null && continue
    umount "/run/netns/$n" 2>/dev/null || true
    rm -f "/run/netns/$n"
  done
}

# The kubelet's cgroupfs driver makes a kubepods tree in every hierarchy.
remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# The kubelet's KUBE-* chains stay after it exits, kube-proxy's too when its
# --cleanup fails; portmap adds CNI-*; ours is HERD-NODE-ISOLATE. Rules jumping to
# them first, then the chains; then nft tables that iptables-nft created.
remove_chains() {
  local ipt table rule chain
  for ipt in iptables ip6tables; do
    for table in filter nat mangle raw; do
      # (|| true: no such rule is no failure under pipefail)
      { "$ipt" -w -t "$table" -S 2>/dev/null | grep -E -- '^-A .* -j (KUBE-|CNI-|HERD-NODE-)' || true; } |
        while read -r rule; do eval "$ipt -w -t $table ${rule/-A/-D}" 2>/dev/null || true; done
      for chain in $("$ipt" -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^(KUBE-|CNI-|HERD-NODE-)/ {print $2}'); do
        "$ipt" -w -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$ipt" -w -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^(KUBE-|CNI-|HERD-NODE-)/ {print $2}'); do
        "$ipt" -w -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  [[ -f $NODE_MARK/nft-tables ]] && command -v nft >/dev/null || return 0
  nft list tables 2>/dev/null | sort | comm -13 "$NODE_MARK/nft-tables" - |
    while read -r _ family name; do
      # Only tables that hold no rules any more (nothing but table, chain and
      # hook lines): anything else is someone else's.
      nft list table "$family" "$name" 2>/dev/null | grep -qvE '^\s*(table |chain |type |\}|$)' ||
        nft delete table "$family" "$name" 2>/dev/null || true
    done
}

restore_sysctls() {
  local line
  [[ -f $NODE_MARK/sysctl ]] || return 0
  while read -r line; do sysctl -q -w "$line" >/dev/null 2>&1 || true; done <"$NODE_MARK/sysctl"
}

# Outside our directories: the kubelet's links in /var/log/containers to our
# pods' logs, containerd's CNI result cache for our network, the directories
# shims and fifos use under /run/containerd. Removed when they did not exist
# before and are empty now.
remove_files() {
  local l d id
  for l in /var/log/containers/*; do
    [[ -L $l && $(readlink "$l") == "$NODE_STATE"/* ]] && rm -f "$l"
  done
  for d in "$NODE_STATE"/containerd-state/io.containerd.grpc.v1.cri/sandboxes/*/; do
    [[ -d $d ]] || continue
    id=$(basename "$d")
    rm -f /var/lib/cni/results/*-"$id"-*
  done
  for d in /var/lib/cni /run/containerd /var/log/containers /run/netns; do
    grep -qx "$d" "$NODE_MARK/existed" 2>/dev/null && continue
    [[ -d $d ]] || continue
    # Not there before the node: what containerd left in it (stale shim
    # sockets) is ours too.
    if [[ $d == /run/containerd ]]; then rm -rf "$d"; else find "$d" -depth -type d -empty -delete 2>/dev/null || true; fi
  done
}
