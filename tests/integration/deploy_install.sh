#!/usr/bin/env bash
# What `cmake --install` and the Debian package put on a host, checked from the outside:
#   1. `cmake --install` into a DESTDIR with the default prefix: the four binaries in bin, the
#      systemd units in lib/systemd/system naming that prefix's bin, the sample policy and the
#      dockerd snippet in share/cove, docs in share/doc/cove, and nothing in /etc.
#   2. the same with `--prefix /opt/cove`: the units follow the prefix.
#   3. `cpack -G DEB` (prefix /usr): dpkg-deb -c lists the files, -I shows package cove with the
#      Debian 12 dependencies, /etc/cove/policy.json is a conffile, and every shared library the
#      binaries need comes from a package the .deb depends on (or from libc6's own dependencies).
#   4. the deployment files parse: docker/compose.yaml and docker/kubernetes/*.yaml (YAML, the
#      kinds and fields cove relies on), containerd-cove.toml (TOML: handler cove, runc v2,
#      BinaryName, dev.cove.* annotations passed), and the Kubernetes policy that the ConfigMap's
#      jq filter makes from the sample passes `cove policy lint`.
# Needs no root. Environment: COVE_BUILD (the CMake build dir, binaries built), COVE_SRC, COVE_CLI.
# say, skip, fail and the EXIT cleanup of the temp dir come from lib.sh (nothing else of it runs
# here: no runc, no containers).
source "$(dirname "$0")/lib.sh"
FAILED=0

# check_failed MSG: records a failure and goes on, so one run lists every missing piece.
check_failed() {
  echo "FAIL [$SCENARIO]: $*" >&2
  FAILED=$((FAILED + 1))
}

[[ -n ${COVE_BUILD:-} ]] || skip "COVE_BUILD is not set (run through ctest, or set it to the build dir)"
[[ -f $COVE_BUILD/cmake_install.cmake ]] || fail "COVE_BUILD=$COVE_BUILD is not a configured build dir"
command -v cpack >/dev/null || skip "cpack is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
command -v objdump >/dev/null || skip "objdump (binutils) is not installed"
TEST_DIR=$(mktemp -d /tmp/cove-deploy.XXXXXX) || fail "mktemp failed"
trap cleanup EXIT
trap 'exit 130' INT TERM

# expect_file PATH [MODE]: PATH is a regular file (and, with MODE "x", executable).
expect_file() {
  if [[ ! -f $1 ]]; then
    check_failed "missing $1"
  elif [[ ${2:-} == x && ! -x $1 ]]; then
    check_failed "$1 is not executable"
  else
    say "ok   $1"
  fi
}
# expect_line FILE REGEX WHAT
expect_line() {
  if grep -qE -- "$2" "$1" 2>/dev/null; then
    say "ok   $3: $(grep -m1 -E -- "$2" "$1")"
  else
    check_failed "$3: no line matching /$2/ in $1"
  fi
}
expect_no_line() {
  if grep -qE -- "$2" "$1" 2>/dev/null; then
    check_failed "$3: $1 has $(grep -m1 -E -- "$2" "$1")"
  else
    say "ok   $3"
  fi
}

# install_into DESTDIR [cmake --install args...]
install_into() {
  local dest=$1
  shift
  DESTDIR=$dest cmake --install "$COVE_BUILD" "$@" >"$dest.log" 2>&1 ||
    fail "cmake --install $* failed: $(tail -n 5 "$dest.log")"
}

# check_tree ROOT PREFIX: the files of a prefix-PREFIX install under ROOT.
check_tree() {
  local root=$1 prefix=$2 p=$1$2 b u
  for b in cove cove-runtime covefs cove-sync; do
    expect_file "$p/bin/$b" x
  done
  for u in covefs@.service cove-sync@.service; do
    expect_file "$p/lib/systemd/system/$u"
    if [[ $prefix != /usr/local ]]; then
      expect_no_line "$p/lib/systemd/system/$u" '/usr/local/bin' "$u names no other prefix's bin"
    fi
  done
  expect_line "$p/lib/systemd/system/covefs@.service" "^ExecStart=$prefix/bin/covefs " "covefs@ ExecStart"
  expect_line "$p/lib/systemd/system/cove-sync@.service" "^ExecStart=$prefix/bin/cove-sync " "cove-sync@ ExecStart"
  expect_line "$p/lib/systemd/system/covefs@.service" "^Documentation=file://$prefix/share/doc/cove/" "covefs@ Documentation"
  expect_file "$p/share/cove/policy.json"
  cmp -s "$p/share/cove/policy.json" "$COVE_SRC/docker/policy.json" ||
    check_failed "$p/share/cove/policy.json differs from docker/policy.json"
  expect_file "$p/share/cove/daemon.json"
  jq -e '.runtimes.cove.path' "$p/share/cove/daemon.json" >/dev/null 2>&1 ||
    check_failed "$p/share/cove/daemon.json has no runtimes.cove.path"
  for d in README.md architecture.md policy.md sync.md operations.md security.md; do
    expect_file "$p/share/doc/cove/$d"
  done
}

# 1. Default prefix.
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$COVE_BUILD/CMakeCache.txt")
say "cmake --install $COVE_BUILD into DESTDIR $TEST_DIR/dest (prefix $prefix)"
install_into "$TEST_DIR/dest"
check_tree "$TEST_DIR/dest" "$prefix"
if [[ -e $TEST_DIR/dest/etc ]]; then
  check_failed "cmake --install wrote under /etc: $(cd "$TEST_DIR/dest" && find etc | head)"
else
  say "ok   nothing under /etc (the policy there is the package's conffile, not cmake --install's)"
fi
# 2. Another prefix at install time.
say "cmake --install --prefix /opt/cove"
install_into "$TEST_DIR/opt" --prefix /opt/cove
check_tree "$TEST_DIR/opt" /opt/cove

# 3. The Debian package.
say "cpack -G DEB (prefix /usr)"
(cd "$TEST_DIR" && cpack -G DEB --config "$COVE_BUILD/CPackConfig.cmake" -B "$TEST_DIR/pkg" \
  -D CPACK_PACKAGING_INSTALL_PREFIX=/usr >"$TEST_DIR/cpack.log" 2>&1) ||
  fail "cpack failed: $(tail -n 10 "$TEST_DIR/cpack.log")"
deb=$(find "$TEST_DIR/pkg" -maxdepth 1 -name 'cove_*.deb' | head -n1)
[[ -n $deb ]] || fail "cpack made no cove_*.deb in $TEST_DIR/pkg: $(ls "$TEST_DIR/pkg")"
say "package $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's#^\./#/#' >"$TEST_DIR/contents" ||
  fail "dpkg-deb -c $deb failed"
for f in /usr/bin/cove /usr/bin/cove-runtime /usr/bin/covefs /usr/bin/cove-sync \
  /usr/lib/systemd/system/covefs@.service /usr/lib/systemd/system/cove-sync@.service \
  /usr/share/cove/policy.json /usr/share/cove/daemon.json /usr/share/doc/cove/operations.md \
  /etc/cove/policy.json; do
  if grep -qxF "$f" "$TEST_DIR/contents"; then
    say "ok   .deb has $f"
  else
    check_failed ".deb lacks $f (dpkg-deb -c)"
  fi
done
if grep -q '^/usr/local/' "$TEST_DIR/contents"; then
  check_failed ".deb installs under /usr/local: $(grep -m3 '^/usr/local/' "$TEST_DIR/contents")"
fi

dpkg-deb -I "$deb" >"$TEST_DIR/info" || fail "dpkg-deb -I $deb failed"
expect_line "$TEST_DIR/info" '^ Package: cove$' "control Package"
depends=$(sed -n 's/^ Depends: //p' "$TEST_DIR/info")
say "Depends: $depends"
# The package names in Depends, one per line (versions and alternatives' bars removed).
dep_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*)//; s/ //g' | sed '/^$/d' | sort -u)
depends_on() {
  grep -qxF -- "$1" <<<"$dep_names"
}
for p in runc fuse3 libfuse3-3 libgit2-1.5 liburing2 libseccomp2; do
  if depends_on "$p"; then
    say "ok   depends on $p"
  else
    check_failed ".deb does not depend on $p (Depends: $depends)"
  fi
done
# Every name in Depends is a package Debian (this host's apt) knows.
if command -v apt-cache >/dev/null; then
  for p in $dep_names; do
    apt-cache show "$p" >/dev/null 2>&1 || check_failed "Depends names $p, which apt-cache does not know"
  done
fi

mkdir -p "$TEST_DIR/control" "$TEST_DIR/root"
dpkg-deb -e "$deb" "$TEST_DIR/control" || fail "dpkg-deb -e $deb failed"
if grep -qxF /etc/cove/policy.json "$TEST_DIR/control/conffiles" 2>/dev/null; then
  say "ok   conffiles: $(tr '\n' ' ' <"$TEST_DIR/control/conffiles")"
else
  check_failed "/etc/cove/policy.json is not a conffile (control/conffiles: $(cat "$TEST_DIR/control/conffiles" 2>&1))"
fi
dpkg-deb -x "$deb" "$TEST_DIR/root" || fail "dpkg-deb -x $deb failed"
expect_line "$TEST_DIR/root/usr/lib/systemd/system/covefs@.service" '^ExecStart=/usr/bin/covefs ' ".deb covefs@ ExecStart"
expect_line "$TEST_DIR/root/usr/lib/systemd/system/cove-sync@.service" '^ExecStart=/usr/bin/cove-sync ' ".deb cove-sync@ ExecStart"
cmp -s "$TEST_DIR/root/etc/cove/policy.json" "$COVE_SRC/docker/policy.json" ||
  check_failed ".deb's /etc/cove/policy.json differs from docker/policy.json"

# Shared libraries: each NEEDED entry is owned (dpkg -S) by a package in Depends, or by libc6 /
# libgcc-s1 (libc6 depends on libgcc-s1).
for b in cove cove-runtime covefs cove-sync; do
  while read -r lib; do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|x32|AArch64|64bit/ {print $NF; exit}')
    [[ -n $path ]] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    owner=$(dpkg -S "$(realpath "$path" 2>/dev/null || echo "$path")" 2>/dev/null | head -n1 | cut -d: -f1)
    [[ -n $owner ]] || owner=$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1)
    if [[ -z $owner ]]; then
      check_failed "$b needs $lib ($path), which no installed package owns"
    elif [[ $owner == libc6 || $owner == libgcc-s1 ]] || depends_on "$owner"; then
      say "ok   $b: $lib from $owner"
    else
      check_failed "$b needs $lib from package $owner, which the .deb does not depend on"
    fi
  done < <(objdump -p "$TEST_DIR/root/usr/bin/$b" | awk '/NEEDED/ {print $2}')
done

# 4. Deployment files.
if python3 -c 'import yaml, tomllib' 2>/dev/null; then
  if python3 - "$COVE_SRC/docker" >"$TEST_DIR/manifests.out" 2>&1 <<'PY'
import sys, tomllib, yaml
d = sys.argv[1]
def load(name):
    with open(f"{d}/{name}") as f:
        return [x for x in yaml.safe_load_all(f) if x]
compose = load("compose.yaml")[0]
svc = compose["services"]
assert sorted(svc) == ["agent-1", "agent-2", "preview", "sync"], sorted(svc)
for name, want in [("agent-1", "cove-agent"), ("agent-2", "cove-agent"), ("preview", "cove-preview"), ("sync", "cove-sync")]:
    assert svc[name]["runtime"] == want, (name, svc[name].get("runtime"))
    assert any(v["source"].startswith("/run/cove/teams/") and v["target"] == "/workspace" for v in svc[name]["volumes"]), name
    assert "COVE_TEAM" in svc[name]["environment"], name
kinds = {}
for f in ["runtimeclass.yaml", "cove-install.yaml", "cove-team.yaml"]:
    for doc in load(f"kubernetes/{f}"):
        kinds[doc["kind"] + "/" + doc["metadata"]["name"]] = doc
rc = kinds["RuntimeClass/cove"]
assert rc["handler"] == "cove" and rc["apiVersion"] == "node.k8s.io/v1"
ds = kinds["DaemonSet/cove-team-alpha"]["spec"]["template"]["spec"]
assert ds["hostPID"] is True
covefs = next(c for c in ds["containers"] if c["name"] == "covefs")
assert covefs["securityContext"]["privileged"] is True
mounts = {m["mountPath"]: m for m in covefs["volumeMounts"]}
assert mounts["/run/cove/teams"]["mountPropagation"] == "Bidirectional"
assert "/dev/fuse" in mounts
paths = [m["mountPath"] for m in covefs["volumeMounts"]]
assert paths.index("/run/cove") < paths.index("/run/cove/teams"), "a /run/cove mount after /run/cove/teams hides it"
with open(f"{d}/kubernetes/containerd-cove.toml", "rb") as f:
    t = tomllib.load(f)
h = t["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]["cove"]
assert h["runtime_type"] == "io.containerd.runc.v2"
assert h["options"]["BinaryName"] == "/usr/local/bin/cove-runtime"
assert "dev.cove.*" in h["pod_annotations"] and "dev.cove.*" in h["container_annotations"]
print(kinds["ConfigMap/cove-policy"]["data"]["policy-kubernetes.jq"], end="")
PY
  then
    say "ok   compose.yaml, kubernetes/*.yaml and containerd-cove.toml parse and say what cove needs"
    # The ConfigMap carries the same filter as kubernetes/policy-kubernetes.jq (without comments).
    if diff <(grep -v '^#' "$COVE_SRC/docker/kubernetes/policy-kubernetes.jq") "$TEST_DIR/manifests.out" >/dev/null; then
      say "ok   the ConfigMap's jq filter is policy-kubernetes.jq"
    else
      check_failed "the ConfigMap cove-policy's jq filter differs from docker/kubernetes/policy-kubernetes.jq"
    fi
    if [[ -n ${COVE_CLI:-} && -x ${COVE_CLI:-} ]]; then
      sed -e 's#^[[:space:]]*//.*##' "$COVE_SRC/docker/policy.json" |
        jq -f "$COVE_SRC/docker/kubernetes/policy-kubernetes.jq" >"$TEST_DIR/k8s-policy.json" ||
        check_failed "jq -f policy-kubernetes.jq failed on docker/policy.json"
      if "$COVE_CLI" policy lint "$TEST_DIR/k8s-policy.json" >"$TEST_DIR/lint.out" 2>&1; then
        say "ok   the Kubernetes policy passes cove policy lint"
      else
        check_failed "cove policy lint on the Kubernetes policy: $(cat "$TEST_DIR/lint.out")"
      fi
      jq -e '.roles.agent.mounts.deny | index("/run/containerd/containerd.sock")' "$TEST_DIR/k8s-policy.json" >/dev/null ||
        check_failed "the Kubernetes policy does not deny /run/containerd/containerd.sock to agents"
    fi
  else
    check_failed "deployment files: $(tail -n 5 "$TEST_DIR/manifests.out")"
  fi
else
  check_failed "python3 with yaml and tomllib is needed to check the manifests (apt-get install python3-yaml)"
fi

if [[ $FAILED -gt 0 ]]; then
  echo "FAIL [$SCENARIO]: $FAILED check(s) failed" >&2
  exit 1
fi
echo "PASS [$SCENARIO]"
