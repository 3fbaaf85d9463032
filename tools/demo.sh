#!/usr/bin/env bash
# The README's first command: build cove, then run the main job on the embedded default: a
# busybox rootfs made from Debian's busybox-static, run by real runc through cove-runtime as each
# role of the sample policy. Each container reports what it can and cannot do from the inside;
# a last one asks for the Docker socket and is refused. Needs root (runc); no registry, no Docker.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${COVE_BUILD_DIR:-$src/build}
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (runc needs it): sudo $0" >&2; exit 1; }

"$src/tools/install-deps.sh" >/dev/null
"$src/tools/build.sh" >/dev/null

work=$(mktemp -d /tmp/cove-demo.XXXXXX)
root="$work/runc-root"
cleanup() {
  for id in $(runc --root "$root" list -q 2>/dev/null); do runc --root "$root" delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
  # runc removes each container's cgroup but not the /cove-test parent make-bundle.sh names.
  for d in /sys/fs/cgroup/*/cove-test /sys/fs/cgroup/cove-test; do rmdir "$d" 2>/dev/null || true; done
}
trap cleanup EXIT

"$src/tools/make-rootfs.sh" "$work/rootfs" "$build/tests/probe/cove-probe" >/dev/null
sed -e 's#^\s*//.*##' "$src/docker/policy.json" |
  jq --arg w "$work" --arg runc "$(command -v runc)" '
    .auditLog = $w + "/audit.jsonl" | .stateDir = $w + "/state" | .workspaceRoot = $w + "/teams"
    | .roles[].backend = $runc' >"$work/policy.json"

run_role() {
  local role=$1
  BUNDLE_ENV="COVE_ROLE=$role COVE_AGENT=demo-$role" "$src/tools/make-bundle.sh" "$work/b-$role" "$work/rootfs" >/dev/null
  echo "== cove-runtime run, role $role =="
  "$build/shim/cove-runtime" --cove-policy "$work/policy.json" --root "$root" --log "$work/runc.log" \
    --log-format json run --bundle "$work/b-$role" "demo-$role-$$" |
    grep -E '^(seccomp|no_new_privs|cap_eff|uid|memory_limit|pids_limit|cpu_quota|sys_)' | paste -sd' ' | fold -s -w 100
}
for role in agent preview sync; do run_role "$role"; done

echo "== a container that mounts the Docker socket =="
BUNDLE_ENV="COVE_ROLE=agent" "$src/tools/make-bundle.sh" "$work/b-sock" "$work/rootfs" >/dev/null
jq '.mounts += [{"destination":"/var/run/docker.sock","type":"bind","source":"/var/run/docker.sock","options":["rbind"]}]' \
  "$work/b-sock/config.json" >"$work/c.json" && mv "$work/c.json" "$work/b-sock/config.json"
if "$build/shim/cove-runtime" --cove-policy "$work/policy.json" --root "$root" --log "$work/runc.log" \
  --log-format json run --bundle "$work/b-sock" "demo-sock-$$"; then
  echo "demo: the Docker socket mount was NOT refused" >&2
  exit 1
fi
echo "refused; runc --log says:"
tail -n 1 "$work/runc.log" | jq -r .msg | fold -s -w 100
echo "== audit log: $(wc -l <"$work/audit.jsonl") decisions =="
jq -c '{verb, container, role, decision, changes: (.changes | length), refusals: (.refusals | length)}' "$work/audit.jsonl"
