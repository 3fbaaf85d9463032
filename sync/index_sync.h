#pragma once
// Keeping the index honest after cove-sync commits without it.
//
// Commits are built from trees (committer.h), so the index of the checkout still holds the old
// blobs of the paths just committed: `git status` would show them staged in reverse, and a
// `git commit` run by a person would silently revert them. After each batch, cove-sync runs
//
//   git -c core.hooksPath=/dev/null --literal-pathspecs -C <repo> reset -q --no-refresh
//       --pathspec-from-file=- --pathspec-file-nul          (paths on stdin)
//
// which sets exactly those index entries to the branch tip's, and git itself keeps every index
// extension libgit2 1.5 would drop. --no-refresh: without it `reset` stats every file of the
// checkout afterwards (O(tree)); with it the entries it wrote carry no stat data, so the next
// `git status` hashes those few files once. The cost that remains is reading and writing the
// index file (a 100,000-file index is ~8 MB), which is why the daemon does this at most once a
// second.
//
// No repository code runs: `reset` has no hooks (and core.hooksPath points nowhere), with
// --no-refresh it hashes no file (so no clean filter runs), the system and global config are
// not read, and a core.fsmonitor naming a program is switched off for this command (the
// builtin daemon, core.fsmonitor=true, is kept: it is git itself).

#include <string>
#include <vector>

#include "base/result.h"

namespace covesync {

/// Sets the index entries of `paths` (directories ending in '/' allowed) to HEAD's. EAGAIN when
/// git is not installed or the index is locked by someone else (try again later).
[[nodiscard]] base::Result<void> sync_index(const std::string& repo, const std::vector<std::string>& paths);

}  // namespace covesync
