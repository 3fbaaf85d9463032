#!/usr/bin/env bash
# build-local.sh [--docker "CMD..."] [--only NAME,...] [--out DIR] [--tag-suffix S]
#
# Builds the cove images without a registry: a Debian 12 root filesystem from Debian's archive
# (debootstrap --variant=minbase), the packages each image needs installed into it with apt-get
# in a chroot, a user 1000:1000, then `docker import` with USER / WORKDIR / ENV / CMD given by
# --change. The images have the names and runtime behaviour of docker/images/*.Dockerfile:
#
#   cove/agent:latest           Node.js, npm, Python 3, git; user agent (1000), /workspace
#   cove/preview-node:latest    Node.js + npm, cove-preview-serve, HOME and caches in /tmp
#   cove/preview-python:latest  Python 3 + Flask, cove-preview-serve
#   cove/sync:latest            cove-sync (from --cove-sync or $COVE_SYNC) + git
#   cove/minimal:latest         busybox-static only (+ cove-probe if $COVE_PROBE is set), user 1000
#
# Differences from the registry images, on purpose: Debian 12's nodejs is 18.x (the Dockerfiles
# use the Node.js project's 22 from node:22-bookworm), Python is Debian's 3.11 in both, and Flask
# is Debian's python3-flask rather than pip's. Each image carries ENV COVE_IMAGE_SOURCE=offline.
#
# Caches (reruns are fast): /var/cache/cove-test/debian-bookworm-minbase.tar (debootstrap) and
# /var/cache/cove-test/image-<name>-<hash>.tar (a finished rootfs; the hash covers its package
# list and this script's recipe). $COVE_IMAGE_CACHE moves them.
#
# --docker "CMD..."  the docker client to import with (default: docker), e.g. "docker -H unix:///x.sock"
# --only a,b         build only these images (default: agent,preview-node,preview-python,sync,minimal)
# --out DIR          also write DIR/<name>.oci.tar (tools/images/make-oci-archive.sh) for
#                    `ctr image import`; with --no-import, do not talk to Docker at all
# --cove-sync PATH   the cove-sync binary for the sync image (default $COVE_SYNC, else build/sync/cove-sync)
# Needs root (debootstrap, chroot) and the Debian mirror of /etc/apt/sources.list.
set -euo pipefail

die() {
  echo "build-local.sh: $*" >&2
  exit 1
}
# Progress goes to stderr: build_debian's stdout is the path of the rootfs it made.
say() {
  echo "build-local.sh: $*" >&2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${COVE_IMAGE_CACHE:-/var/cache/cove-test}
docker_cmd=(docker)
only=agent,preview-node,preview-python,sync,minimal
out=""
do_import=1
cove_sync=${COVE_SYNC:-$src/build/sync/cove-sync}
while [[ $# -gt 0 ]]; do
  case $1 in
    --docker) read -r -a docker_cmd <<<"$2"; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-import) do_import=0; shift ;;
    --cove-sync) cove_sync=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (--help)" ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap and chroot)"
mkdir -p "$cache"

# The mirror apt on this host uses: debootstrap fetches the same archive.
mirror() {
  local m
  m=$(grep -rhoE '^(deb|URIs:)[[:space:]]+https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  echo "${m:-http://deb.debian.org/debian}"
}

work=$(mktemp -d /var/tmp/cove-images.XXXXXX)
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount -l "${mounts[$i]}" 2>/dev/null || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

base_tar=$cache/debian-bookworm-minbase.tar
base() {
  [[ -s $base_tar ]] && return 0
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  local m
  m=$(mirror)
  say "debootstrap bookworm from $m (once; cached in $base_tar)"
  debootstrap --variant=minbase bookworm "$work/base" "$m" >"$work/debootstrap.log" 2>&1 ||
    die "debootstrap failed: $(tail -n 5 "$work/debootstrap.log")"
  tar -C "$work/base" --numeric-owner -cf "$base_tar.new" . && mv -f "$base_tar.new" "$base_tar"
  rm -rf --one-file-system "$work/base"
}

# chroot_run ROOT CMD...: with /proc, /dev and the host's resolv.conf, no service starts.
chroot_run() {
  local root=$1
  shift
  mount -t proc proc "$root/proc" && mounts+=("$root/proc")
  mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && mounts+=("$root/dev")
  cp -f /etc/resolv.conf "$root/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  local rc=0
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
  rm -f "$root/usr/sbin/policy-rc.d"
  umount -l "$root/dev" && unset 'mounts[-1]'
  umount "$root/proc" && unset 'mounts[-1]'
  : >"$root/etc/resolv.conf"
  return "$rc"
}

# The recipe of each image: Debian packages, then shell run in the chroot as root.
packages_of() {
  case $1 in
    agent) echo "nodejs npm python3 python3-venv python3-pip git ca-certificates openssh-client less procps" ;;
    preview-node) echo "nodejs npm ca-certificates" ;;
    preview-python) echo "python3 python3-flask ca-certificates" ;;
    sync) echo "git ca-certificates libgit2-1.5 liburing2 libstdc++6" ;;
  esac
}
user_of() {
  case $1 in
    agent) echo "agent /home/agent /bin/bash" ;;
    sync) echo "cove /state /usr/sbin/nologin" ;;  # Debian has a user "sync" (uid 4)
    *) echo "preview /tmp /usr/sbin/nologin" ;;
  esac
}
# docker import --change lines (the Dockerfiles' USER/WORKDIR/ENV/CMD).
changes_of() {
  local common=("USER 1000:1000" "WORKDIR /workspace" "ENV COVE_IMAGE_SOURCE=offline"
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
  printf '%s\n' "${common[@]}"
  case $1 in
    agent) printf '%s\n' "ENV HOME=/home/agent" "ENV npm_config_cache=/home/agent/.npm" \
      "ENV PIP_DISABLE_PIP_VERSION_CHECK=1" "ENV GIT_CONFIG_NOSYSTEM=1" 'CMD ["bash"]' ;;
    preview-node) printf '%s\n' "ENV COVE_PREVIEW_FRAMEWORK=node" "ENV PREVIEW_PORT=5173" "ENV HOME=/tmp" \
      "ENV npm_config_cache=/tmp/.npm" "ENV npm_config_update_notifier=false" "ENV VITE_CACHE_DIR=/tmp/.vite" \
      "EXPOSE 5173" 'CMD ["/usr/local/bin/cove-preview-serve"]' ;;
    preview-python) printf '%s\n' "ENV COVE_PREVIEW_FRAMEWORK=python" "ENV PREVIEW_PORT=8000" "ENV HOME=/tmp" \
      "ENV PYTHONDONTWRITEBYTECODE=1" "ENV PYTHONPYCACHEPREFIX=/tmp/pycache" \
      "EXPOSE 8000" 'CMD ["/usr/local/bin/cove-preview-serve"]' ;;
    sync) printf '%s\n' 'ENTRYPOINT ["/usr/local/bin/cove-sync"]' ;;
    minimal) printf '%s\n' "ENV HOME=/tmp" 'CMD ["/bin/sh"]' ;;
  esac
}

# build_debian NAME: the image's rootfs tarball in the cache (made once), path on stdout.
build_debian() {
  local name=$1 pkgs key tar root user home shell
  pkgs=$(packages_of "$name")
  read -r user home shell <<<"$(user_of "$name")"
  # The recipe: packages, user, and this function's text.
  key=$( (echo "$pkgs $user $home $shell"; declare -f build_debian chroot_run) | sha256sum | cut -c1-16)
  tar=$cache/image-$name-$key.tar
  if [[ -s $tar ]]; then
    say "$name: cached rootfs $tar" >&2
    echo "$tar"
    return 0
  fi
  base
  root=$work/$name
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xf "$base_tar"
  say "$name: apt-get install $pkgs" >&2
  chroot_run "$root" sh -ec "apt-get update -q && apt-get install -y -q --no-install-recommends $pkgs \
    && apt-get clean && rm -rf /var/lib/apt/lists/*" >"$work/$name.apt.log" 2>&1 ||
    die "$name: apt-get in the chroot failed: $(tail -n 8 "$work/$name.apt.log")"
  chroot_run "$root" sh -ec "groupadd -g 1000 $user && useradd -u 1000 -g 1000 -d $home -s $shell $user \
    && mkdir -p $home /workspace && chown 1000:1000 /workspace && { [ $home = /tmp ] || chown 1000:1000 $home; }" ||
    die "$name: cannot create user 1000"
  tar -C "$root" --numeric-owner -cf "$tar.new" . && mv -f "$tar.new" "$tar"
  rm -rf --one-file-system "$root"
  echo "$tar"
}

# finish NAME TAR: the image's own files on top of the cached rootfs (binaries that change with
# every build are not cached), then import / archive.
finish() {
  local name=$1 tar=$2 root=$work/$name-final ref=cove/$1:latest
  rm -rf --one-file-system "$root"
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xf "$tar"
  case $name in
    preview-*) install -D -m 0755 "$src/docker/images/cove-preview-serve" "$root/usr/local/bin/cove-preview-serve" ;;
    sync)
      [[ -x $cove_sync ]] || die "sync: no cove-sync binary at $cove_sync (--cove-sync PATH or build it)"
      install -D -m 0755 "$cove_sync" "$root/usr/local/bin/cove-sync"
      mkdir -p "$root/journal" "$root/state" && chown 1000:1000 "$root/state"
      # Every library cove-sync needs is in the image.
      local missing
      missing=$(chroot "$root" /usr/bin/ldd /usr/local/bin/cove-sync 2>&1 | grep 'not found' || true)
      [[ -z $missing ]] || die "sync: cove-sync misses libraries in the image: $missing"
      ;;
  esac
  local changes=() line
  while IFS= read -r line; do
    changes+=(--change "$line")
  done < <(changes_of "$name")
  if [[ $do_import -eq 1 ]]; then
    tar -C "$root" --numeric-owner -cf - . | "${docker_cmd[@]}" import "${changes[@]}" - "$ref" >/dev/null ||
      die "$name: docker import failed"
    say "$name: imported $ref"
  fi
  if [[ -n $out ]]; then
    mkdir -p "$out"
    local oci=() c
    for ((c = 1; c < ${#changes[@]}; c += 2)); do
      line=${changes[$c]}
      case $line in
        "USER "*) oci+=(--user "${line#USER }") ;;
        "WORKDIR "*) oci+=(--workdir "${line#WORKDIR }") ;;
        "ENV PATH="*) ;;
        "ENV "*) oci+=(--env "${line#ENV }") ;;
      esac
    done
    "$here/make-oci-archive.sh" "$root" "$out/$name.oci.tar" "docker.io/$ref" "${oci[@]}" >/dev/null ||
      die "$name: make-oci-archive.sh failed"
    say "$name: wrote $out/$name.oci.tar"
  fi
  rm -rf --one-file-system "$root"
}

build_minimal() {
  local root=$work/minimal-root tar=$work/minimal.tar
  [[ -x /bin/busybox ]] || die "minimal: /bin/busybox is missing (apt-get install busybox-static)"
  if [[ -n ${COVE_PROBE:-} ]]; then
    "$src/tools/make-rootfs.sh" "$root" "$COVE_PROBE" >/dev/null
  else
    mkdir -p "$root/bin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/workspace"
    chmod 1777 "$root/tmp"
    install -m 0755 /bin/busybox "$root/bin/busybox"
    /bin/busybox --list | while read -r a; do [[ $a == busybox ]] || ln -sf busybox "$root/bin/$a"; done
    printf 'root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000:agent:/workspace:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\nagent:x:1000:\n' >"$root/etc/group"
  fi
  chown 1000:1000 "$root/workspace"
  tar -C "$root" --numeric-owner -cf "$tar" .
  rm -rf --one-file-system "$root"
  echo "$tar"
}

IFS=, read -r -a names <<<"$only"
for name in "${names[@]}"; do
  case $name in
    agent | preview-node | preview-python | sync)
      tar=$(build_debian "$name") || exit 1
      finish "$name" "$tar"
      ;;
    minimal)
      tar=$(build_minimal) || exit 1
      finish minimal "$tar"
      ;;
    *) die "unknown image $name (agent, preview-node, preview-python, sync, minimal)" ;;
  esac
done
