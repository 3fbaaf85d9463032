#include "sync/committer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <string_view>

#include "sync/log.h"

namespace covesync {

namespace {

constexpr size_t kMessagePathLines = 200;

struct BaseEntry {
  bool exists = false;
  git_object_t type = GIT_OBJECT_INVALID;
  git_oid id{};
  git_filemode_t mode = GIT_FILEMODE_UNREADABLE;
};

BaseEntry base_entry(git_tree* base, const std::string& path) {
  BaseEntry out;
  if (base == nullptr || path.empty()) {
    return out;
  }
  git_tree_entry* raw = nullptr;
  if (git_tree_entry_bypath(&raw, base, path.c_str()) < 0) {
    return out;  // GIT_ENOTFOUND, or a blob where a parent directory should be
  }
  TreeEntryPtr e(raw);
  out.exists = true;
  out.type = git_tree_entry_type(e.get());
  out.id = *git_tree_entry_id(e.get());
  out.mode = git_tree_entry_filemode(e.get());
  return out;
}

std::string sanitize_name(const std::string& s) {
  std::string out;
  for (char c : s) {
    out.push_back(c == '<' || c == '>' || c == '\n' || c == '\r' || c == '\0' ? '_' : c);
  }
  // git trims these from both ends and refuses an empty name.
  while (!out.empty() && (out.front() == ' ' || out.front() == '.' || out.front() == ',')) {
    out.erase(out.begin());
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == ',')) {
    out.pop_back();
  }
  return out;
}

std::string sanitize_email_part(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == '+';
    out.push_back(ok ? c : '-');
  }
  return out.empty() ? "unknown" : out;
}

base::Result<git_oid> empty_tree(git_repository* repo) {
  git_treebuilder* tb = nullptr;
  COVE_TRY(git_check(git_treebuilder_new(&tb, repo, nullptr), "new tree builder"));
  git_oid id{};
  int rc = git_treebuilder_write(&id, tb);
  git_treebuilder_free(tb);
  COVE_TRY(git_check(rc, "write the empty tree"));
  return id;
}

std::string_view name_of(const WorkdirDirent& e) { return e.name; }
std::string_view name_of(std::string_view name) { return name; }

}  // namespace

Author author_for(const std::string& agent, const std::string& container, const std::string& team) {
  std::string name = sanitize_name(agent);
  if (name.empty()) {
    name = sanitize_name(container.substr(0, 12));
  }
  if (name.empty()) {
    name = "cove-sync";
  }
  return Author{name, sanitize_email_part(name) + "@" + sanitize_email_part(team) + ".cove"};
}

base::Result<std::unique_ptr<Committer>> Committer::open(const CommitterOptions& options) {
  CommitterOptions opts = options;
  if (opts.sync_id.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    opts.sync_id = opts.team + "@" + host;
  }
  // The repository is exactly this directory's .git, never a parent's.
  COVE_TRY_ASSIGN(repo, open_repository(opts.repo));
  if (git_repository_is_bare(repo.get()) != 0) {
    return base::Error::make(EINVAL, "repository {} is bare: cove-sync commits a working tree", opts.repo);
  }
  git_odb* odb = nullptr;
  COVE_TRY(git_check(git_repository_odb(&odb, repo.get()), "open object database"));
  OdbPtr odb_ptr(odb);
  const char* wd = git_repository_workdir(repo.get());
  COVE_TRY_ASSIGN(workdir, Workdir::open(wd != nullptr ? wd : opts.repo));
  return std::unique_ptr<Committer>(new Committer(std::move(opts), std::move(repo), std::move(odb_ptr), std::move(workdir)));
}

bool Committer::ignored(const std::string& rel, bool dir) {
  int ign = 0;
  std::string p = dir ? rel + "/" : rel;
  if (git_ignore_path_is_ignored(&ign, repo_.get(), p.c_str()) < 0) {
    return false;  // when in doubt, commit
  }
  return ign != 0;
}

base::Result<std::string> Committer::head_branch() {
  git_reference* raw = nullptr;
  COVE_TRY(git_check(git_reference_lookup(&raw, repo_.get(), "HEAD"), "read HEAD"));
  RefPtr head(raw);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) {
    return base::Error::make(EINVAL, "HEAD is detached in {}: cove-sync commits on a branch", options_.repo);
  }
  return std::string(git_reference_symbolic_target(head.get()));
}

base::Result<std::optional<git_oid>> Committer::ref_target(const std::string& ref) {
  git_oid id{};
  int rc = git_reference_name_to_id(&id, repo_.get(), ref.c_str());
  if (rc == GIT_ENOTFOUND) {
    return std::optional<git_oid>();
  }
  COVE_TRY(git_check(rc, fmt::format("resolve {}", ref)));
  return std::optional<git_oid>(id);
}

base::Result<void> Committer::reconcile(git_tree* base, const std::string& path, bool deep, EditMap& edits) {
  if (!committable_path(path)) {
    return {};
  }
  BaseEntry be = base_entry(base, path);
  if (be.exists && be.mode == GIT_FILEMODE_COMMIT) {
    return {};  // a submodule: its checkout is its own repository
  }
  COVE_TRY_ASSIGN(st, workdir_.stat(path));
  bool was_tree = be.exists && be.type == GIT_OBJECT_TREE;
  auto remove = [&](char status) {
    if (be.exists) {
      edits[path] = Edit{true, {}, GIT_FILEMODE_BLOB, status, was_tree};
    } else {
      edits.erase(path);
    }
  };
  switch (st.kind) {
    case EntryKind::kFile:
    case EntryKind::kSymlink: {
      if (!be.exists && ignored(path, false)) {
        return {};
      }
      COVE_TRY_ASSIGN(blob, workdir_.write_blob(odb_.get(), path));
      if (!blob) {
        remove('D');  // gone (or became a directory) since the stat
        return {};
      }
      if (be.exists && be.type == GIT_OBJECT_BLOB && git_oid_equal(&be.id, &blob->id) && be.mode == blob->mode) {
        edits.erase(path);
        return {};
      }
      char status = !be.exists ? 'A' : (be.type == GIT_OBJECT_TREE || be.mode != blob->mode) ? 'T' : 'M';
      if (be.exists && be.type == GIT_OBJECT_BLOB && be.mode != blob->mode &&
          (be.mode == GIT_FILEMODE_LINK) == (blob->mode == GIT_FILEMODE_LINK)) {
        status = 'M';  // an executable bit flipped
      }
      edits[path] = Edit{false, blob->id, blob->mode, status, was_tree};
      return {};
    }
    case EntryKind::kDir:
      if (be.exists && !was_tree) {
        edits[path] = Edit{true, {}, GIT_FILEMODE_BLOB, 'D', false};
      }
      if (deep) {
        return reconcile_dir(base, path, edits);
      }
      return {};
    case EntryKind::kAbsent:
    case EntryKind::kOther:
      remove('D');
      return {};
  }
  return {};
}

base::Result<void> Committer::reconcile_dir(git_tree* base, const std::string& path, EditMap& edits) {
  COVE_TRY_ASSIGN(listing, workdir_.list(path));
  if (!listing) {
    return {};
  }
  // The listing is sorted by name.
  auto listed = [&](std::string_view name) {
    return std::binary_search(listing->begin(), listing->end(), name,
                              [](const auto& a, const auto& b) { return name_of(a) < name_of(b); });
  };
  if (!path.empty() && listed(".git")) {
    return {};  // a nested repository: git records it (at most) as a gitlink, never its files
  }
  for (const auto& e : *listing) {
    std::string child = path.empty() ? e.name : path + "/" + e.name;
    if (!committable_path(child) || (pending_elsewhere_ && pending_elsewhere_(child))) {
      continue;
    }
    if (e.kind == EntryKind::kDir) {
      // An ignored directory is only entered when it holds tracked files.
      BaseEntry ce = base_entry(base, child);
      if (!ce.exists && ignored(child, true)) {
        continue;
      }
    }
    COVE_TRY(reconcile(base, child, true, edits));
  }
  // Tracked entries that are no longer in the directory.
  TreePtr sub;
  git_tree* tracked = path.empty() ? base : nullptr;
  if (!path.empty()) {
    BaseEntry be = base_entry(base, path);
    if (be.exists && be.type == GIT_OBJECT_TREE) {
      COVE_TRY_ASSIGN(t, lookup_tree(repo_.get(), be.id));
      sub = std::move(t);
      tracked = sub.get();
    }
  }
  size_t n = tracked != nullptr ? git_tree_entrycount(tracked) : 0;
  for (size_t i = 0; i < n; i++) {
    std::string_view name = git_tree_entry_name(git_tree_entry_byindex(tracked, i));
    if (!listed(name)) {
      COVE_TRY(reconcile(base, path.empty() ? std::string(name) : path + "/" + std::string(name), false, edits));
    }
  }
  return {};
}

base::Result<git_oid> Committer::build_tree(git_tree* base, const std::vector<PathChange>& paths,
                                            std::vector<PathEdit>& out) {
  EditMap edits;
  for (const auto& p : paths) {
    if (p.path.empty()) {
      COVE_TRY(reconcile_dir(base, "", edits));
    } else {
      COVE_TRY(reconcile(base, p.path, p.deep, edits));
    }
  }
  const git_oid* base_id = git_tree_id(base);
  if (edits.empty()) {
    return *base_id;
  }
  // Removals first, without the descendants of a removed directory (libgit2 refuses to remove
  // what is no longer there). A file that takes a directory's place, or a directory that takes
  // a file's place, needs the old entry gone before the upsert: libgit2 1.5 reports a "D/F
  // conflict" within one update, so those make it two updates.
  std::vector<std::string> removes;
  std::vector<std::string> upserts;
  for (const auto& [path, e] : edits) {
    (e.remove ? removes : upserts).push_back(path);
  }
  bool two_phase = false;
  std::map<std::string, bool> prefix_is_blob;
  for (const auto& path : upserts) {
    if (edits[path].was_tree) {
      removes.push_back(path);
      two_phase = true;
    }
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      std::string prefix = path.substr(0, slash);
      auto it = prefix_is_blob.find(prefix);
      if (it == prefix_is_blob.end()) {
        BaseEntry pe = base_entry(base, prefix);
        it = prefix_is_blob.emplace(prefix, pe.exists && pe.type != GIT_OBJECT_TREE).first;
      }
      if (it->second) {
        removes.push_back(prefix);
        two_phase = true;
      }
    }
  }
  std::sort(removes.begin(), removes.end());
  removes.erase(std::unique(removes.begin(), removes.end()), removes.end());
  std::set<std::string> kept;
  for (const auto& r : removes) {
    bool covered = false;
    for (size_t slash = r.find('/'); slash != std::string::npos && !covered; slash = r.find('/', slash + 1)) {
      covered = kept.count(r.substr(0, slash)) != 0;
    }
    if (!covered) {
      kept.insert(r);
    }
  }
  std::vector<git_tree_update> rm_updates;
  for (const auto& r : kept) {
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_REMOVE;
    u.path = r.c_str();
    rm_updates.push_back(u);
  }
  std::vector<git_tree_update> up_updates;
  for (const auto& path : upserts) {
    const Edit& e = edits[path];
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_UPSERT;
    u.id = e.id;
    u.filemode = e.mode;
    u.path = path.c_str();
    up_updates.push_back(u);
  }
  git_oid result{};
  if (!two_phase) {
    std::vector<git_tree_update> all = rm_updates;
    all.insert(all.end(), up_updates.begin(), up_updates.end());
    COVE_TRY(git_check(git_tree_create_updated(&result, repo_.get(), base, all.size(), all.data()), "update tree"));
  } else {
    git_oid mid{};
    COVE_TRY(git_check(git_tree_create_updated(&mid, repo_.get(), base, rm_updates.size(), rm_updates.data()),
                       "update tree (removals)"));
    COVE_TRY_ASSIGN(mid_tree, lookup_tree(repo_.get(), mid));
    COVE_TRY(git_check(git_tree_create_updated(&result, repo_.get(), mid_tree.get(), up_updates.size(),
                                               up_updates.data()),
                       "update tree"));
  }
  for (const auto& [path, e] : edits) {
    out.push_back(PathEdit{e.status, e.was_tree && e.remove ? path + "/" : path});
  }
  return result;
}

std::string Committer::message(const Author& author, const std::vector<PathEdit>& edits,
                               std::optional<uint64_t> seq) const {
  std::string msg;
  if (edits.size() == 1) {
    const char* verb = edits[0].status == 'A' ? "add" : edits[0].status == 'D' ? "remove" : "update";
    msg = fmt::format("{}: {} {}\n\n", author.name, verb, edits[0].path);
  } else {
    msg = fmt::format("{}: {} paths changed\n\n", author.name, edits.size());
  }
  size_t n = 0;
  for (const auto& e : edits) {
    if (n++ == kMessagePathLines) {
      msg += fmt::format("... and {} more\n", edits.size() - kMessagePathLines);
      break;
    }
    msg += fmt::format("{}\t{}\n", e.status, e.path);
  }
  if (seq) {
    msg += fmt::format("\nCove-Journal-Seq: {}\nCove-Sync: {}\n", *seq, options_.sync_id);
  }
  return msg;
}

base::Result<BatchOutcome> Committer::commit_once(const std::vector<ChangeGroup>& groups, uint64_t seq) {
  BatchOutcome out;
  COVE_TRY_ASSIGN(branch, head_branch());
  out.branch = branch;
  COVE_TRY_ASSIGN(tip, ref_target(branch));
  if (tip) {
    out.head = *tip;
  }
  COVE_TRY_ASSIGN(tip_tree_ptr, tip_tree(branch, tip));

  // Each group's tree is built on the previous group's.
  struct Planned {
    size_t group;
    TreePtr tree;
    std::vector<PathEdit> edits;
  };
  std::vector<Planned> planned;
  git_tree* tree = tip_tree_ptr.get();
  for (size_t i = 0; i < groups.size(); i++) {
    std::vector<PathEdit> edits;
    COVE_TRY_ASSIGN(new_tree, build_tree(tree, groups[i].paths, edits));
    if (git_oid_equal(&new_tree, git_tree_id(tree))) {
      continue;
    }
    COVE_TRY_ASSIGN(new_tree_ptr, lookup_tree(repo_.get(), new_tree));
    tree = new_tree_ptr.get();
    planned.push_back(Planned{i, std::move(new_tree_ptr), std::move(edits)});
  }
  if (planned.empty()) {
    return out;
  }

  git_signature* csig_raw = nullptr;
  Author cs = author_for("cove-sync", "", options_.team);
  COVE_TRY(git_check(git_signature_now(&csig_raw, cs.name.c_str(), cs.email.c_str()), "committer signature"));
  SigPtr committer(csig_raw);
  std::optional<git_oid> prev = tip;
  for (size_t k = 0; k < planned.size(); k++) {
    const auto& p = planned[k];
    const Author& a = groups[p.group].author;
    git_signature* asig_raw = nullptr;
    COVE_TRY(git_check(git_signature_now(&asig_raw, a.name.c_str(), a.email.c_str()),
                       fmt::format("author signature {} <{}>", a.name, a.email)));
    SigPtr author(asig_raw);
    CommitPtr prev_commit;
    if (prev) {
      COVE_TRY_ASSIGN(c, lookup_commit(repo_.get(), *prev));
      prev_commit = std::move(c);
    }
    const git_commit* parents[1] = {prev_commit.get()};
    std::string msg = message(a, p.edits, k + 1 == planned.size() ? std::optional<uint64_t>(seq) : std::nullopt);
    git_oid id{};
    COVE_TRY(git_check(git_commit_create(&id, repo_.get(), nullptr, author.get(), committer.get(), nullptr,
                                         msg.c_str(), p.tree.get(), prev ? 1 : 0, parents),
                       "create commit"));
    out.commits.push_back(CommitMade{id, a.name, p.edits});
    prev = id;
  }

  git_reference* ref_raw = nullptr;
  std::string log_msg = fmt::format("cove-sync: {} commit(s)", out.commits.size());
  int rc = tip ? git_reference_create_matching(&ref_raw, repo_.get(), branch.c_str(), &*prev, 1, &*tip,
                                               log_msg.c_str())
               : git_reference_create(&ref_raw, repo_.get(), branch.c_str(), &*prev, 0, log_msg.c_str());
  if (rc == GIT_ELOCKED) {
    if (clear_stale_lock(branch)) {
      return base::Error::make(EAGAIN, "{} was locked by a dead process", branch);
    }
    return base::Error::make(EBUSY, "{} is locked (git running?)", branch);
  }
  if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS) {
    return base::Error::make(EAGAIN, "{} moved while committing", branch);
  }
  COVE_TRY(git_check(rc, "update " + branch));
  git_reference_free(ref_raw);
  out.head = *prev;
  return out;
}

base::Result<TreePtr> Committer::tip_tree(const std::string& branch, const std::optional<git_oid>& tip) {
  if (!tip) {
    COVE_TRY_ASSIGN(empty, empty_tree(repo_.get()));
    return lookup_tree(repo_.get(), empty);
  }
  COVE_TRY_ASSIGN(commit, lookup_commit(repo_.get(), *tip));
  auto tree = commit_tree(commit.get());
  if (!tree) {
    return tree.error().wrap("{}", branch);
  }
  return tree;
}

bool Committer::clear_stale_lock(const std::string& ref, int min_age_s) {
  std::string lock = std::string(git_repository_path(repo_.get())) + ref + ".lock";
  struct stat st {};
  if (::lstat(lock.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return false;
  }
  if (::time(nullptr) - st.st_mtime < min_age_s) {
    return false;
  }
  if (::unlink(lock.c_str()) != 0) {
    return false;
  }
  log_warn("removed stale lock {} ({} s old, left by a process that died)", lock, ::time(nullptr) - st.st_mtime);
  return true;
}

base::Result<BatchOutcome> Committer::commit(const std::vector<ChangeGroup>& groups, uint64_t seq,
                                             std::function<bool(const std::string&)> pending_elsewhere) {
  pending_elsewhere_ = std::move(pending_elsewhere);
  struct Reset {
    std::function<bool(const std::string&)>& f;
    ~Reset() { f = nullptr; }
  } reset{pending_elsewhere_};
  for (int attempt = 0;; attempt++) {
    auto r = commit_once(groups, seq);
    if (r || r.error().code() != EAGAIN || attempt == 2) {
      return r;
    }
    log_warn("{}; committing again on the new tip", r.error().message());
  }
}

base::Result<std::vector<std::string>> Committer::scan() {
  COVE_TRY_ASSIGN(branch, head_branch());
  COVE_TRY_ASSIGN(tip, ref_target(branch));
  TreePtr tree;  // null for an unborn branch: everything in the working tree is new
  if (tip) {
    COVE_TRY_ASSIGN(t, tip_tree(branch, tip));
    tree = std::move(t);
  }
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS | GIT_DIFF_INCLUDE_TYPECHANGE;
  opts.ignore_submodules = GIT_SUBMODULE_IGNORE_ALL;
  git_diff* raw = nullptr;
  COVE_TRY(git_check(git_diff_tree_to_workdir_with_index(&raw, repo_.get(), tree.get(), &opts),
                     "compare the working tree with " + branch));
  DiffPtr diff(raw);
  std::set<std::string> paths;
  size_t n = git_diff_num_deltas(diff.get());
  for (size_t i = 0; i < n; i++) {
    const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
    for (const char* p : {d->old_file.path, d->new_file.path}) {
      if (p == nullptr) {
        continue;
      }
      std::string s = p;
      while (!s.empty() && s.back() == '/') {
        s.pop_back();
      }
      if (committable_path(s)) {
        paths.insert(std::move(s));
      }
    }
  }
  return std::vector<std::string>(paths.begin(), paths.end());
}

base::Result<std::optional<uint64_t>> Committer::committed_seq(size_t max_walk) {
  COVE_TRY_ASSIGN(branch, head_branch());
  COVE_TRY_ASSIGN(tip, ref_target(branch));
  if (!tip) {
    return std::optional<uint64_t>();
  }
  git_revwalk* raw = nullptr;
  COVE_TRY(git_check(git_revwalk_new(&raw, repo_.get()), "revwalk"));
  RevwalkPtr walk(raw);
  git_revwalk_simplify_first_parent(walk.get());
  COVE_TRY(git_check(git_revwalk_push(walk.get(), &*tip), "revwalk push"));
  git_oid id{};
  for (size_t n = 0; n < max_walk && git_revwalk_next(&id, walk.get()) == 0; n++) {
    COVE_TRY_ASSIGN(commit, lookup_commit(repo_.get(), id));
    git_message_trailer_array arr{};
    if (git_message_trailers(&arr, git_commit_message(commit.get())) < 0) {
      continue;
    }
    std::optional<uint64_t> seq;
    bool ours = false;
    for (size_t i = 0; i < arr.count; i++) {
      if (std::strcmp(arr.trailers[i].key, "Cove-Sync") == 0 && options_.sync_id == arr.trailers[i].value) {
        ours = true;
      } else if (std::strcmp(arr.trailers[i].key, "Cove-Journal-Seq") == 0) {
        char* end = nullptr;
        unsigned long long v = std::strtoull(arr.trailers[i].value, &end, 10);
        if (end != arr.trailers[i].value && *end == '\0') {
          seq = v;
        }
      }
    }
    git_message_trailer_array_free(&arr);
    if (ours && seq) {
      return seq;
    }
  }
  return std::optional<uint64_t>();
}

}  // namespace covesync
