#!/usr/bin/env bash
# The Dockerfile's runtime stage installs exactly the Debian packages that own
# the shared libraries of both binaries (ldd, then dpkg -S for each .so), plus
# the data packages it names on purpose (ca-certificates, tzdata): nothing the
# binaries need is missing, nothing unneeded is installed. Run on Debian
# bookworm (what the image's stages are), with the binaries of any build tree.
#   docker_runtime_libs_test.sh DOCKERFILE BINARY...
set -euo pipefail
dockerfile=$1; shift
data_packages=(ca-certificates tzdata)

listed=$(sed -n '/^# runtime-packages-begin/,/^# runtime-packages-end/p' "$dockerfile" |
  grep -E '^\s+[a-z0-9][a-z0-9.+-]+\s*\\?$' | tr -d ' \\' | sort -u)
[[ -n $listed ]] || { echo "FAIL: no runtime package block in $dockerfile" >&2; exit 1; }

owner() {  # the package owning a library path (merged /usr: try the path, its target, both spellings)
  local so=$1 real; real=$(readlink -f "$so")
  local p
  for cand in "$so" "$real" "${real#/usr}" "/usr$so"; do
    p=$(dpkg -S "$cand" 2>/dev/null | head -1) && [[ -n $p ]] && { echo "${p%%:*}"; return; }
  done
  echo "FAIL: no Debian package owns $so ($real)" >&2
  return 1
}

needed=()
for bin in "$@"; do
  [[ -x $bin ]] || { echo "FAIL: $bin is not an executable" >&2; exit 1; }
  if ldd "$bin" | grep -q "not found"; then echo "FAIL: $bin: $(ldd "$bin" | grep 'not found')" >&2; exit 1; fi
  while read -r so; do needed+=("$(owner "$so")"); done < <(ldd "$bin" | awk '/=>/ {print $3} /^\s*\/.*ld-linux/ {print $1}')
done
needed=$(printf '%s\n' "${needed[@]}" | sort -u)
failures=0
for p in $needed; do
  grep -qx "$p" <<<"$listed" && echo "ok: $p (needed, listed)" || { echo "FAIL: $p is needed but not in the Dockerfile's runtime packages" >&2; failures=$((failures + 1)); }
done
for p in $listed; do
  grep -qx "$p" <<<"$needed" && continue
  printf '%s\n' "${data_packages[@]}" | grep -qx "$p" && { echo "ok: $p (data package, listed on purpose)"; continue; }
  echo "FAIL: $p is in the runtime packages but no binary needs it" >&2; failures=$((failures + 1))
done
echo "$(wc -w <<<"$needed") packages needed by $# binaries; $failures failures"
((failures == 0))
