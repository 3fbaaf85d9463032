#pragma once
// cove fsmonitor: git's fsmonitor hook (core.fsmonitor, protocol version 2) answered from the
// team's change journal (base/journal.h) instead of a full scan of the worktree.
//
// git runs `<core.fsmonitor> 2 <token>` with the worktree's top as cwd and reads the new token,
// a NUL, then NUL-separated paths (relative to the worktree) that may have changed since
// <token>; a first path of "/" means "everything may have changed" and git scans it all. With
// core.untrackedCache=true git also trusts the hook for untracked files: a directory it is not
// told about is not read again. Under-reporting therefore makes `git status` lie, so every doubt
// is answered with "/":
//
// Token
// -----
//   cove:<writer>:<seq>:<stamp>
//
// <seq> is the last journal record the answer covers and <stamp> that record's `t` (0, 0 for an
// empty journal). The pair names a record unambiguously: a journal that was recreated, a
// different team's journal, or seqs handed out again after a power loss (journal.h) have
// another `t` at that seq. <writer> is "<inode>.<mtime ns>" of the journal's writer.lock, which
// covefs rewrites every time it starts and stops: changes made to the source directory while
// covefs was not running (nothing journals them) invalidate every older token. A token is
// valid when the writer id is the current one, covefs is running (writer.lock says "running"),
// and the record <seq> is still in the journal with the same <stamp>; anything else (git's own
// initial token, garbage, an expired or foreign token) gets a fresh token and "/".
//
// Paths
// -----
// Journal paths are relative to the workspace root; the answer holds the records under the
// worktree's own path in the workspace (the worktree itself, or .worktrees/<session>), with that
// prefix stripped. `.git` and everything under it is left out. A record for the worktree itself
// or one of its ancestors (rename, rescan of "") is "/". Per op:
//   create write truncate mknod unlink symlink      path
//   link                                            path, path2
//   mkdir rmdir chmod chown utimens setxattr removexattr   path and path/ (it may be a directory;
//                                                   git 2.39 only invalidates index entries
//                                                   under a directory for a name ending in /)
//   rename                                          path, path/, path2, path2/ — and "/" when the
//                                                   target is a directory now, is gone, or a later
//                                                   record in the answer removes or renames it:
//                                                   git's untracked cache keeps per-directory
//                                                   results that a directory rename makes stale,
//                                                   and no list of names can invalidate a subtree
//   rescan, a gap in the journal                    "/"
//
// Not covered: edits made to the source directory on the host while covefs runs (they do not go
// through FUSE and are not journaled; covefs only invalidates the kernel's caches) — see
// docs/cli.md. A write to a file kept open across two `git status` runs is journaled again when
// the file is released, which the kernel sends asynchronously after close(2).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/journal.h"
#include "base/result.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

struct FsmonitorToken {
  std::string writer;  ///< "<inode>.<mtime ns>" of writer.lock, "none" when unknown
  uint64_t seq = 0;
  int64_t stamp = 0;

  bool operator==(const FsmonitorToken&) const = default;
};

/// "cove:<writer>:<seq>:<stamp>".
std::string format_token(const FsmonitorToken& token);
/// The token, or nullopt for anything format_token() cannot have written.
std::optional<FsmonitorToken> parse_token(std::string_view text);

/// What a journal path means for a worktree at `prefix` in the workspace ("" for the workspace
/// root itself, ".worktrees/s1" for a session's worktree; no slashes at either end).
struct MappedPath {
  enum Kind { kIgnore, kReport, kEverything } kind = kIgnore;
  std::string path;  ///< relative to the worktree, for kReport
};
MappedPath map_journal_path(std::string_view journal_path, std::string_view prefix);

/// Whether the journal path (relative to the workspace root) names a directory now: 1 yes,
/// 0 no (a file, symlink, ...), -1 unknown (gone, unreadable).
using IsDirectory = std::function<int(const std::string& journal_path)>;

/// The answer being built from journal records.
class ChangeSet {
 public:
  explicit ChangeSet(std::string prefix) : prefix_(std::move(prefix)) {}

  /// Adds what one record says may have changed (see the table above).
  void add(const base::JournalRecord& record);
  /// Decides the renames seen so far: "/" when a target is a directory now or unknown. Call
  /// after reading the records and before reading the journal one more time (fsmonitor.cc).
  void check_renames(const IsDirectory& is_dir);
  /// "/" from now on, with a reason (for COVE_FSMONITOR_DEBUG).
  void everything(std::string reason);

  bool is_everything() const { return everything_; }
  const std::string& reason() const { return reason_; }
  const std::vector<std::string>& paths() const { return paths_; }
  bool has_unchecked_renames() const { return !unchecked_.empty(); }

 private:
  void report(std::string_view journal_path, bool as_directory_too);
  bool touches_rename_target(std::string_view path) const;

  std::string prefix_;
  bool everything_ = false;
  std::string reason_;
  std::vector<std::string> paths_;
  std::unordered_set<std::string> seen_;
  std::unordered_set<std::string> targets_;  // rename targets (journal paths) in this answer
  std::vector<std::string> unchecked_;       // rename targets not yet checked with is_dir
};

/// The answer to `git fsmonitor` version 2.
struct FsmonitorAnswer {
  FsmonitorToken token;
  bool everything = true;
  std::string reason;
  std::vector<std::string> paths;
};

/// Answers a query with `token_text` from `reader`. `writer` is the journal's current writer id
/// (writer_id()), nullopt when covefs is not running or it cannot be read. Never under-reports:
/// any failure is "/".
FsmonitorAnswer answer_fsmonitor(base::JournalReader& reader, const std::optional<std::string>& writer,
                                 std::string_view token_text, const std::string& prefix,
                                 const IsDirectory& is_dir);

/// The writer id of the journal in `dir`: "<inode>.<mtime ns>" of writer.lock, or nullopt when
/// it is missing or does not say "running".
std::optional<std::string> writer_id(const std::string& dir);

/// The bytes git reads: token, NUL, then each path and a NUL ("/" when everything).
std::string fsmonitor_output(const FsmonitorAnswer& answer);

struct FsmonitorOptions {
  std::string version;
  std::string token;
  std::string journal;    ///< --journal, else $COVE_JOURNAL, else from the covefs mount
  std::string workspace;  ///< --workspace, else $COVE_WORKSPACE, else the covefs mount point
  std::string cwd;        ///< the worktree (default: the current directory, where git runs us)
  std::string mountinfo = "/proc/self/mountinfo";
};

CLI::App* add_fsmonitor(CLI::App& app, FsmonitorOptions& o);

/// 0 whenever an answer was printed (also "/" after an error, said on stderr); 2 for a version
/// other than 2 (git then falls back to a full scan).
int fsmonitor(const FsmonitorOptions& o, const Io& io);

}  // namespace cli
