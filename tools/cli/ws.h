#pragma once
// cove ws: a team's workspace lifecycle on this host (layout in workspace.h).
//
//   ws create TEAM [--repo URL] [--branch B]   the git checkout (clone, or init + empty commit)
//   ws mount TEAM                              covefs for the team, waited for until mounted
//   ws status [TEAM]                           checkout, mount, journal, cove-sync, sessions
//   ws session add|remove TEAM SESSION         a worktree per write session (sync/session.h)
//   ws gc --idle 2h [--stop]                   containers without a journaled write for 2h
//
// One file per subcommand (ws_create.cc, ...); this header holds their options and entry
// points, ws.cc the CLI wiring. Exit codes: 0 done, 1 the operation failed (git, covefs, a
// stop), 2 usage or input error (bad team name, existing workspace, unknown team).

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/journal.h"
#include "base/records.h"
#include "base/result.h"
#include "tools/cli/output.h"
#include "tools/cli/workspace.h"

namespace CLI {
class App;
}

namespace cli {

struct WsCreateOptions {
  std::string team;
  std::string repo;
  std::string branch;
  std::string owner = "1000:1000";
  bool json = false;
};

struct WsMountOptions {
  std::string team;
  std::string covefs;
  std::string policy;
  std::string state_dir;
  std::string owner;
  std::string journal_group;
  std::string log;
  int timeout_ms = 10000;
  bool json = false;
};

struct WsStatusOptions {
  std::string team;
  int timeout_ms = 2000;
  bool json = false;
};

struct WsSessionOptions {
  std::string team;
  std::string session;
  bool write = false;
  bool force = false;
  std::string owner = "1000:1000";
  bool json = false;
};

struct WsGcOptions {
  std::string idle;
  bool stop = false;
  std::string policy;
  std::string state_dir;
  std::string root;     // the runtime's root; default: each record's
  std::string runtime;  // default: each record's backend
  std::string grace = "10s";  // SIGTERM, then SIGKILL after this
  bool json = false;
};

struct WsOptions {
  WsPaths paths;
  WsCreateOptions create;
  WsMountOptions mount;
  WsStatusOptions status;
  WsSessionOptions session_add;
  WsSessionOptions session_remove;
  WsGcOptions gc;
  CLI::App* create_cmd = nullptr;
  CLI::App* mount_cmd = nullptr;
  CLI::App* status_cmd = nullptr;
  CLI::App* session_add_cmd = nullptr;
  CLI::App* session_remove_cmd = nullptr;
  CLI::App* gc_cmd = nullptr;
};

/// Adds `ws` and its subcommands to `app`. Returns the `ws` command.
CLI::App* add_ws(CLI::App& app, WsOptions& o);

/// Runs the ws subcommand that was parsed.
int ws(const WsOptions& o, const Io& io);

int ws_create(const WsPaths& paths, const WsCreateOptions& o, const Io& io);
int ws_mount(const WsPaths& paths, const WsMountOptions& o, const Io& io);
int ws_status(const WsPaths& paths, const WsStatusOptions& o, const Io& io);
int ws_session_add(const WsPaths& paths, const WsSessionOptions& o, const Io& io);
int ws_session_remove(const WsPaths& paths, const WsSessionOptions& o, const Io& io);
int ws_gc(const WsPaths& paths, const WsGcOptions& o, const Io& io);

/// True if `team` is a valid team name whose workspace (paths.workspace(team)) is a directory.
bool is_workspace(const WsPaths& paths, const std::string& team);

/// argv of `git ARGS` as cove runs it on a workspace: the ownership check off (the checkout
/// belongs to the workspace owner, cove runs as root) and no hooks (a cloned repository cannot
/// bring its own).
std::vector<std::string> git_argv(const std::vector<std::string>& args);

/// The first line of what `git -C repo ARGS` prints, "" when it fails.
std::string git_line(const std::string& repo, const std::vector<std::string>& args);

/// "UID:GID" -> the pair; "none" -> nullopt (ownership left alone). Error on anything else.
[[nodiscard]] base::Result<std::optional<std::pair<uid_t, gid_t>>> parse_owner(const std::string& text);

/// Gives every file under `path` (itself included, symlinks not followed) to uid:gid.
[[nodiscard]] base::Result<void> chown_tree(const std::string& path, uid_t uid, gid_t gid);

/// "90s", "15m", "2h", "7d", or a bare number of seconds -> seconds. Error on anything else.
[[nodiscard]] base::Result<int64_t> parse_duration(const std::string& text);

/// "3h12m", "45s", "2d4h": a duration for people.
std::string format_duration(int64_t seconds);

/// What the journal says about one container: its last change.
struct LastWrite {
  uint64_t seq = 0;
  int64_t time_ns = 0;
};

/// Folds journal records into the last write of each container (records without a container,
/// host-side edits and rescan markers, are not anyone's write).
void fold_last_writes(const std::vector<base::JournalRecord>& records,
                      std::map<std::string, LastWrite>& last);

struct GcCandidate {
  base::ContainerRecord record;
  std::optional<LastWrite> last_write;  ///< nullopt: no write in the journal
  int64_t idle_seconds = 0;             ///< since the last write, else since the container was created
  bool idle = false;
};

/// Decides idleness: the last journaled write (else the record's creation time) is at least
/// `bound_seconds` before `now_ns`. A container whose record has no readable creation time and
/// no write is never idle (nothing says how long it has been quiet).
GcCandidate gc_decide(const base::ContainerRecord& rec, const std::optional<LastWrite>& last, int64_t now_ns,
                      int64_t bound_seconds);

}  // namespace cli
