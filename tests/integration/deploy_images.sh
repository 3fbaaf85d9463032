#!/usr/bin/env bash
# tools/images/build-local.sh builds usable images with no registry: against a private dockerd,
# it builds cove/sync (Debian 12 rootfs from the archive + git + this build's cove-sync) and
# cove/minimal (busybox), and then:
#   - docker image inspect shows what the Dockerfiles set: User 1000:1000, WorkingDir /workspace,
#     cove-sync as the entrypoint;
#   - `docker run --runtime=cove-sync cove/sync --help` works under the sync role (read-only
#     rootfs, 128 MiB, seccomp), so every library cove-sync needs is in the image;
#   - `docker run --runtime=cove-agent cove/minimal id` runs as uid 1000;
#   - the OCI archive written by --out is a valid image layout (index.json names cove/sync).
# The Debian rootfs is cached under /var/cache/cove-test (first run: debootstrap + apt-get from
# the Debian archive; skipped when neither the cache nor the archive is there).
source "$(dirname "$0")/docker/lib.sh"
[[ -n ${COVE_SYNC:-} ]] || skip "COVE_SYNC is not set (run through ctest, or set it to the cove-sync binary)"
[[ $(id -u) -eq 0 ]] || skip "needs root (dockerd, debootstrap, chroot)"
cache=${COVE_IMAGE_CACHE:-/var/cache/cove-test}
if [[ ! -s $cache/debian-bookworm-minbase.tar ]]; then
  command -v debootstrap >/dev/null || skip "debootstrap is not installed and $cache has no Debian rootfs"
  timeout 20 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null ||
    skip "no cached Debian rootfs in $cache and the Debian archive is unreachable"
fi
docker_setup

say "tools/images/build-local.sh --only sync,minimal"
capture build 900 "$COVE_SRC/tools/images/build-local.sh" --docker "${DK[*]}" --only sync,minimal \
  --cove-sync "$COVE_SYNC" --out "$TEST_DIR/oci"
[[ $RC -eq 0 ]] || fail "build-local.sh failed (exit $RC): $(tail -n 5 "$ERR")"
say "ok   build-local.sh: $(tr '\n' ' ' <"$OUT")"

dk_capture inspect 30 image inspect cove/sync:latest
[[ $RC -eq 0 ]] || fail "docker image inspect cove/sync:latest failed"
assert_eq "cove/sync User" 1000:1000 "$(jq -r '.[0].Config.User' "$OUT")"
assert_eq "cove/sync WorkingDir" /workspace "$(jq -r '.[0].Config.WorkingDir' "$OUT")"
assert_eq "cove/sync Entrypoint" /usr/local/bin/cove-sync "$(jq -r '.[0].Config.Entrypoint[0]' "$OUT")"

dk_capture sync-help 60 run --rm --runtime=cove-sync cove/sync:latest --help
assert_rc 0 "docker run --runtime=cove-sync cove/sync --help" &&
  if grep -q -- "--journal" "$OUT"; then say "ok   cove-sync --help lists --journal"; else check_failed "cove-sync --help printed no --journal: $(head -c 300 "$OUT")"; fi

dk_capture minimal-id 60 run --rm --runtime=cove-agent cove/minimal:latest id -u
assert_rc 0 "docker run --runtime=cove-agent cove/minimal id -u" &&
  assert_eq "uid in cove/minimal under the agent role" 1000 "$(tr -d '[:space:]' <"$OUT")"

name=$(tar -xOf "$TEST_DIR/oci/sync.oci.tar" index.json 2>/dev/null |
  jq -r '.manifests[0].annotations["io.containerd.image.name"]' 2>/dev/null)
assert_eq "OCI archive image name" docker.io/cove/sync:latest "$name"
finish
