# shellcheck shell=bash
# Cleanup of what a scenario's daemons can leave behind in its temp dir, shared by the Docker
# scenarios (docker/lib.sh) and the containerd one (deploy_ctr.sh). Uses $SCENARIO for messages.

# kill_processes_naming DIR: SIGKILL every process whose argv names a path under DIR (containerd
# shims outlive containerd by design; theirs name our socket in -address). /proc is read with
# builtins only, so no helper process (whose own argv names DIR) is ever matched.
kill_processes_naming() {
  local dir=$1 f p args
  for f in /proc/[0-9]*/cmdline; do
    p=${f#/proc/}
    p=${p%/cmdline}
    [[ $p != "$$" && $p != "$BASHPID" ]] || continue
    mapfile -d '' args 2>/dev/null <"$f" || continue
    [[ " ${args[*]} " == *"$dir/"* ]] || continue
    echo "[$SCENARIO] killing leftover process $p: ${args[*]:0:6}" >&2
    kill -KILL "$p" 2>/dev/null
  done
}

# unmount_under DIR: every mount below DIR, deepest first (the host netns bind at
# <exec-root>/netns/default, overlay layers of a daemon that was killed).
unmount_under() {
  local m
  while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "[$SCENARIO] cannot unmount $m" >&2
  done < <(awk -v d="$1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
}
