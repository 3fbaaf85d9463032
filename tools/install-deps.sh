#!/usr/bin/env bash
# Installs, from Debian's archive, every package cove builds, tests and benchmarks with. Only
# what is missing is installed; `apt-get update` runs once, and only if something is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  nlohmann-json3-dev libseccomp-dev libcap-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libfuse3-dev libgit2-dev liburing-dev
  # run and test
  runc containerd docker.io busybox-static fuse3 jq git iproute2 procps
  # deployment: manifests checked with PyYAML, Debian base images for tools/images/build-local.sh
  python3-yaml debootstrap
  # benchmarks
  hyperfine fio
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
