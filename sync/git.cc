#include "sync/git.h"

#include <cerrno>
#include <mutex>

namespace covesync {

void git_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // The workspace is owned by the team's user while cove-sync runs as root; libgit2 1.5 would
    // refuse it like git's safe.directory. The check protects against running repository
    // configured programs, and cove-sync runs none (no hooks, no filters, no fsmonitor).
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    // Objects must be valid, and we never need $HOME's config.
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1);
  });
}

base::Error git_fail(int rc, std::string_view what) {
  const git_error* e = git_error_last();
  std::string msg = e != nullptr && e->message != nullptr ? e->message : "libgit2 error";
  int err = (rc == GIT_ELOCKED || rc == GIT_EMODIFIED) ? EAGAIN : 0;
  if (rc == GIT_ENOTFOUND) {
    err = ENOENT;
  }
  return base::Error(err, fmt::format("{}: {} ({})", what, msg, rc));
}

std::string oid_hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

base::Result<RepoPtr> open_repository(const std::string& path) {
  git_init_once();
  git_repository* raw = nullptr;
  COVE_TRY(git_check(git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
                     fmt::format("open repository {}", path)));
  return RepoPtr(raw);
}

base::Result<CommitPtr> lookup_commit(git_repository* repo, const git_oid& id) {
  git_commit* c = nullptr;
  COVE_TRY(git_check(git_commit_lookup(&c, repo, &id), "read commit " + oid_hex(id)));
  return CommitPtr(c);
}

base::Result<TreePtr> lookup_tree(git_repository* repo, const git_oid& id) {
  git_tree* t = nullptr;
  COVE_TRY(git_check(git_tree_lookup(&t, repo, &id), "read tree " + oid_hex(id)));
  return TreePtr(t);
}

base::Result<TreePtr> commit_tree(const git_commit* commit) {
  git_tree* t = nullptr;
  COVE_TRY(git_check(git_commit_tree(&t, commit), "read the tree of commit " + oid_hex(*git_commit_id(commit))));
  return TreePtr(t);
}

}  // namespace covesync
