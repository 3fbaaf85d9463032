#pragma once
// Keeping the index honest after cove-sync commits without it.
//
// Commits are built from trees (committer.h), so the index of the checkout still holds the old
// blobs of the paths just committed: `git status` would show them staged in reverse, and a
// `git commit` run by a person would silently revert them. After each batch, cove-sync runs
//
//   git -c core.hooksPath=/dev/null --literal-pathspecs -C <repo> reset -q
//       --pathspec-from-file=- --pathspec-file-nul          (paths on stdin)
//
// which sets exactly those index entries to the branch tip's (O(changes) entries, git itself
// keeps every index extension libgit2 1.5 would drop). No hook runs: `reset` has none, and
// core.hooksPath points nowhere anyway.

#include <string>
#include <vector>

#include "base/result.h"

namespace covesync {

/// Sets the index entries of `paths` (directories ending in '/' allowed) to HEAD's. EAGAIN when
/// git is not installed or the index is locked by someone else (try again later).
[[nodiscard]] base::Result<void> sync_index(const std::string& repo, const std::vector<std::string>& paths);

}  // namespace covesync
