#pragma once
// The machine-readable status of a cove-sync daemon: a JSON file replaced atomically after every
// batch (and on errors), read by `cove doctor`, monitoring and the tests.
//
//   {"team":"alpha","repo":"/srv/alpha","loop":"io_uring","pid":123,"updated":"<RFC 3339>",
//    "lastSeqSeen":120,"lastSeqCommitted":120,"journalLastSeq":120,"lag":0,
//    "pendingCount":0,"pendingPaths":[],"commits":14,"lastCommit":"<oid>","head":"<oid>",
//    "lastError":"","lastErrorTime":"","fullScans":1,"hostWatches":42,
//    "remote":{"url":"...","branch":"main","lastFetch":"...","lastPush":"...","merges":1},
//    "conflicts":[{"branch":"cove/conflict/20261124T061700Z","time":"...","paths":["a.txt"]}]}
//
// lag = journalLastSeq - lastSeqCommitted: 0 means every journaled change is acknowledged.
// pendingPaths holds at most 100 paths; pendingCount counts them all.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace covesync {

/// How many pending paths the status file lists (pendingCount counts them all).
constexpr size_t kStatusPendingPaths = 100;

struct ConflictRecord {
  std::string branch;
  std::string time;
  std::vector<std::string> paths;
};

struct SyncStatus {
  std::string team;
  std::string repo;
  std::string loop;
  uint64_t last_seq_seen = 0;
  uint64_t last_seq_committed = 0;
  uint64_t journal_last_seq = 0;
  size_t pending_count = 0;
  std::vector<std::string> pending_paths;  ///< the first kStatusPendingPaths of them
  uint64_t commits = 0;
  std::string last_commit;
  std::string head;
  std::string last_error;
  std::string last_error_time;
  uint64_t full_scans = 0;
  size_t host_watches = 0;
  bool host_watch_incomplete = false;
  std::string remote_url;
  std::string remote_branch;
  std::string last_fetch;
  std::string last_push;
  uint64_t merges = 0;
  std::vector<ConflictRecord> conflicts;
};

std::string status_json(const SyncStatus& s);

[[nodiscard]] base::Result<void> write_status(const std::string& path, const SyncStatus& s);

}  // namespace covesync
