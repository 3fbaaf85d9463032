#include "sync/session.h"

#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "base/file.h"
#include "sync/git.h"
#include "sync/log.h"

namespace covesync {

namespace {

using WorktreePtr = GitPtr<git_worktree, git_worktree_free>;

/// Appends "/.worktrees/" to .gitignore unless a line already ignores it.
base::Result<void> ignore_worktrees(const std::string& repo, git_repository* r) {
  int ignored = 0;
  if (git_ignore_path_is_ignored(&ignored, r, ".worktrees/") == 0 && ignored != 0) {
    return {};
  }
  std::string path = repo + "/.gitignore";
  std::string text;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      return base::Error::make(EINVAL, "{} is not a regular file", path);
    }
    COVE_TRY_ASSIGN(old, base::read_file(path));
    text = std::move(old);
  }
  if (!text.empty() && text.back() != '\n') {
    text.push_back('\n');
  }
  text += "/.worktrees/\n";
  return base::write_file_atomic(path, text, false, st.st_mode != 0 ? (st.st_mode & 07777) : 0644);
}

}  // namespace

bool valid_session_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name[0] == '-' || name.find("..") != std::string::npos) {
    return false;
  }
  if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".lock") == 0) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string session_dir(const std::string& repo, const std::string& name) { return repo + "/.worktrees/" + name; }
std::string session_branch(const std::string& name) { return "cove/session/" + name; }

base::Result<SessionInfo> add_session(const std::string& repo, const std::string& name) {
  if (!valid_session_name(name)) {
    return base::Error::make(EINVAL, "invalid session name {:?}", name);
  }
  COVE_TRY_ASSIGN(r, open_repository(repo));
  SessionInfo info{name, session_dir(repo, name), session_branch(name)};
  git_worktree* existing = nullptr;
  if (git_worktree_lookup(&existing, r.get(), name.c_str()) == 0) {
    git_worktree_free(existing);
    return base::Error::make(EEXIST, "session {} exists", name);
  }
  COVE_TRY(ignore_worktrees(repo, r.get()));
  COVE_TRY(base::make_dirs(repo + "/.worktrees", 0755));

  // The session's branch: an existing one (a session added again after a remove) or a new one
  // at HEAD.
  git_reference* branch = nullptr;
  int rc = git_branch_lookup(&branch, r.get(), info.branch.c_str(), GIT_BRANCH_LOCAL);
  if (rc == GIT_ENOTFOUND) {
    git_object* head = nullptr;
    COVE_TRY(git_check(git_revparse_single(&head, r.get(), "HEAD^{commit}"), "resolve HEAD"));
    ObjectPtr head_ptr(head);
    rc = git_branch_create(&branch, r.get(), info.branch.c_str(), reinterpret_cast<git_commit*>(head), 0);
  }
  COVE_TRY(git_check(rc, "branch " + info.branch));
  RefPtr branch_ptr(branch);
  git_worktree_add_options opts = GIT_WORKTREE_ADD_OPTIONS_INIT;
  opts.ref = branch;
  git_worktree* wt = nullptr;
  COVE_TRY(git_check(git_worktree_add(&wt, r.get(), name.c_str(), info.path.c_str(), &opts),
                     "add worktree " + info.path));
  git_worktree_free(wt);
  log_info("session {}: worktree {} on {}", name, info.path, info.branch);
  return info;
}

base::Result<void> remove_session(const std::string& repo, const std::string& name, bool force) {
  if (!valid_session_name(name)) {
    return base::Error::make(EINVAL, "invalid session name {:?}", name);
  }
  COVE_TRY_ASSIGN(r, open_repository(repo));
  git_worktree* raw = nullptr;
  COVE_TRY(git_check(git_worktree_lookup(&raw, r.get(), name.c_str()), "session " + name));
  WorktreePtr wt(raw);
  if (!force) {
    // Uncommitted work in the session's tree: its daemon has not committed it yet.
    git_repository* wraw = nullptr;
    COVE_TRY(git_check(git_repository_open_from_worktree(&wraw, wt.get()), "open session " + name));
    RepoPtr wrepo(wraw);
    git_status_options so = GIT_STATUS_OPTIONS_INIT;
    so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
    git_status_list* list = nullptr;
    COVE_TRY(git_check(git_status_list_new(&list, wrepo.get(), &so), "status of session " + name));
    size_t n = git_status_list_entrycount(list);
    git_status_list_free(list);
    if (n != 0) {
      return base::Error::make(EBUSY, "session {} has {} uncommitted change(s); commit them or use --force", name, n);
    }
  }
  git_worktree_prune_options po = GIT_WORKTREE_PRUNE_OPTIONS_INIT;
  po.flags = GIT_WORKTREE_PRUNE_VALID | GIT_WORKTREE_PRUNE_LOCKED | GIT_WORKTREE_PRUNE_WORKING_TREE;
  COVE_TRY(git_check(git_worktree_prune(wt.get(), &po), "remove session " + name));
  std::error_code ec;
  std::filesystem::remove_all(session_dir(repo, name), ec);
  log_info("session {} removed; its branch {} stays", name, session_branch(name));
  return {};
}

base::Result<std::vector<SessionInfo>> list_sessions(const std::string& repo) {
  COVE_TRY_ASSIGN(r, open_repository(repo));
  git_strarray names{};
  COVE_TRY(git_check(git_worktree_list(&names, r.get()), "list worktrees"));
  std::vector<SessionInfo> out;
  for (size_t i = 0; i < names.count; i++) {
    std::string name = names.strings[i];
    std::string path = session_dir(repo, name);
    git_worktree* wt = nullptr;
    if (git_worktree_lookup(&wt, r.get(), name.c_str()) == 0) {
      path = git_worktree_path(wt);
      git_worktree_free(wt);
    }
    out.push_back(SessionInfo{name, path, session_branch(name)});
  }
  git_strarray_dispose(&names);
  return out;
}

}  // namespace covesync
