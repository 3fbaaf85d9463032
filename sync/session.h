#pragma once
// Sessions: a git worktree per concurrent write session, as the seed platform gives concurrent
// agents. `cove-sync session add NAME` creates .worktrees/NAME (ignored through .gitignore,
// which gets a "/.worktrees/" line if it has none) on a new branch cove/session/NAME started
// at HEAD; a cove-sync daemon run with `--session NAME` commits that worktree on its branch
// from the same journal (records under .worktrees/NAME/); `session remove NAME` deletes the
// worktree and keeps the branch, so the work can be merged back. Read-only sessions need
// nothing: they share the main checkout.

#include <string>
#include <vector>

#include "base/result.h"

namespace covesync {

/// True for names that can be a directory and a branch component: [A-Za-z0-9._-], at most 64,
/// not starting with '.' or '-', no "..", not ending in ".lock".
bool valid_session_name(const std::string& name);

std::string session_dir(const std::string& repo, const std::string& name);
std::string session_branch(const std::string& name);

struct SessionInfo {
  std::string name;
  std::string path;
  std::string branch;
};

/// Creates the worktree of session `name` (branch cove/session/<name> at HEAD, or an existing
/// branch of that name) and makes sure .gitignore ignores /.worktrees/. EEXIST if it exists.
[[nodiscard]] base::Result<SessionInfo> add_session(const std::string& repo, const std::string& name);

/// Deletes the worktree of session `name` and its administrative files; the branch stays.
/// Refuses (EBUSY) when the worktree has changes not committed on its branch, unless `force`.
[[nodiscard]] base::Result<void> remove_session(const std::string& repo, const std::string& name, bool force);

[[nodiscard]] base::Result<std::vector<SessionInfo>> list_sessions(const std::string& repo);

}  // namespace covesync
