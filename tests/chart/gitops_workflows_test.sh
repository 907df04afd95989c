#!/usr/bin/env bash
# The CI examples of docs/gitops.md: the GitHub Actions workflow passes
# actionlint (built from the Go module proxy by tests/cluster/build-tools), and
# a copy with a mistake fails it, so the check can fail; the GitLab CI job is
# YAML whose job runs `herd k8s run` with the flags herd has, keeps the results
# and reports the JUnit file. Needs HERD_SOURCE_DIR and HERD_BIN.
set -euo pipefail
src=${HERD_SOURCE_DIR:?}
herd=${HERD_BIN:?}
source "$src/tests/cluster/lib/versions.sh"
"$src/tests/cluster/build-tools" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

workflow=$src/examples/ci/github-actions.yml
if out=$("$ACTIONLINT_BIN/actionlint" -no-color "$workflow" 2>&1); then ok "actionlint passes the workflow"
else fail "actionlint: $out"; fi
# A step with both `uses` and `run` is an error actionlint must report.
sed 's|      - uses: actions/checkout@v4|      - uses: actions/checkout@v4\n        run: echo both|' "$workflow" >"$tmp/broken.yaml"
if "$ACTIONLINT_BIN/actionlint" -no-color "$tmp/broken.yaml" >"$tmp/broken.out" 2>&1; then
  fail "actionlint passed a broken workflow"
else ok "actionlint refuses a broken copy: $(head -1 "$tmp/broken.out")"; fi

# Every `herd k8s run` command line in both files uses only flags `herd k8s run --help` lists.
help=$("$herd" k8s run --help)
if out=$(python3 - "$help" "$workflow" "$src/examples/ci/gitlab-ci.yml" <<'PY'
import re, sys, yaml
help_text, files = sys.argv[1], sys.argv[2:]
known = set(re.findall(r"(--[a-z][a-z-]*)", help_text))
problems, commands = [], []
def walk(node):
    if isinstance(node, dict):
        for v in node.values(): walk(v)
    elif isinstance(node, list):
        for v in node: walk(v)
    elif isinstance(node, str) and "herd k8s run" in node:
        commands.append(node)
docs = [yaml.safe_load(open(f)) for f in files]
for d in docs: walk(d)
if len(commands) != 2:
    problems.append(f"{len(commands)} herd k8s run commands, want one per file")
for c in commands:
    for flag in re.findall(r"(--[a-z][a-z-]*)", c):
        if flag not in known:
            problems.append(f"unknown flag {flag} in: {c}")
job = docs[1]["loadtest"]
if "results/junit.xml" != job["artifacts"]["reports"]["junit"]: problems.append("GitLab job reports no JUnit file")
if job["artifacts"].get("when") != "always": problems.append("GitLab job keeps results only on success")
if not all("LOADTEST" in r.get("variables", {}) for r in job["rules"]): problems.append("a rule without LOADTEST")
sys.exit("; ".join(problems) if problems else 0)
PY
); then ok "herd k8s run lines use known flags; the GitLab job keeps results and reports JUnit"
else fail "$out"; fi

echo "$failures failures"
((failures == 0))
