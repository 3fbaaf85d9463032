#include "tools/cli/fsmonitor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "base/fd.h"
#include "base/file.h"
#include "tools/cli/mountinfo.h"
#include "tools/cli/watch.h"

namespace cli {

namespace {

using base::JournalOp;

constexpr size_t kBatch = 8192;
/// More distinct paths than this and "/" is cheaper for git than the list (and bounds memory).
constexpr size_t kMaxPaths = 500000;
/// Rounds of "check the renames, read what came meanwhile" before giving up with "/".
constexpr int kMaxRounds = 4;

bool is_git_dir(std::string_view rel) { return rel == ".git" || rel.starts_with(".git/"); }

template <typename T>
bool parse_number(std::string_view s, T& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) {
    return false;  // canonical form only, so a token has one spelling
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

/// The path with `.`/`..` and symlinks resolved, or the text as is when that fails.
std::string real(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) != nullptr) {
    return buf;
  }
  return p;
}

/// `inner` relative to `outer` ("" when equal), nullopt when it is not inside.
std::optional<std::string> relative_to(const std::string& inner, const std::string& outer) {
  if (outer == "/") {
    return inner == "/" ? std::string() : inner.substr(1);
  }
  if (inner == outer) {
    return std::string();
  }
  if (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/') {
    return inner.substr(outer.size() + 1);
  }
  return std::nullopt;
}

std::string join_rel(const std::string& a, const std::string& b) {
  if (a.empty()) {
    return b;
  }
  if (b.empty()) {
    return a;
  }
  return a + "/" + b;
}

}  // namespace

std::string format_token(const FsmonitorToken& t) { return fmt::format("cove:{}:{}:{}", t.writer, t.seq, t.stamp); }

std::optional<FsmonitorToken> parse_token(std::string_view text) {
  if (!text.starts_with("cove:")) {
    return std::nullopt;
  }
  text.remove_prefix(5);
  size_t a = text.find(':');
  if (a == std::string_view::npos) {
    return std::nullopt;
  }
  size_t b = text.find(':', a + 1);
  if (b == std::string_view::npos || text.find(':', b + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  FsmonitorToken t;
  t.writer = std::string(text.substr(0, a));
  if (t.writer.empty()) {
    return std::nullopt;
  }
  for (char c : t.writer) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.')) {
      return std::nullopt;
    }
  }
  if (!parse_number(text.substr(a + 1, b - a - 1), t.seq) || !parse_number(text.substr(b + 1), t.stamp)) {
    return std::nullopt;
  }
  return t;
}

MappedPath map_journal_path(std::string_view path, std::string_view prefix) {
  MappedPath m;
  std::string_view rel;
  if (prefix.empty()) {
    if (path.empty()) {
      m.kind = MappedPath::kEverything;
      return m;
    }
    rel = path;
  } else {
    if (path.empty() || path == prefix ||
        (prefix.size() > path.size() && prefix.starts_with(path) && prefix[path.size()] == '/')) {
      m.kind = MappedPath::kEverything;  // the worktree itself or one of its ancestors
      return m;
    }
    if (!(path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/')) {
      return m;  // elsewhere in the workspace
    }
    rel = path.substr(prefix.size() + 1);
  }
  if (is_git_dir(rel)) {
    return m;
  }
  m.kind = MappedPath::kReport;
  m.path = std::string(rel);
  return m;
}

void ChangeSet::everything(std::string reason) {
  if (!everything_) {
    everything_ = true;
    reason_ = std::move(reason);
    paths_.clear();
    seen_.clear();
  }
}

void ChangeSet::report(std::string_view journal_path, bool as_directory_too) {
  MappedPath m = map_journal_path(journal_path, prefix_);
  if (m.kind == MappedPath::kEverything) {
    everything(fmt::format("a change to the worktree itself or above it ({:?})", std::string(journal_path)));
    return;
  }
  if (m.kind == MappedPath::kIgnore || everything_) {
    return;
  }
  if (seen_.insert(m.path).second) {
    paths_.push_back(m.path);
  }
  if (as_directory_too) {
    std::string dir = m.path + "/";
    if (seen_.insert(dir).second) {
      paths_.push_back(std::move(dir));
    }
  }
  if (paths_.size() > kMaxPaths) {
    everything(fmt::format("more than {} paths", kMaxPaths));
  }
}

bool ChangeSet::touches_rename_target(std::string_view path) const {
  if (targets_.empty()) {
    return false;
  }
  // The path itself or any of its ancestors.
  for (;;) {
    if (targets_.count(std::string(path)) != 0) {
      return true;
    }
    size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
      return false;
    }
    path = path.substr(0, slash);
  }
}

void ChangeSet::add(const base::JournalRecord& r) {
  if (everything_) {
    return;
  }
  // A directory renamed into place and then removed or replaced within one answer cannot be
  // told apart from a file afterwards: any later removal or rename of a rename target is "/".
  if ((r.op == JournalOp::unlink || r.op == JournalOp::rmdir || r.op == JournalOp::rename) &&
      touches_rename_target(r.path)) {
    everything(fmt::format("{:?} was renamed and then removed or renamed again", r.path));
    return;
  }
  switch (r.op) {
    case JournalOp::create:
    case JournalOp::write:
    case JournalOp::truncate:
    case JournalOp::mknod:
    case JournalOp::unlink:
    case JournalOp::symlink:
      report(r.path, false);
      break;
    case JournalOp::link:
      report(r.path, false);
      report(r.path2, false);
      break;
    case JournalOp::mkdir:
    case JournalOp::rmdir:
    case JournalOp::chmod:
    case JournalOp::chown:
    case JournalOp::utimens:
    case JournalOp::setxattr:
    case JournalOp::removexattr:
      report(r.path, true);
      break;
    case JournalOp::rename: {
      MappedPath a = map_journal_path(r.path, prefix_);
      MappedPath b = map_journal_path(r.path2, prefix_);
      if (a.kind == MappedPath::kIgnore && b.kind == MappedPath::kIgnore) {
        break;
      }
      report(r.path, true);
      report(r.path2, true);
      if (targets_.insert(r.path2).second) {
        unchecked_.push_back(r.path2);
      }
      break;
    }
    case JournalOp::rescan:
      everything(fmt::format("the journal asks for a rescan of {:?}", r.path));
      break;
  }
}

void ChangeSet::check_renames(const IsDirectory& is_dir) {
  for (const std::string& target : unchecked_) {
    if (everything_) {
      break;
    }
    int d = is_dir(target);
    if (d != 0) {
      everything(fmt::format("rename target {:?} {}", target, d > 0 ? "is a directory" : "is gone"));
    }
  }
  unchecked_.clear();
}

FsmonitorAnswer answer_fsmonitor(base::JournalReader& reader, const std::optional<std::string>& writer,
                                 std::string_view token_text, const std::string& prefix,
                                 const IsDirectory& is_dir) {
  FsmonitorAnswer ans;
  ans.token.writer = writer.value_or("none");
  // The fresh token first: whatever is appended after this point is reported next time.
  auto end = reader.read_after(uint64_t{1} << 62, 1);
  if (!end) {
    ans.token.writer = "none";
    ans.reason = "journal: " + end.error().message();
    return ans;
  }
  ans.token.seq = end->last_seq;
  if (end->last_seq > 0) {
    auto last = reader.read_after(end->last_seq - 1, 1);
    if (!last || last->records.empty() || last->records.front().seq != end->last_seq) {
      ans.token.writer = "none";
      ans.reason = "journal: cannot read its last record";
      return ans;
    }
    ans.token.stamp = last->records.front().time_ns;
  }
  if (!writer) {
    ans.token.writer = "none";
    ans.reason = "covefs is not running on this journal (writer.lock)";
    return ans;
  }
  auto old = parse_token(token_text);
  if (!old) {
    ans.reason = "not a cove token";
    return ans;
  }
  if (old->writer != *writer) {
    ans.reason = "covefs restarted since the token (or the token is from another journal)";
    return ans;
  }
  uint64_t cursor = old->seq;
  if (old->seq > 0) {
    auto at = reader.read_after(old->seq - 1, 1);
    if (!at || at->records.empty() || at->records.front().seq != old->seq ||
        at->records.front().time_ns != old->stamp) {
      ans.reason = "the token's record is not in the journal (expired, or another journal)";
      return ans;
    }
  } else if (old->stamp != 0) {
    ans.reason = "not a cove token";
    return ans;
  }

  ChangeSet changes(prefix);
  FsmonitorToken token = *old;
  for (int round = 0;; ++round) {
    for (;;) {
      auto batch = reader.read_after(cursor, kBatch);
      if (!batch) {
        ans.reason = "journal: " + batch.error().message();
        return ans;
      }
      if (batch->gap) {
        ans.reason = "gap in the journal (" + gap_reason(*batch, cursor) + ")";
        return ans;
      }
      for (const auto& r : batch->records) {
        changes.add(r);
      }
      if (!batch->records.empty()) {
        token.seq = batch->records.back().seq;
        token.stamp = batch->records.back().time_ns;
      }
      cursor = batch->next_cursor();
      if (changes.is_everything()) {
        ans.reason = changes.reason();
        return ans;  // the fresh token taken first covers it
      }
      if (batch->records.empty()) {
        break;
      }
    }
    if (!changes.has_unchecked_renames()) {
      break;
    }
    // Look at the rename targets now, then read again: a target removed or replaced after the
    // look has its record in the journal by then (touches_rename_target).
    changes.check_renames(is_dir);
    if (changes.is_everything()) {
      ans.reason = changes.reason();
      return ans;
    }
    if (round + 1 >= kMaxRounds) {
      ans.reason = "the journal keeps growing while renames are checked";
      return ans;
    }
  }
  ans.everything = false;
  ans.token = token;
  ans.paths = changes.paths();
  return ans;
}

std::optional<std::string> writer_id(const std::string& dir) {
  base::Fd fd(::open((dir + "/writer.lock").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return std::nullopt;
  }
  char buf[16];
  ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
  if (n != 8 || std::string_view(buf, 8) != "running\n") {
    return std::nullopt;
  }
  return fmt::format("{}.{}", static_cast<uint64_t>(st.st_ino),
                     static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
}

std::string fsmonitor_output(const FsmonitorAnswer& a) {
  std::string out = format_token(a.token);
  out.push_back('\0');
  if (a.everything) {
    out += "/";
    out.push_back('\0');
    return out;
  }
  for (const auto& p : a.paths) {
    out += p;
    out.push_back('\0');
  }
  return out;
}

CLI::App* add_fsmonitor(CLI::App& app, FsmonitorOptions& o) {
  CLI::App* c = app.add_subcommand("fsmonitor", "git's fsmonitor hook (core.fsmonitor), answered from the journal");
  c->add_option("version", o.version, "hook protocol version (git passes 2)")->required();
  c->add_option("token", o.token, "the token of git's last query");
  c->add_option("--journal", o.journal, "the team's journal (default: $COVE_JOURNAL, else found from the covefs mount)");
  c->add_option("--workspace", o.workspace,
                "the workspace root as git sees it (default: $COVE_WORKSPACE, else the covefs mount point)");
  return c;
}

int fsmonitor(const FsmonitorOptions& o, const Io& io) {
  if (o.version != "2") {
    io.err << "cove fsmonitor: only hook protocol version 2 is supported, git asked for " << o.version
           << " (set core.fsmonitorHookVersion=2)\n";
    return kExitUsage;
  }
  bool debug = std::getenv("COVE_FSMONITOR_DEBUG") != nullptr;
  FsmonitorAnswer ans;
  ans.token.writer = "none";
  auto emit = [&](const FsmonitorAnswer& a) {
    if (debug) {
      io.err << "cove fsmonitor: token " << o.token << " -> " << format_token(a.token) << ": "
             << (a.everything ? "everything (" + a.reason + ")" : fmt::format("{} paths", a.paths.size())) << '\n';
    }
    io.out << fsmonitor_output(a);
    io.out.flush();
    return kExitOk;
  };
  auto fail = [&](const std::string& why) {
    // A setup problem is said on every run: silence would hide that the hook never helps.
    io.err << "cove fsmonitor: " << why << "; reporting everything as changed\n";
    ans.reason = why;
    return emit(ans);
  };

  std::string cwd = o.cwd;
  if (cwd.empty()) {
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr) {
      return fail(std::string("getcwd: ") + std::strerror(errno));
    }
    cwd = buf;
  }
  cwd = real(cwd);

  std::string journal = o.journal;
  if (journal.empty() && std::getenv("COVE_JOURNAL") != nullptr) {
    journal = std::getenv("COVE_JOURNAL");
  }
  std::string workspace = o.workspace;
  if (workspace.empty() && std::getenv("COVE_WORKSPACE") != nullptr) {
    workspace = std::getenv("COVE_WORKSPACE");
  }
  std::string mount_root;  // the mount's root inside covefs (a bind of a subdirectory)
  if (workspace.empty() || journal.empty()) {
    // The covefs mount that holds the worktree: the longest mount point above it.
    auto text = base::read_file(o.mountinfo);
    const MountInfo* best = nullptr;
    std::vector<MountInfo> mounts;
    if (text) {
      mounts = parse_mountinfo(*text);
      for (const auto& m : mounts) {
        if (relative_to(cwd, m.mount_point) && (best == nullptr || m.mount_point.size() >= best->mount_point.size())) {
          best = &m;
        }
      }
    }
    if (best == nullptr || best->fstype != "fuse.covefs" || !best->source.starts_with("covefs:")) {
      return fail(fmt::format("{} is not on a covefs mount; name the workspace and journal with --workspace and "
                              "--journal (or COVE_WORKSPACE, COVE_JOURNAL)",
                              cwd));
    }
    if (workspace.empty()) {
      workspace = best->mount_point;
      mount_root = best->root == "/" ? "" : best->root.substr(1);
    }
    if (journal.empty()) {
      journal = default_journal_dir(best->source.substr(7));
    }
  }
  workspace = real(workspace);
  auto rel = relative_to(cwd, workspace);
  if (!rel) {
    return fail(fmt::format("the worktree {} is not inside the workspace {}", cwd, workspace));
  }
  std::string prefix = join_rel(mount_root, *rel);

  auto reader = base::JournalReader::open(journal);
  if (!reader) {
    return fail(reader.error().message());
  }
  base::Fd ws_fd(::open(workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  IsDirectory is_dir = [&](const std::string& journal_path) -> int {
    // Journal paths are relative to the covefs root; the workspace shows it from mount_root.
    std::string p = journal_path;
    if (!mount_root.empty()) {
      auto r = relative_to("/" + journal_path, "/" + mount_root);
      if (!r) {
        return -1;
      }
      p = *r;
    }
    struct stat st {};
    if (!ws_fd.valid() || ::fstatat(ws_fd.get(), p.empty() ? "." : p.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return -1;
    }
    return S_ISDIR(st.st_mode) ? 1 : 0;
  };
  // The writer id before the journal is read: a covefs restart during the read leaves a token
  // that the next query rejects.
  std::optional<std::string> writer = writer_id(journal);
  return emit(answer_fsmonitor(**reader, writer, o.token, prefix, is_dir));
}

}  // namespace cli
