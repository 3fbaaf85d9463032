#pragma once
// A team's workspace as the host lays it out, shared by `cove doctor` and `cove ws`. The paths
// are those of docker/covefs@.service and docker/cove-sync@.service, so the units and the CLI
// agree:
//
//   <workspaces-root>/<team>          the git checkout covefs serves (--source)
//   <mounts-root>/<team>              covefs's mountpoint, bound into the team's containers
//   <mounts-root>/<team>.covefs.pid   covefs's pid, written once it has mounted
//   <journal-root>/<team>             covefs's change journal (base/journal.h)
//   <sync-root>/<team>/status.json    cove-sync's status (sync/status.h)
//
// Defaults: /var/lib/cove/workspaces, /run/cove/teams, /var/lib/cove/journal, /var/lib/cove/sync.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "tools/cli/mount_probe.h"

namespace CLI {
class App;
}

namespace cli {

struct WsPaths {
  std::string workspaces_root = "/var/lib/cove/workspaces";
  std::string mounts_root = "/run/cove/teams";
  std::string journal_root = "/var/lib/cove/journal";
  std::string sync_root = "/var/lib/cove/sync";

  std::string workspace(const std::string& team) const { return workspaces_root + "/" + team; }
  std::string mountpoint(const std::string& team) const { return mounts_root + "/" + team; }
  std::string pidfile(const std::string& team) const { return mountpoint(team) + ".covefs.pid"; }
  std::string journal(const std::string& team) const { return journal_root + "/" + team; }
  std::string sync_state(const std::string& team) const { return sync_root + "/" + team; }
  std::string sync_status(const std::string& team) const { return sync_state(team) + "/status.json"; }
  /// True when every root is the default (the systemd units' layout).
  bool defaults() const;
  /// The flags naming the roots that are not the default: " --mounts-root /tmp/x" (leading
  /// space), for fix commands.
  std::string non_default_flags() const;
};

/// --workspaces-root, --mounts-root, --journal-root, --sync-root on `c`.
void add_path_options(CLI::App* c, WsPaths& p);

/// Team names are directory names and systemd instance names: [A-Za-z0-9._-], at most 64, not
/// starting with '.' or '-'.
bool valid_team_name(const std::string& team);

/// The teams: every directory under the workspaces root whose name is a valid team name, sorted.
std::vector<std::string> list_teams(const std::string& workspaces_root);

/// `word` quoted for a POSIX shell when it needs to be (fix commands are copied and pasted).
std::string shell_quote(const std::string& word);

/// What cove-sync's status.json says (sync/status.h), and whether its process is alive.
struct SyncState {
  std::string file;
  pid_t pid = 0;
  bool running = false;
  std::string updated;
  uint64_t lag = 0;
  uint64_t pending = 0;
  uint64_t last_seq_committed = 0;
  uint64_t journal_last_seq = 0;
  std::string head;
  std::string last_error;
  std::string last_error_time;
};

/// Parses the text of a status.json (running is left false).
[[nodiscard]] base::Result<SyncState> parse_sync_status(const std::string& text);

/// Reads `file` and checks its pid (alive and named cove-sync).
[[nodiscard]] base::Result<SyncState> read_sync_status(const std::string& file);

/// The mount at a team's mountpoint and whether its covefs answers.
struct MountState {
  std::string mountpoint;
  bool mounted = false;  ///< a fuse.covefs mount is the visible one there
  std::string fstype;    ///< what is mounted there ("" if nothing)
  std::string source;    ///< "covefs:<team>"
  std::optional<ProbeResult> probe;  ///< only when mounted
  pid_t covefs_pid = 0;              ///< from the pidfile, 0 if none
  bool covefs_alive = false;         ///< that pid is a live process named covefs
};

/// Looks the mountpoint up in `mounts` and, when covefs is mounted there, probes it with a
/// deadline of `timeout_ms`.
MountState mount_state(const WsPaths& paths, const std::string& team, const std::vector<MountInfo>& mounts,
                       int timeout_ms);

/// The seq of the last record of the journal in `dir`; nullopt when there is no journal.
std::optional<uint64_t> journal_last_seq(const std::string& dir);

/// The command that (re)starts covefs for `team`: `systemctl restart covefs@<team>` on the
/// units' layout, else the equivalent `cove ws mount`.
std::string covefs_fix(const WsPaths& paths, const std::string& team);

/// The command that (re)starts cove-sync for `team`, likewise.
std::string sync_fix(const WsPaths& paths, const std::string& team);

}  // namespace cli
