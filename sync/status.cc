#include "sync/status.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/time.h"

namespace covesync {

std::string status_json(const SyncStatus& s) {
  using J = nlohmann::ordered_json;
  J j;
  j["team"] = s.team;
  j["repo"] = s.repo;
  j["loop"] = s.loop;
  j["pid"] = ::getpid();
  j["updated"] = base::now_rfc3339();
  j["lastSeqSeen"] = s.last_seq_seen;
  j["lastSeqCommitted"] = s.last_seq_committed;
  j["journalLastSeq"] = s.journal_last_seq;
  j["lag"] = s.journal_last_seq > s.last_seq_committed ? s.journal_last_seq - s.last_seq_committed : 0;
  j["pendingCount"] = s.pending_count;
  J pending = J::array();
  for (size_t i = 0; i < s.pending_paths.size() && i < kStatusPendingPaths; i++) {
    pending.push_back(s.pending_paths[i]);
  }
  j["pendingPaths"] = pending;
  j["commits"] = s.commits;
  j["lastCommit"] = s.last_commit;
  j["head"] = s.head;
  j["lastError"] = s.last_error;
  j["lastErrorTime"] = s.last_error_time;
  j["fullScans"] = s.full_scans;
  j["hostWatches"] = s.host_watches;
  j["hostWatchIncomplete"] = s.host_watch_incomplete;
  if (!s.remote_url.empty()) {
    j["remote"] = J{{"url", s.remote_url},
                    {"branch", s.remote_branch},
                    {"lastFetch", s.last_fetch},
                    {"lastPush", s.last_push},
                    {"merges", s.merges}};
  }
  J conflicts = J::array();
  for (const auto& c : s.conflicts) {
    conflicts.push_back(J{{"branch", c.branch}, {"time", c.time}, {"paths", c.paths}});
  }
  j["conflicts"] = conflicts;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

base::Result<void> write_status(const std::string& path, const SyncStatus& s) {
  return base::write_file_atomic(path, status_json(s), false, 0644);
}

}  // namespace covesync
