#include "tools/cli/workspace.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/journal.h"
#include "tools/cli/process.h"

namespace cli {

bool WsPaths::defaults() const { return non_default_flags().empty(); }

std::string WsPaths::non_default_flags() const {
  WsPaths d;
  std::string flags;
  if (workspaces_root != d.workspaces_root) {
    flags += " --workspaces-root " + shell_quote(workspaces_root);
  }
  if (mounts_root != d.mounts_root) {
    flags += " --mounts-root " + shell_quote(mounts_root);
  }
  if (journal_root != d.journal_root) {
    flags += " --journal-root " + shell_quote(journal_root);
  }
  if (sync_root != d.sync_root) {
    flags += " --sync-root " + shell_quote(sync_root);
  }
  return flags;
}

void add_path_options(CLI::App* c, WsPaths& p) {
  c->add_option("--workspaces-root", p.workspaces_root, "where the teams' git checkouts are")
      ->default_str(p.workspaces_root);
  c->add_option("--mounts-root", p.mounts_root, "where covefs mounts each team")->default_str(p.mounts_root);
  c->add_option("--journal-root", p.journal_root, "where covefs keeps each team's journal")
      ->default_str(p.journal_root);
  c->add_option("--sync-root", p.sync_root, "where cove-sync keeps each team's state and status.json")
      ->default_str(p.sync_root);
}

bool valid_team_name(const std::string& team) {
  if (team.empty() || team.size() > 64 || team[0] == '.' || team[0] == '-') {
    return false;
  }
  return std::all_of(team.begin(), team.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

std::vector<std::string> list_teams(const std::string& workspaces_root) {
  std::vector<std::string> teams;
  DIR* d = ::opendir(workspaces_root.c_str());
  if (d == nullptr) {
    return teams;
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!valid_team_name(name)) {
      continue;
    }
    struct stat st {};
    if (::lstat((workspaces_root + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      teams.push_back(name);
    }
  }
  ::closedir(d);
  std::sort(teams.begin(), teams.end());
  return teams;
}

std::string shell_quote(const std::string& word) {
  bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
           c == '_' || c == '-' || c == ':' || c == '@' || c == '=' || c == ',' || c == '+';
  });
  if (plain) {
    return word;
  }
  std::string q = "'";
  for (char c : word) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

base::Result<SyncState> parse_sync_status(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return base::Error::make(EINVAL, "not a JSON object");
  }
  SyncState s;
  auto u64 = [&](const char* key) -> uint64_t {
    auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
  };
  auto str = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  auto pid = j.find("pid");
  if (pid != j.end() && pid->is_number_integer()) {
    s.pid = pid->get<pid_t>();
  }
  s.updated = str("updated");
  s.lag = u64("lag");
  s.pending = u64("pendingCount");
  s.last_seq_committed = u64("lastSeqCommitted");
  s.journal_last_seq = u64("journalLastSeq");
  s.head = str("head");
  s.last_error = str("lastError");
  s.last_error_time = str("lastErrorTime");
  return s;
}

base::Result<SyncState> read_sync_status(const std::string& file) {
  auto text = base::read_file(file);
  if (!text) {
    return text.error();
  }
  auto s = parse_sync_status(*text);
  if (!s) {
    return s.error().wrap("{}", file);
  }
  s->file = file;
  s->running = process_alive(s->pid, "cove-sync");
  return s;
}

MountState mount_state(const WsPaths& paths, const std::string& team, const std::vector<MountInfo>& mounts,
                       int timeout_ms) {
  MountState m;
  m.mountpoint = canonical_parent_path(paths.mountpoint(team));
  if (auto mi = mount_at_path(mounts, m.mountpoint)) {
    m.fstype = mi->fstype;
    m.source = mi->source;
    m.mounted = mi->fstype == "fuse.covefs";
  }
  if (auto pid = base::read_file(paths.pidfile(team))) {
    m.covefs_pid = static_cast<pid_t>(std::atol(pid->c_str()));
    m.covefs_alive = process_alive(m.covefs_pid, "covefs");
  }
  if (m.mounted) {
    m.probe = probe_mount(m.mountpoint, timeout_ms);
  }
  return m;
}

std::optional<uint64_t> journal_last_seq(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return std::nullopt;
  }
  auto reader = base::JournalReader::open(dir);
  if (!reader) {
    return std::nullopt;
  }
  // The batch's last_seq is the journal's end, whatever the cursor.
  auto batch = (*reader)->read_after(0, 1);
  if (!batch) {
    return std::nullopt;
  }
  return batch->records.empty() && batch->last_seq == 0 ? 0 : batch->last_seq;
}

std::string covefs_fix(const WsPaths& paths, const std::string& team) {
  if (paths.defaults()) {
    return "systemctl restart covefs@" + team;
  }
  return "cove ws mount " + team + paths.non_default_flags();
}

std::string sync_fix(const WsPaths& paths, const std::string& team) {
  if (paths.defaults()) {
    return "systemctl restart cove-sync@" + team;
  }
  return "cove-sync --team " + team + " --repo " + shell_quote(paths.workspace(team)) + " --journal " +
         shell_quote(paths.journal(team)) + " --state-dir " + shell_quote(paths.sync_state(team));
}

}  // namespace cli
