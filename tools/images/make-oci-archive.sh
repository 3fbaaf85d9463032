#!/usr/bin/env bash
# make-oci-archive.sh ROOTFS_DIR OUT_TAR IMAGE_NAME [--user U] [--workdir D] [--env K=V]... [--cmd ARG]...
#
# Packs a root filesystem directory as a single-layer OCI image archive (an OCI image layout in a
# tar: oci-layout, index.json, blobs/sha256/...) that `ctr image import` and `podman load` read,
# without a Docker daemon or a registry. The layer is an uncompressed tar of ROOTFS_DIR with
# numeric owners; the image config carries USER, WORKDIR, ENV and CMD like `docker import
# --change` would. The index names the image both ways containerd looks for a name:
# io.containerd.image.name (the full reference) and org.opencontainers.image.ref.name (the tag).
#
# Example: make-oci-archive.sh rootfs/ probe.tar docker.io/library/cove-probe:test --cmd /bin/sh
# Needs: tar, sha256sum, jq. No root needed (files the caller cannot read are an error).
set -euo pipefail

die() {
  echo "make-oci-archive.sh: $*" >&2
  exit 1
}

[[ $# -ge 3 ]] || die "usage: make-oci-archive.sh ROOTFS_DIR OUT_TAR IMAGE_NAME [--user U] [--workdir D] [--env K=V]... [--cmd ARG]..."
rootfs=$1
out=$2
name=$3
shift 3
user=""
workdir=""
envs=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
cmd=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --user) user=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --cmd) cmd+=("$2"); shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[[ -d $rootfs ]] || die "$rootfs is not a directory"
command -v jq >/dev/null || die "jq is not installed"
[[ $name == *:* ]] || name="$name:latest"

# Go's GOARCH names, which image platforms use.
case $(uname -m) in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  armv7l) arch=arm ;;
  ppc64le) arch=ppc64le ;;
  s390x) arch=s390x ;;
  *) die "unknown machine $(uname -m)" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/oci-archive.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT
mkdir -p "$work/layout/blobs/sha256"
blobs=$work/layout/blobs/sha256

# put_blob FILE: moves FILE into the blob store, prints "DIGEST SIZE".
put_blob() {
  local digest size
  digest=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv -f "$1" "$blobs/$digest"
  echo "$digest $size"
}

# Sorted names and a fixed mtime for the tar headers of directories would make the digest
# reproducible; file contents and mtimes still vary between builds, so it is not attempted.
tar -C "$rootfs" --numeric-owner --xattrs -cf "$work/layer.tar" . || die "tar of $rootfs failed"
read -r layer_digest layer_size < <(put_blob "$work/layer.tar")

# A JSON array of the words given, one per line (jq's --args would take a word like "-c" for
# its own option, and jq 1.6 stops reading a string at a NUL byte).
json_array() {
  local w
  for w in "$@"; do
    [[ $w != *$'\n'* ]] || die "a newline in '$w'"
  done
  if [[ $# -eq 0 ]]; then
    echo '[]'
  else
    printf '%s\n' "$@" | jq -R . | jq -sc .
  fi
}

jq -n --argjson env "$(json_array "${envs[@]}")" --argjson cmd "$(json_array "${cmd[@]+"${cmd[@]}"}")" --arg arch "$arch" --arg user "$user" --arg workdir "$workdir" --arg diff "sha256:$layer_digest" '{
    architecture: $arch, os: "linux",
    created: (now | todate),
    config: ({Env: $env}
             + (if ($cmd | length) > 0 then {Cmd: $cmd} else {} end)
             + (if $user != "" then {User: $user} else {} end)
             + (if $workdir != "" then {WorkingDir: $workdir} else {} end)),
    rootfs: {type: "layers", diff_ids: [$diff]},
    history: [{created_by: "make-oci-archive.sh", created: (now | todate)}]
  }' >"$work/config.json"
[[ -s $work/config.json ]] || die "could not write the image config"
read -r config_digest config_size < <(put_blob "$work/config.json")

jq -n --arg cd "sha256:$config_digest" --argjson cs "$config_size" \
  --arg ld "sha256:$layer_digest" --argjson ls "$layer_size" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
  }' >"$work/manifest.json"
read -r manifest_digest manifest_size < <(put_blob "$work/manifest.json")

jq -n --arg md "sha256:$manifest_digest" --argjson ms "$manifest_size" --arg name "$name" \
  --arg arch "$arch" '{
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [{
      mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $md, size: $ms,
      platform: {architecture: $arch, os: "linux"},
      annotations: {"io.containerd.image.name": $name,
                    "org.opencontainers.image.ref.name": ($name | sub("^.*:"; ""))}
    }]
  }' >"$work/layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"

tar -C "$work/layout" -cf "$out.new" oci-layout index.json blobs || die "tar of the layout failed"
mv -f "$out.new" "$out"
echo "make-oci-archive.sh: $out: $name (manifest sha256:$manifest_digest, layer $layer_size bytes)"
