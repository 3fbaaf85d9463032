// cove ws status [TEAM]: what each team's workspace is right now — the checkout (branch, HEAD),
// the covefs mount (answering or not, probed with a deadline), the journal's last seq,
// cove-sync (running, lag, last error) and the write sessions.
#include <fmt/format.h>

#include "sync/session.h"
#include "tools/cli/ws.h"

namespace cli {

int ws_status(const WsPaths& paths, const WsStatusOptions& o, const Io& io) {
  const std::string name = "cove ws status";
  std::vector<std::string> teams;
  if (!o.team.empty()) {
    if (!is_workspace(paths, o.team)) {
      io.err << name << ": no workspace " << paths.workspace(o.team) << '\n';
      return kExitUsage;
    }
    teams.push_back(o.team);
  } else {
    teams = list_teams(paths.workspaces_root);
  }
  std::vector<MountInfo> mounts = own_mounts();
  Json list = Json::array();
  Table t({"TEAM", "BRANCH", "HEAD", "MOUNT", "COVEFS", "JOURNAL", "SYNC", "SESSIONS"});
  for (const auto& team : teams) {
    std::string path = paths.workspace(team);
    std::string branch = git_line(path, {"rev-parse", "--abbrev-ref", "HEAD"});
    std::string head = git_line(path, {"rev-parse", "-q", "--verify", "HEAD"});
    MountState m = mount_state(paths, team, mounts, o.timeout_ms);
    bool answering = m.probe && m.probe->state == ProbeState::kAnswering;
    std::optional<uint64_t> seq = journal_last_seq(paths.journal(team));
    auto sync = read_sync_status(paths.sync_status(team));
    auto sessions = covesync::list_sessions(path);

    Json j;
    j["team"] = team;
    j["path"] = path;
    j["branch"] = string_or_null(branch);
    j["head"] = string_or_null(head);
    Json jm;
    jm["mountpoint"] = m.mountpoint;
    jm["mounted"] = m.mounted;
    jm["answering"] = answering;
    jm["probe"] = m.probe ? Json(probe_state_name(m.probe->state)) : Json(nullptr);
    jm["fstype"] = string_or_null(m.fstype);
    jm["pid"] = m.covefs_pid != 0 && m.covefs_alive ? Json(m.covefs_pid) : Json(nullptr);
    j["mount"] = jm;
    Json jj;
    jj["dir"] = paths.journal(team);
    jj["lastSeq"] = seq ? Json(*seq) : Json(nullptr);
    j["journal"] = jj;
    std::string sync_cell = "never ran";
    if (sync) {
      uint64_t end = std::max(sync->journal_last_seq, seq.value_or(0));
      uint64_t lag = end > sync->last_seq_committed ? end - sync->last_seq_committed : 0;
      Json js;
      js["status"] = sync->file;
      js["running"] = sync->running;
      js["pid"] = sync->pid;
      js["lag"] = lag;
      js["lastSeqCommitted"] = sync->last_seq_committed;
      js["lastError"] = sync->last_error;
      js["lastErrorTime"] = sync->last_error_time;
      js["updated"] = sync->updated;
      j["sync"] = js;
      sync_cell = sync->running ? fmt::format("pid {}, lag {}", sync->pid, lag) : fmt::format("stopped, lag {}", lag);
      if (!sync->last_error.empty()) {
        sync_cell += ", error: " + sync->last_error;
      }
    } else {
      j["sync"] = nullptr;
      if (sync.error().code() != ENOENT) {
        sync_cell = "unreadable status";
      }
    }
    Json js = Json::array();
    std::vector<std::string> names;
    if (sessions) {
      for (const auto& s : *sessions) {
        Json e;
        e["name"] = s.name;
        e["path"] = s.path;
        e["branch"] = s.branch;
        js.push_back(std::move(e));
        names.push_back(s.name);
      }
    }
    j["sessions"] = js;
    list.push_back(std::move(j));

    std::string mount_cell = !m.mounted ? (m.fstype.empty() ? "not mounted" : m.fstype + ", not covefs")
                             : answering ? "answering"
                                         : (m.probe ? probe_state_name(m.probe->state) : "unknown");
    t.add({team, branch.empty() ? "-" : branch, head.empty() ? "-" : head.substr(0, 12),
           Cell(mount_cell, answering ? Color::kGreen : Color::kRed),
           m.covefs_alive ? std::to_string(m.covefs_pid) : "-", seq ? std::to_string(*seq) : "-",
           Cell(sync_cell, sync && sync->running && sync->last_error.empty() ? Color::kNone : Color::kYellow),
           names.empty() ? "-" : join(names)});
  }
  if (o.json) {
    Json j;
    j["workspacesRoot"] = paths.workspaces_root;
    j["teams"] = std::move(list);
    io.out << j.dump(2) << '\n';
    return kExitOk;
  }
  if (teams.empty()) {
    io.out << "no team workspaces under " << paths.workspaces_root << '\n';
    return kExitOk;
  }
  t.print(io);
  return kExitOk;
}

}  // namespace cli
