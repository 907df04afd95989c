# Pinned tool versions and their cache locations, shared by build-tools, up and down.
# Sourced, not executed. The cache lives outside the repository and is keyed by
# version, so bumping a version here builds a new set beside the old one.

K8S_VERSION=v1.33.3
K8S_STAGING_VERSION=v0.33.3   # the published staging modules that match K8S_VERSION
ETCD_VERSION=v3.5.21          # the etcd client version Kubernetes 1.33 pins
HELM_VERSION=v3.18.6
KUBECONFORM_VERSION=v0.7.0
COREDNS_VERSION=v1.12.1       # the real node's cluster DNS
ACTIONLINT_VERSION=v1.7.12    # checks the GitHub Actions workflow in examples/ci
# What build-tools makes from the Kubernetes wrapper module: the control plane and
# kubectl for every cluster, the node's three for `up --node`.
K8S_TOOLS=(kube-apiserver kube-controller-manager kubectl kubelet kube-scheduler kube-proxy)

# A CI runner may start us without HOME, or with one we cannot write: the cache
# then goes to /var/tmp, still outside the repository and kept between runs on
# the same machine.
if [[ -z ${HERD_CACHE:-} ]]; then
  herd_cache_base=/var/tmp/.cache
  if [[ -n ${XDG_CACHE_HOME:-} ]]; then herd_cache_base=$XDG_CACHE_HOME
  elif [[ -n ${HOME:-} && -d $HOME && -w $HOME ]]; then herd_cache_base=$HOME/.cache
  fi
  HERD_CACHE=$herd_cache_base/herd
  unset herd_cache_base
fi
K8S_BIN=$HERD_CACHE/k8s-$K8S_VERSION/bin
ETCD_BIN=$HERD_CACHE/etcd-$ETCD_VERSION/bin
HELM_BIN=$HERD_CACHE/helm-$HELM_VERSION/bin
KUBECONFORM_BIN=$HERD_CACHE/kubeconform-$KUBECONFORM_VERSION/bin
COREDNS_BIN=$HERD_CACHE/coredns-$COREDNS_VERSION/bin
ACTIONLINT_BIN=$HERD_CACHE/actionlint-$ACTIONLINT_VERSION/bin

GO_MIN_MINOR=24               # the Go release Kubernetes 1.33 needs (go 1.24)
GO_FALLBACK_VERSION=go1.24.6  # fetched from the Go module proxy when no Go is good enough
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
