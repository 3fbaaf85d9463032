#pragma once
// The meeting point with other nodes and people: a git remote.
//
// sync() runs after each batch that made commits and on a fetch period:
//   1. fetch <branch> from the remote into refs/remotes/cove/<branch>;
//   2. local == remote, or the remote is behind: push (if ahead);
//      local is behind: fast-forward (check out the remote's tree, move the branch);
//      diverged: merge in memory (git_merge_commits); without conflicts commit the merge
//        (parents local, remote; trailers like any batch), check it out, move the branch, push;
//      with conflicts: push the local branch to cove/conflict/<UTC time> on the remote (and keep
//        a local branch of that name), then check out the remote's tree and move the branch to
//        it. Nothing is lost: the local work is on the conflict branch, the remote's is the
//        branch; the conflict is reported in the status for a person to merge.
//   3. a push rejected because the remote moved again starts over (3 rounds).
// Checkouts use GIT_CHECKOUT_SAFE with the old local tree as baseline, so a file changed in the
// working tree since the last commit is never overwritten (the round fails with EAGAIN and the
// daemon commits first); they do not write the index (index_sync.h does, for the paths that
// changed). Credentials are not handled: file://, local paths, or transports that need none.

#include <git2.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "sync/committer.h"
#include "sync/status.h"

namespace covesync {

struct RemoteOptions {
  std::string url;
  std::string branch;  ///< the branch on both sides ("main")
};

enum class RemoteAction { kUpToDate, kPushed, kFastForward, kMerged, kConflict };

const char* action_name(RemoteAction a);

/// True for the EAGAIN of a round that stopped because checking out the remote's tree would
/// overwrite a working tree change not committed yet: fetching again does not help, committing
/// the change first and then running the round again does.
bool blocked_by_uncommitted_work(const base::Error& e);

struct RemoteOutcome {
  RemoteAction action = RemoteAction::kUpToDate;
  std::optional<ConflictRecord> conflict;
  std::vector<std::string> changed_paths;  ///< working tree paths the checkout rewrote
  git_oid head{};
  bool pushed = false;
};

class RemoteSync {
 public:
  RemoteSync(Committer& committer, RemoteOptions options) : committer_(committer), options_(std::move(options)) {}

  /// One round as described above; `seq` is the cursor for a merge commit's trailer.
  [[nodiscard]] base::Result<RemoteOutcome> sync(uint64_t seq);

  std::string local_ref() const { return "refs/heads/" + options_.branch; }
  std::string tracking_ref() const { return "refs/remotes/cove/" + options_.branch; }

 private:
  [[nodiscard]] base::Result<void> fetch();
  /// Pushes `refspecs`; false if the remote rejected an update (it moved).
  [[nodiscard]] base::Result<bool> push(const std::vector<std::string>& refspecs);
  /// Checks out `target`'s tree over `baseline`'s and moves the local branch from `expected`.
  [[nodiscard]] base::Result<std::vector<std::string>> move_to(const git_oid& expected, const git_oid& target);
  [[nodiscard]] base::Result<RemoteOutcome> round(uint64_t seq);

  Committer& committer_;
  RemoteOptions options_;
};

}  // namespace covesync
