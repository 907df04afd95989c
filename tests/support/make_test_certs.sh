#!/usr/bin/env bash
# Test certificates, made at test time (no private key is kept in the tree):
#   tests/support/make_test_certs.sh DIR
# writes into DIR
#   ca.crt ca.key           a CA
#   server.crt server.key   signed by it, for 127.0.0.1, ::1 and localhost
#   client.crt client.key   signed by it, for a client (mTLS)
#   other-ca.crt            an unrelated CA (an agent that trusts the wrong one)
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
ossl() { openssl "$@" 2>/dev/null; }
ca() {
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$1.key" -out "$1.crt"
}
leaf() {  # NAME SUBJECT EXTENSIONS
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.crt"
  rm -f "$1.csr" "$1.ext"
}
ca ca "herd test CA"
ca other-ca "another CA"
rm -f other-ca.key
leaf server localhost "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
extendedKeyUsage=serverAuth"
leaf client "herd test agent" "extendedKeyUsage=clientAuth"
chmod 600 ./*.key
