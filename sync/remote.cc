#include "sync/remote.h"

#include <cerrno>
#include <ctime>
#include <set>
#include <string_view>

#include "base/time.h"
#include "sync/log.h"

namespace covesync {

namespace {

struct PushResult {
  bool rejected = false;
  std::string message;
};

int on_push_update(const char* refname, const char* status, void* payload) {
  if (status != nullptr) {
    auto* r = static_cast<PushResult*>(payload);
    r->rejected = true;
    r->message = fmt::format("{}: {}", refname, status);
  }
  return 0;
}

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

/// Paths that differ between two trees (both sides of renames), for the index refresh.
base::Result<std::vector<std::string>> tree_diff_paths(git_repository* repo, git_tree* a, git_tree* b) {
  git_diff* raw = nullptr;
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  COVE_TRY(git_check(git_diff_tree_to_tree(&raw, repo, a, b, &opts), "diff trees"));
  DiffPtr diff(raw);
  std::set<std::string> paths;
  for (size_t i = 0; i < git_diff_num_deltas(diff.get()); i++) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    if (d->old_file.path != nullptr) {
      paths.insert(d->old_file.path);
    }
    if (d->new_file.path != nullptr) {
      paths.insert(d->new_file.path);
    }
  }
  return std::vector<std::string>(paths.begin(), paths.end());
}

/// The message of the EAGAIN a checkout returns when it would overwrite uncommitted work.
constexpr std::string_view kWorkTreeChanged = "working tree changed since the last commit";

}  // namespace

bool blocked_by_uncommitted_work(const base::Error& e) {
  return e.code() == EAGAIN && e.message().find(kWorkTreeChanged) != std::string::npos;
}

const char* action_name(RemoteAction a) {
  switch (a) {
    case RemoteAction::kUpToDate: return "up-to-date";
    case RemoteAction::kPushed: return "pushed";
    case RemoteAction::kFastForward: return "fast-forward";
    case RemoteAction::kMerged: return "merged";
    case RemoteAction::kConflict: return "conflict";
  }
  return "?";
}

base::Result<void> RemoteSync::fetch() {
  git_remote* raw = nullptr;
  COVE_TRY(git_check(git_remote_create_anonymous(&raw, committer_.repo(), options_.url.c_str()),
                     "remote " + options_.url));
  RemotePtr remote(raw);
  std::string spec = "+refs/heads/" + options_.branch + ":" + tracking_ref();
  char* specs[] = {spec.data()};
  git_strarray arr{specs, 1};
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.prune = GIT_FETCH_NO_PRUNE;
  COVE_TRY(git_check(git_remote_fetch(remote.get(), &arr, &opts, "cove-sync: fetch"),
                     fmt::format("fetch {} from {}", options_.branch, options_.url)));
  return {};
}

base::Result<bool> RemoteSync::push(const std::vector<std::string>& refspecs) {
  git_remote* raw = nullptr;
  COVE_TRY(git_check(git_remote_create_anonymous(&raw, committer_.repo(), options_.url.c_str()),
                     "remote " + options_.url));
  RemotePtr remote(raw);
  std::vector<std::string> store = refspecs;
  std::vector<char*> specs;
  for (auto& s : store) {
    specs.push_back(s.data());
  }
  git_strarray arr{specs.data(), specs.size()};
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  PushResult result;
  opts.callbacks.push_update_reference = on_push_update;
  opts.callbacks.payload = &result;
  int rc = git_remote_push(remote.get(), &arr, &opts);
  if (rc < 0) {
    // The local transport reports a non-fast-forward as an error rather than a status.
    const git_error* e = git_error_last();
    std::string m = e != nullptr && e->message != nullptr ? e->message : "";
    if (m.find("fast-forward") != std::string::npos || m.find("non-fast") != std::string::npos) {
      return false;
    }
    return git_fail(rc, fmt::format("push to {}", options_.url));
  }
  if (result.rejected) {
    log_warn("push to {} rejected: {}", options_.url, result.message);
    return false;
  }
  return true;
}

base::Result<std::vector<std::string>> RemoteSync::move_to(const git_oid& expected, const git_oid& target) {
  git_repository* repo = committer_.repo();
  COVE_TRY_ASSIGN(from, lookup_commit(repo, expected));
  COVE_TRY_ASSIGN(to, lookup_commit(repo, target));
  COVE_TRY_ASSIGN(from_tree, commit_tree(from.get()));
  COVE_TRY_ASSIGN(to_tree, commit_tree(to.get()));
  COVE_TRY_ASSIGN(paths, tree_diff_paths(repo, from_tree.get(), to_tree.get()));
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  // SAFE: never overwrite a working tree file that differs from the last commit (an agent's
  // write not committed yet); RECREATE_MISSING is not set: a file deleted since the last commit
  // stays deleted unless the target changes it.
  co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  co.baseline = from_tree.get();
  int rc = git_checkout_tree(repo, reinterpret_cast<git_object*>(to_tree.get()), &co);
  if (rc == GIT_ECONFLICT) {
    return base::Error::make(EAGAIN, "{}; not checking out {}", kWorkTreeChanged, oid_hex(target));
  }
  COVE_TRY(git_check(rc, "check out " + oid_hex(target)));
  git_reference* ref = nullptr;
  rc = git_reference_create_matching(&ref, repo, local_ref().c_str(), &target, 1, &expected,
                                     "cove-sync: integrate remote");
  if (rc == GIT_EMODIFIED) {
    return base::Error::make(EAGAIN, "{} moved during the remote round", local_ref());
  }
  if (rc == GIT_ELOCKED) {
    committer_.clear_stale_lock(local_ref());
    return base::Error::make(EBUSY, "{} is locked", local_ref());
  }
  COVE_TRY(git_check(rc, "update " + local_ref()));
  git_reference_free(ref);
  return paths;
}

base::Result<RemoteOutcome> RemoteSync::round(uint64_t seq) {
  git_repository* repo = committer_.repo();
  RemoteOutcome out;
  COVE_TRY(fetch());
  COVE_TRY_ASSIGN(head_ref, committer_.head_branch());
  if (head_ref != local_ref()) {
    return base::Error::make(EINVAL, "HEAD is on {}, not {}: not syncing with the remote", head_ref, local_ref());
  }
  COVE_TRY_ASSIGN(local, committer_.ref_target(local_ref()));
  COVE_TRY_ASSIGN(remote_tip, committer_.ref_target(tracking_ref()));
  std::string push_spec = local_ref() + ":" + local_ref();
  if (!local) {
    if (!remote_tip) {
      return out;  // both empty
    }
    // Unborn here: adopt the remote's branch (the working tree has nothing committed yet).
    git_reference* ref = nullptr;
    COVE_TRY(git_check(git_reference_create(&ref, repo, local_ref().c_str(), &*remote_tip, 0, "cove-sync: adopt"),
                       "create " + local_ref()));
    git_reference_free(ref);
    git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
    co.checkout_strategy = GIT_CHECKOUT_SAFE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
    COVE_TRY(git_check(git_checkout_head(repo, &co), "check out " + local_ref()));
    out.action = RemoteAction::kFastForward;
    out.head = *remote_tip;
    return out;
  }
  out.head = *local;
  if (remote_tip && git_oid_equal(&*local, &*remote_tip)) {
    return out;
  }
  // The remote has no such branch yet, or is behind.
  if (!remote_tip || git_graph_descendant_of(repo, &*local, &*remote_tip) == 1) {
    COVE_TRY_ASSIGN(ok, push({push_spec}));
    if (!ok) {
      return base::Error::make(EAGAIN, "push rejected");
    }
    out.action = RemoteAction::kPushed;
    out.pushed = true;
    return out;
  }
  if (git_graph_descendant_of(repo, &*remote_tip, &*local) == 1) {
    COVE_TRY_ASSIGN(paths, move_to(*local, *remote_tip));
    out.action = RemoteAction::kFastForward;
    out.changed_paths = std::move(paths);
    out.head = *remote_tip;
    return out;
  }

  // Diverged: merge in memory.
  COVE_TRY_ASSIGN(ours, lookup_commit(repo, *local));
  COVE_TRY_ASSIGN(theirs, lookup_commit(repo, *remote_tip));
  git_merge_options mo = GIT_MERGE_OPTIONS_INIT;
  git_index* raw_index = nullptr;
  COVE_TRY(git_check(git_merge_commits(&raw_index, repo, ours.get(), theirs.get(), &mo), "merge"));
  IndexPtr merged(raw_index);
  if (git_index_has_conflicts(merged.get()) == 0) {
    git_oid tree_id{};
    COVE_TRY(git_check(git_index_write_tree_to(&tree_id, merged.get(), repo), "write merged tree"));
    COVE_TRY_ASSIGN(tree, lookup_tree(repo, tree_id));
    Author cs = author_for("cove-sync", "", committer_.options().team);
    git_signature* sig_raw = nullptr;
    COVE_TRY(git_check(git_signature_now(&sig_raw, cs.name.c_str(), cs.email.c_str()), "signature"));
    SigPtr sig(sig_raw);
    std::string msg = fmt::format("cove-sync: merge {} of {}\n\nCove-Journal-Seq: {}\nCove-Sync: {}\n",
                                  options_.branch, options_.url, seq, committer_.options().sync_id);
    const git_commit* parents[2] = {ours.get(), theirs.get()};
    git_oid merge_id{};
    COVE_TRY(git_check(git_commit_create(&merge_id, repo, nullptr, sig.get(), sig.get(), nullptr, msg.c_str(),
                                         tree.get(), 2, parents),
                       "create merge commit"));
    COVE_TRY_ASSIGN(paths, move_to(*local, merge_id));
    out.action = RemoteAction::kMerged;
    out.changed_paths = std::move(paths);
    out.head = merge_id;
    COVE_TRY_ASSIGN(ok, push({push_spec}));
    if (!ok) {
      return base::Error::make(EAGAIN, "push of the merge rejected");
    }
    out.pushed = true;
    return out;
  }

  // Conflict: the local work goes to a side branch, the working tree follows the remote.
  ConflictRecord conflict;
  conflict.branch = "cove/conflict/" + utc_stamp() + "-" + oid_hex(*local).substr(0, 8);
  conflict.time = base::now_rfc3339();
  git_index_conflict_iterator* it = nullptr;
  if (git_index_conflict_iterator_new(&it, merged.get()) == 0) {
    const git_index_entry *anc = nullptr, *our = nullptr, *their = nullptr;
    while (git_index_conflict_next(&anc, &our, &their, it) == 0) {
      const git_index_entry* e = our != nullptr ? our : their != nullptr ? their : anc;
      if (e != nullptr) {
        conflict.paths.emplace_back(e->path);
      }
    }
    git_index_conflict_iterator_free(it);
  }
  std::string side = "refs/heads/" + conflict.branch;
  git_reference* ref = nullptr;
  COVE_TRY(git_check(git_reference_create(&ref, repo, side.c_str(), &*local, 0, "cove-sync: conflict"),
                     "create " + side));
  git_reference_free(ref);
  COVE_TRY_ASSIGN(ok, push({side + ":" + side}));
  if (!ok) {
    return base::Error::make(EIO, "push of {} rejected", side);
  }
  log_warn("conflict with {} {} in {} path(s); local work pushed to {}, working tree follows the remote",
           options_.url, options_.branch, conflict.paths.size(), conflict.branch);
  COVE_TRY_ASSIGN(paths, move_to(*local, *remote_tip));
  out.action = RemoteAction::kConflict;
  out.conflict = std::move(conflict);
  out.changed_paths = std::move(paths);
  out.head = *remote_tip;
  out.pushed = true;
  return out;
}

base::Result<RemoteOutcome> RemoteSync::sync(uint64_t seq) {
  for (int attempt = 0;; attempt++) {
    auto r = round(seq);
    if (r || r.error().code() != EAGAIN || attempt == 2 || blocked_by_uncommitted_work(r.error())) {
      return r;
    }
    log_warn("{}; fetching again", r.error().message());
  }
}

}  // namespace covesync
