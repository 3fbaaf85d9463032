#pragma once
// Owners for libgit2 objects (CONVENTIONS.md #4) and the translation of libgit2's error codes
// into base::Error. Everything cove-sync does with git goes through these handles, so no path
// through the code leaks a tree or a repository.

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace covesync {

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitFree<T, Free>>;

using RepoPtr = GitPtr<git_repository, git_repository_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using TreeEntryPtr = GitPtr<git_tree_entry, git_tree_entry_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using RefPtr = GitPtr<git_reference, git_reference_free>;
using SigPtr = GitPtr<git_signature, git_signature_free>;
using IndexPtr = GitPtr<git_index, git_index_free>;
using DiffPtr = GitPtr<git_diff, git_diff_free>;
using OdbPtr = GitPtr<git_odb, git_odb_free>;
using RemotePtr = GitPtr<git_remote, git_remote_free>;
using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using AnnotatedPtr = GitPtr<git_annotated_commit, git_annotated_commit_free>;

/// Initialises libgit2 once per process and switches off what cove-sync must not depend on: the
/// repository owner check (the workspace belongs to the team's user, cove-sync runs as root and
/// never executes repository code, see committer.h) and the search for a global config in $HOME.
void git_init_once();

/// `what: <libgit2's last error message>`, with errno 0 (EAGAIN for GIT_ELOCKED and
/// GIT_EMODIFIED, so callers can retry a lost race).
base::Error git_fail(int rc, std::string_view what);

/// Wraps a libgit2 call: `COVE_TRY(git_check(git_foo(...), "foo {}", x))`.
inline base::Result<void> git_check(int rc, std::string_view what) {
  if (rc < 0) {
    return git_fail(rc, what);
  }
  return {};
}

std::string oid_hex(const git_oid& oid);

/// Opens the repository of exactly `path` (GIT_REPOSITORY_OPEN_NO_SEARCH: never a parent's),
/// after git_init_once().
[[nodiscard]] base::Result<RepoPtr> open_repository(const std::string& path);

[[nodiscard]] base::Result<CommitPtr> lookup_commit(git_repository* repo, const git_oid& id);
[[nodiscard]] base::Result<TreePtr> lookup_tree(git_repository* repo, const git_oid& id);
/// The tree of `commit`.
[[nodiscard]] base::Result<TreePtr> commit_tree(const git_commit* commit);

}  // namespace covesync
