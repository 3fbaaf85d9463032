#!/usr/bin/env bash
# make-bundle.sh BUNDLE_DIR ROOTFS_DIR [ARGS...]
#
# Writes BUNDLE_DIR/config.json: `runc spec`'s default, then with jq
#   process.terminal  false (the tests read the container's stdout)
#   process.args      ARGS, default: /bin/cove-probe report
#   process.env       += the words of $BUNDLE_ENV (space-separated KEY=VAL, e.g. "COVE_ROLE=agent")
#   root.path         the absolute path of ROOTFS_DIR (not copied, not bind mounted)
#   root.readonly     false
#   linux.cgroupsPath /cove-test/<basename of BUNDLE_DIR>
# Anything already in BUNDLE_DIR/config.json is replaced. $RUNC names the runc to ask (default:
# runc on PATH).
set -euo pipefail

die() {
  echo "make-bundle.sh: $*" >&2
  exit 1
}

[[ $# -ge 2 ]] || die "usage: make-bundle.sh BUNDLE_DIR ROOTFS_DIR [ARGS...]"
bundle=$1
rootfs=$2
shift 2
if [[ $# -eq 0 ]]; then
  set -- /bin/cove-probe report
fi

runc=${RUNC:-$(command -v runc || true)}
[[ -n $runc && -x $runc ]] || die "runc not found (set RUNC or install runc)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
[[ -d $rootfs ]] || die "rootfs $rootfs is not a directory (make it with tools/make-rootfs.sh)"

mkdir -p "$bundle"
bundle=$(cd "$bundle" && pwd -P)
rootfs=$(cd "$rootfs" && pwd -P)

# runc spec refuses to overwrite config.json, so generate it in a scratch directory.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/make-bundle.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
"$runc" spec --bundle "$scratch" || die "$runc spec failed"

# A JSON array of strings from the arguments. Each one is passed as the value of an --arg,
# because jq 1.6 still parses options after --args ("-c" would be taken as jq's own flag) and
# drops what follows a NUL in raw input.
json_array() {
  local jq_args=() i=0 a
  for a in "$@"; do
    jq_args+=(--arg "$(printf 'a%06d' "$i")" "$a")
    i=$((i + 1))
  done
  jq -cn ${jq_args[@]+"${jq_args[@]}"} '[$ARGS.named | to_entries | sort_by(.key)[] | .value]'
}
read -ra env_words <<<"${BUNDLE_ENV:-}"
env_json=$(json_array ${env_words[@]+"${env_words[@]}"})
args_json=$(json_array "$@")

jq --argjson args "$args_json" \
   --argjson env "$env_json" \
   --arg root "$rootfs" \
   --arg cgroup "/cove-test/$(basename "$bundle")" \
   '.process.terminal = false
    | .process.args = $args
    | .process.env = ((.process.env // []) + $env)
    | .root.path = $root
    | .root.readonly = false
    | .linux.cgroupsPath = $cgroup' \
   "$scratch/config.json" >"$scratch/config.new"
mv -f "$scratch/config.new" "$bundle/config.json"
