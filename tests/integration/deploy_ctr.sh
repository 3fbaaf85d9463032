#!/usr/bin/env bash
# The containerd path Kubernetes takes (RuntimeClass handler -> runc shim with BinaryName =
# cove-runtime), on one machine: a private containerd (own root, state and socket in the temp
# dir, no CRI plugin), a busybox + cove-probe image imported with `ctr image import` from an OCI
# archive made by tools/images/make-oci-archive.sh, and `ctr run --runc-binary` pointed at a
# wrapper that runs cove-runtime with this test's policy (BinaryName takes a path, no arguments;
# docs/operations.md). Checks what a user of ctr sees:
#   1. role from env COVE_ROLE=agent: inside, /proc/self/status says Seccomp 2, NoNewPrivs 1,
#      CapEff 0, uid 1000; the probe sees the agent's memory and pids limits and EPERM for the
#      escape-prone syscalls; the audit log says allow.
#   2. role from the annotation dev.cove.role=preview (what a pod annotation becomes under CRI):
#      the preview's 1 GiB memory limit and read-only rootfs.
#   3. a bind mount of a denied socket path: `ctr run` fails with cove's message naming the rule,
#      and no container is left.
#   4. no role at all: refused by the sample policy's `unmatched: refuse`.
# Cleanup (EXIT): tasks and containers removed, containerd stopped by its PID, shims naming the
# temp dir killed by PID, mounts under the temp dir unmounted, runc's root and the cgroups of
# our namespace removed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/leftovers_lib.sh"

CONTAINERD=$(command -v containerd) || skip "containerd is not installed"
CTR_BIN=$(command -v ctr) || skip "ctr is not installed"
command -v containerd-shim-runc-v2 >/dev/null || skip "containerd-shim-runc-v2 is not installed"
setup

NS=cove-ctr-$$
CTD_PID=""
SOCK=$TEST_DIR/c.sock
IMAGE_REF=docker.io/library/cove-probe:test
CTR=("$CTR_BIN" --address "$SOCK" --namespace "$NS")
COVE_RUNTIME=$(realpath "$COVE_RUNTIME")

ctr_cleanup() {
  local i id p f args m d
  if [[ -n $CTD_PID ]] && kill -0 "$CTD_PID" 2>/dev/null; then
    for id in $(timeout 20 "${CTR[@]}" tasks ls -q 2>/dev/null); do
      timeout 20 "${CTR[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1
      timeout 20 "${CTR[@]}" tasks rm -f "$id" >/dev/null 2>&1
    done
    for id in $(timeout 20 "${CTR[@]}" containers ls -q 2>/dev/null); do
      timeout 20 "${CTR[@]}" containers rm "$id" >/dev/null 2>&1
    done
    kill -TERM "$CTD_PID" 2>/dev/null
    for ((i = 0; i < 300; i++)); do
      kill -0 "$CTD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$CTD_PID" 2>/dev/null; then
      echo "[$SCENARIO] containerd $CTD_PID did not stop within 30s; killing it" >&2
      kill -KILL "$CTD_PID" 2>/dev/null
    fi
    wait "$CTD_PID" 2>/dev/null
  fi
  # Shims outlive containerd by design; ours name our socket (-address) in their argv.
  kill_processes_naming "$TEST_DIR"
  unmount_under "$TEST_DIR"
  # The runc shim keeps runc's state in /run/containerd/runc/<namespace> whatever containerd's
  # --state is; the namespace is ours alone.
  rm -rf --one-file-system "/run/containerd/runc/$NS"
  for d in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do
    [[ -d $d ]] || continue
    find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
    rmdir "$d" 2>/dev/null || echo "[$SCENARIO] cannot remove cgroup $d" >&2
  done
}
CLEANUP_HOOKS+=(ctr_cleanup)

# The wrapper containerd's runc shim execs as "runc": a fixed policy path, then runc's argv.
WRAPPER=$TEST_DIR/cove-runc
cat >"$WRAPPER" <<EOF
#!/bin/sh
exec "$COVE_RUNTIME" --cove-policy "$POLICY" "\$@"
EOF
chmod 0755 "$WRAPPER"

mkdir -p "$TEST_DIR/ctd"
cat >"$TEST_DIR/ctd/config.toml" <<EOF
version = 2
root = "$TEST_DIR/ctd/root"
state = "$TEST_DIR/ctd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = "$TEST_DIR/c-debug.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$TEST_DIR/ctd/opt"
EOF
"$CONTAINERD" --config "$TEST_DIR/ctd/config.toml" </dev/null >"$TEST_DIR/containerd.log" 2>&1 &
CTD_PID=$!
for ((i = 0; i < 300; i++)); do
  kill -0 "$CTD_PID" 2>/dev/null || fail "containerd exited during startup: $(tail -n 5 "$TEST_DIR/containerd.log")"
  [[ -S $SOCK ]] && "${CTR[@]}" version >/dev/null 2>&1 && break
  sleep 0.1
done
[[ $i -lt 300 ]] || fail "containerd did not answer on $SOCK within 30s"
say "containerd $CTD_PID up (namespace $NS)"

"$COVE_SRC/tools/images/make-oci-archive.sh" "$ROOTFS" "$TEST_DIR/image.tar" "$IMAGE_REF" --cmd /bin/cove-probe --cmd report ||
  fail "tools/images/make-oci-archive.sh failed"
capture import 120 "${CTR[@]}" image import "$TEST_DIR/image.tar"
assert_rc 0 "ctr image import"
capture images 20 "${CTR[@]}" image ls -q
grep -qxF "$IMAGE_REF" "$OUT" || fail "ctr image ls does not list $IMAGE_REF"
say "ok   image $IMAGE_REF imported"

# ctr's default spec has no /sys/fs/cgroup (CRI adds one for every Kubernetes container); the
# probe reads the limits there.
CGROUP_MOUNT="type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev"

# ctr_run NAME ID [ctr run flags...] -- [command...]: `ctr run --rm` through the wrapper.
ctr_run() {
  local name=$1 id=$2
  shift 2
  local flags=()
  while [[ $# -gt 0 && $1 != -- ]]; do
    flags+=("$1")
    shift
  done
  [[ ${1:-} == -- ]] && shift
  say "ctr run $id ${flags[*]} $*"
  capture "$name" 60 "${CTR[@]}" run --rm --runc-binary "$WRAPPER" "${flags[@]}" "$IMAGE_REF" "$id" "$@"
  [[ $RC -ne 124 ]] || fail "ctr run $id did not finish within 60s"
}

# status_field NAME: the value of NAME: in the /proc/self/status dump in $OUT.
status_field() {
  awk -v k="$1:" '$1 == k {print $2; exit}' "$OUT"
}

assert_no_ctr_container() {
  capture "containers-$1" 20 "${CTR[@]}" containers ls -q
  if grep -qxF "$1" "$OUT"; then
    fail "container $1 is still listed by ctr containers ls after the refusal"
  fi
  say "ok   no container $1 left (ctr containers ls)"
}

audit_decision() {
  grep -F "\"$1\"" "$AUDIT_LOG" 2>/dev/null | grep -F '"decision"' | tail -n1 | jq -r .decision 2>/dev/null
}

# 1. Agent by env.
id=cove-ctr-agent-$$
ctr_run agent "$id" --env COVE_ROLE=agent --mount "$CGROUP_MOUNT" -- /bin/sh -c 'cat /proc/self/status; /bin/cove-probe report'
assert_rc 0 "ctr run (agent)"
assert_eq "Seccomp (/proc/self/status)" 2 "$(status_field Seccomp)"
assert_eq "NoNewPrivs (/proc/self/status)" 1 "$(status_field NoNewPrivs)"
assert_eq "CapEff (/proc/self/status)" 0000000000000000 "$(status_field CapEff)"
assert_eq "CapBnd has no CAP_SYS_ADMIN (bit 21)" 0 "$(((0x$(status_field CapBnd) >> 21) & 1))"
assert_eq "Uid (/proc/self/status)" 1000 "$(status_field Uid)"
expect_probe memory_limit 2147483648
expect_probe pids_limit 512
for sys in unshare_newuser mount keyctl bpf ptrace io_uring_setup; do
  expect_probe "sys_$sys" EPERM
done
assert_eq "audit decision for $id" allow "$(audit_decision "$id")"

# 2. Preview by annotation (a pod's annotations reach config.json through CRI the same way).
id=cove-ctr-preview-$$
ctr_run preview "$id" --annotation dev.cove.role=preview --mount "$CGROUP_MOUNT" -- /bin/sh -c '/bin/cove-probe report; touch /rootfs-write 2>/dev/null && echo rootfs_write=ok || echo rootfs_write=refused'
assert_rc 0 "ctr run (preview by annotation)"
expect_probe memory_limit 1073741824
expect_probe seccomp 2
expect_probe rootfs_write refused
assert_eq "audit decision for $id" allow "$(audit_decision "$id")"

# 3. A denied bind mount.
sock=$TEST_DIR/fake-docker.sock
: >"$sock"
write_policy '.roles.agent.mounts.deny += ["'"$sock"'"]'
id=cove-ctr-sock-$$
ctr_run sock "$id" --env COVE_ROLE=agent --mount "type=bind,src=$sock,dst=/var/run/docker.sock,options=rbind:rw" -- /bin/true
assert_rc_nonzero "ctr run with $sock bound at /var/run/docker.sock"
for w in "cove: container $id refused by role agent" "$sock" "roles.agent.mounts.deny"; do
  grep -qF -- "$w" "$ERR" || fail "ctr's stderr does not contain '$w'"
done
say "ok   ctr printed: $(grep -m1 -oE 'cove: .*' "$ERR" | head -c 300)"
assert_no_ctr_container "$id"
assert_eq "audit decision for $id" refuse "$(audit_decision "$id")"

# 4. No role.
id=cove-ctr-norole-$$
ctr_run norole "$id" -- /bin/true
assert_rc_nonzero "ctr run without a role"
grep -qF "cove: " "$ERR" || fail "ctr's stderr has no cove: message for a container without a role"
say "ok   ctr printed: $(grep -m1 -oE 'cove: .*' "$ERR" | head -c 300)"
assert_no_ctr_container "$id"
pass
