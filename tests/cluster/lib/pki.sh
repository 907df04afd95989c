# Fresh certificates for one test cluster, made with openssl. Sourced by `up`.
# Everything is throwaway: a new CA per cluster directory, so nothing a test
# trusts outlives the cluster.

# make_pki DIR [SAN...]: writes DIR/{ca,apiserver,admin,kcm}.{crt,key} and
# DIR/sa.{key,pub}; extra SANs (IP:... or DNS:...) go into the apiserver's.
make_pki() {
  local d=$1 extra=""; shift
  local san
  for san in "$@"; do extra+=",$san"; done
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=herd-test-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  # The apiserver is reached as https://127.0.0.1:PORT or https://localhost:PORT.
  issue_cert "$d" apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost$extra" "extendedKeyUsage=serverAuth"
  # O=system:masters: the group RBAC gives everything, as kind's admin user has.
  issue_cert "$d" admin "/O=system:masters/CN=herd-admin" "" "extendedKeyUsage=clientAuth"
  # The controller manager's own identity; RBAC bootstraps this user's roles.
  issue_cert "$d" kcm "/CN=system:kube-controller-manager" "" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$d/sa.key" 2048 2>/dev/null
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
  chmod 600 "$d"/*.key
}

# make_node_pki DIR: the real node's client identities. The kubelet and the
# apiserver's client for the kubelet are in system:masters: with RBAC alone (no
# Node authorizer) that is the short way to a working test node. The scheduler
# and kube-proxy use the users RBAC bootstraps roles for.
make_node_pki() {
  local d=$1
  issue_cert "$d" kubelet "/O=system:masters/CN=system:node:herd-node" "" "extendedKeyUsage=clientAuth"
  issue_cert "$d" apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "" \
    "extendedKeyUsage=clientAuth"
  issue_cert "$d" scheduler "/CN=system:kube-scheduler" "" "extendedKeyUsage=clientAuth"
  issue_cert "$d" kube-proxy "/CN=system:kube-proxy" "" "extendedKeyUsage=clientAuth"
  chmod 600 "$d"/*.key
}

# issue_cert DIR NAME SUBJECT SAN EKU
issue_cert() {
  local d=$1 name=$2 subj=$3 san=$4 eku=$5 ext
  ext=$(mktemp)
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "$eku"
    [[ -n $san ]] && echo "$san"
  } >"$ext"
  openssl req -newkey rsa:2048 -nodes -subj "$subj" \
    -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -days 3650 -extfile "$ext" -out "$d/$name.crt" 2>/dev/null
  rm -f "$ext" "$d/$name.csr"
}

# write_kubeconfig FILE SERVER CERTNAME PKIDIR: a kubeconfig with embedded data, so
# it stays valid when copied elsewhere.
write_kubeconfig() {
  local file=$1 server=$2 user=$3 d=$4
  b64() { base64 -w0 <"$1"; }
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: herd-test
  cluster:
    server: $server
    certificate-authority-data: $(b64 "$d/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$d/$user.crt")
    client-key-data: $(b64 "$d/$user.key")
contexts:
- name: herd-test
  context: {cluster: herd-test, user: $user, namespace: default}
current-context: herd-test
KUBECONFIG
  chmod 600 "$file"
}
