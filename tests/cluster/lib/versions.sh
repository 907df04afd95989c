# Pinned tool versions and their cache locations, shared by build-tools, up and down.
# Sourced, not executed. The cache lives outside the repository and is keyed by
# version, so bumping a version here builds a new set beside the old one.

K8S_VERSION=v1.33.3
K8S_STAGING_VERSION=v0.33.3   # the published staging modules that match K8S_VERSION
ETCD_VERSION=v3.5.21          # the etcd client version Kubernetes 1.33 pins
HELM_VERSION=v3.18.6
KUBECONFORM_VERSION=v0.7.0

HERD_CACHE=${HERD_CACHE:-$HOME/.cache/herd}
K8S_BIN=$HERD_CACHE/k8s-$K8S_VERSION/bin
ETCD_BIN=$HERD_CACHE/etcd-$ETCD_VERSION/bin
HELM_BIN=$HERD_CACHE/helm-$HELM_VERSION/bin
KUBECONFORM_BIN=$HERD_CACHE/kubeconform-$KUBECONFORM_VERSION/bin

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
