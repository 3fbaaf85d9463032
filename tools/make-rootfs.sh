#!/usr/bin/env bash
# make-rootfs.sh OUT_DIR PROBE_BINARY
#
# Builds the minimal rootfs the integration tests run: Debian's static busybox with a symlink per
# applet in /bin, /etc/passwd and /etc/group with root and user 1000 "agent", the empty
# directories a runtime mounts over (proc sys dev tmp workspace), and cove-probe at
# /bin/cove-probe. Running it again on the same OUT_DIR refreshes the binaries and leaves the
# rest as it is. Needs no network and no root.
set -euo pipefail

die() {
  echo "make-rootfs.sh: $*" >&2
  exit 1
}

[[ $# -eq 2 ]] || die "usage: make-rootfs.sh OUT_DIR PROBE_BINARY"
out=$1
probe=$2
busybox=${BUSYBOX:-/bin/busybox}

# The rootfs has no libc, so both binaries must be static.
is_static() {
  # An ELF file with a PT_INTERP (program interpreter) is dynamically linked.
  local headers
  if command -v readelf >/dev/null 2>&1; then
    headers=$(readelf -l "$1" 2>/dev/null) || return 1
    [[ $headers != *"program interpreter"* ]]
  else
    if grep -q 'ld-linux' "$1"; then return 1; fi
  fi
}

[[ -x $busybox ]] || die "$busybox not found; install it with: apt-get install busybox-static"
is_static "$busybox" || die "$busybox is dynamically linked (package busybox?); install the static one: apt-get install busybox-static"
[[ -f $probe ]] || die "probe binary $probe not found (build the cove-probe target)"
is_static "$probe" || die "probe binary $probe is dynamically linked; it must be linked with -static"

mkdir -p "$out"
cd "$out"
mkdir -p bin etc proc sys dev workspace root tmp
chmod 1777 tmp

# cp to a temporary name then rename, so a rootfs in use by a running container is never seen
# half-written ("text file busy" cannot happen either).
install -m 0755 "$busybox" bin/.busybox.new && mv -f bin/.busybox.new bin/busybox
install -m 0755 "$probe" bin/.cove-probe.new && mv -f bin/.cove-probe.new bin/cove-probe

# One symlink per applet, all in /bin (the spec's PATH includes /bin).
while IFS= read -r applet; do
  [[ -n $applet && $applet != busybox && $applet != */* ]] || continue
  [[ -L bin/$applet && $(readlink "bin/$applet") == busybox ]] && continue
  ln -sfn busybox "bin/$applet"
done < <("$busybox" --list)

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
agent:x:1000:1000:agent:/workspace:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
agent:x:1000:
nogroup:x:65534:
EOF
