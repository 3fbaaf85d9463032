#pragma once
// Turning a set of changed paths into commits, O(changes).
//
// The commit is built from the branch tip's tree with git_tree_create_updated: for each path the
// journal named, the working tree is looked at once (workdir.h) and the path is added, updated,
// removed or left alone in the new tree. Nothing else of the tree is read, and the index is
// neither read nor written for a commit: a 100,000-file index costs ~0.1 s to rewrite, libgit2 1.5
// drops its UNTR/FSMN extensions when it writes one, and a commit made later from a stale index
// silently reverts files (measured in issue 4). The index is brought up to date afterwards by
// `git update-index` (index_sync.h), off the commit path.
//
// Per path:
//   file or symlink   blob of its bytes (or link target), mode 100644/100755/120000; skipped when
//                     the path is ignored by .gitignore and not tracked yet
//   absent, special   removed from the tree (a directory's whole subtree when the path was one)
//   directory         a blob at that path is removed; with `deep` (a directory that appeared or
//                     moved) everything under it is reconciled the same way, ignored files and
//                     nested repositories left out
// Tree entries for submodules (gitlinks) are never touched; paths with a .git component and the
// top-level .worktrees/ are never committed.
//
// A batch is one commit per group (one group per agent), chained in order, and the branch moves
// once at the end with a compare-and-swap on its old value: a crash leaves either all of the
// batch or none of it on the branch. The last commit of a batch carries the trailers
//
//   Cove-Journal-Seq: <the journal seq up to which every change is in this commit's tree>
//   Cove-Sync: <sync id>
//
// which is how a restarted cove-sync knows where it was even when it died between the ref update
// and the write of its cursor file (cursor.h). Hooks never run: libgit2 has none, and nothing
// here spawns git with them enabled.

#include <git2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "sync/git.h"
#include "sync/workdir.h"

namespace covesync {

struct Author {
  std::string name;
  std::string email;
};

/// The author for a journal attribution: the agent, else the container, else the host
/// ("cove-sync"); e-mail <name>@<team>.cove. Characters git refuses in identities are replaced.
Author author_for(const std::string& agent, const std::string& container, const std::string& team);

/// A path to bring into the next commit as the working tree has it when the commit is made.
struct PathChange {
  std::string path;
  bool deep = false;  ///< a directory that appeared or moved in: take everything under it
};

/// The changes of one author in a batch.
struct ChangeGroup {
  Author author;
  std::vector<PathChange> paths;
};

/// How a path changed in a commit ('A', 'M', 'D', 'T' as in `git diff --name-status`).
struct PathEdit {
  char status = 'M';
  std::string path;  ///< removed directories end in '/'
};

struct CommitMade {
  git_oid id{};
  std::string author;
  std::vector<PathEdit> edits;
};

struct BatchOutcome {
  std::vector<CommitMade> commits;  ///< empty when nothing changed
  std::string branch;               ///< the ref that moved ("refs/heads/main")
  git_oid head{};                   ///< its value after the batch (zero if the branch is unborn)
};

struct CommitterOptions {
  std::string repo;     ///< the working tree (its .git is the repository)
  std::string team;     ///< for e-mails and the committer identity
  std::string sync_id;  ///< the Cove-Sync trailer; default "<team>@<hostname>"
};

class Committer {
 public:
  [[nodiscard]] static base::Result<std::unique_ptr<Committer>> open(const CommitterOptions& options);

  /// Commits `groups` in order on the branch HEAD points at, one commit per group that changes
  /// the tree, and moves the branch once. If the branch moved under us (git run by someone
  /// else), the batch is rebuilt on the new tip (3 tries, then EAGAIN). Fails with EINVAL on a
  /// detached HEAD. `seq` goes into the trailer of the last commit. A `deep` walk leaves out
  /// the paths for which `pending_elsewhere` is true: they have changes of their own, to be
  /// committed when they are due and under their own author (a new directory must not sweep up
  /// the files an agent is still writing into it).
  [[nodiscard]] base::Result<BatchOutcome> commit(const std::vector<ChangeGroup>& groups, uint64_t seq,
                                                  std::function<bool(const std::string&)> pending_elsewhere = {});

  /// Every path where the working tree differs from the branch tip's tree, untracked files
  /// included and ignored ones not: the one full scan, for a journal gap or a start after an
  /// unclean stop. Uses the index only as a stat cache. O(tree).
  [[nodiscard]] base::Result<std::vector<std::string>> scan();

  /// The Cove-Journal-Seq of the newest commit of this sync id on the branch's first-parent
  /// history (at most `max_walk` commits back), nullopt if there is none.
  [[nodiscard]] base::Result<std::optional<uint64_t>> committed_seq(size_t max_walk = 10000);

  /// True if .gitignore rules ignore `rel` (a directory when `dir`).
  bool ignored(const std::string& rel, bool dir);

  /// The ref HEAD points at ("refs/heads/main"), EINVAL on a detached HEAD.
  [[nodiscard]] base::Result<std::string> head_branch();

  /// The commit at the tip of `ref`, nullopt if it does not exist (unborn).
  [[nodiscard]] base::Result<std::optional<git_oid>> ref_target(const std::string& ref);

  /// Builds the message of a commit: summary, one "<status>\t<path>" line per edit (at most
  /// 200), then trailers when `seq` is set.
  std::string message(const Author& author, const std::vector<PathEdit>& edits, std::optional<uint64_t> seq) const;

  /// Removes `<gitdir>/<ref>.lock` when it is older than `min_age_s`: git holds a ref lock for
  /// milliseconds, so an old one was left by a process that died (kill -9 of cove-sync during
  /// a ref update). Returns true if one was removed.
  bool clear_stale_lock(const std::string& ref, int min_age_s = 5);

  git_repository* repo() { return repo_.get(); }
  const Workdir& workdir() const { return workdir_; }
  const CommitterOptions& options() const { return options_; }

 private:
  Committer(CommitterOptions options, RepoPtr repo, OdbPtr odb, Workdir workdir)
      : options_(std::move(options)), repo_(std::move(repo)), odb_(std::move(odb)), workdir_(std::move(workdir)) {}

  struct Edit {
    bool remove = false;
    git_oid id{};
    git_filemode_t mode = GIT_FILEMODE_BLOB;
    char status = 'M';
    bool was_tree = false;  ///< the base tree has a directory at this path
  };
  using EditMap = std::map<std::string, Edit>;

  /// The new tree: `base` with the working tree's state of `paths`. Fills `edits`.
  [[nodiscard]] base::Result<git_oid> build_tree(git_tree* base, const std::vector<PathChange>& paths,
                                                 std::vector<PathEdit>& edits);
  [[nodiscard]] base::Result<void> reconcile(git_tree* base, const std::string& path, bool deep, EditMap& edits);
  [[nodiscard]] base::Result<void> reconcile_dir(git_tree* base, const std::string& path, EditMap& edits);
  [[nodiscard]] base::Result<BatchOutcome> commit_once(const std::vector<ChangeGroup>& groups, uint64_t seq);
  /// The tree at the tip of `branch` (`tip`), or the empty tree when the branch is unborn.
  [[nodiscard]] base::Result<TreePtr> tip_tree(const std::string& branch, const std::optional<git_oid>& tip);

  std::function<bool(const std::string&)> pending_elsewhere_;  // set for the duration of commit()

  CommitterOptions options_;
  RepoPtr repo_;
  OdbPtr odb_;
  Workdir workdir_;
};

}  // namespace covesync
