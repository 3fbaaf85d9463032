#pragma once
// The cove-sync daemon: journal records and host-side edits in, debounced commits out.
//
//   journal wake fd ──► read records after the cursor ──► pending paths, by author
//   inotify on tree ──► host paths (dropped when the journal names them too)
//   signalfd         ──► commit what is pending, then exit
//   commit timer     ──► commits the paths that are due: quiet for quiet-ms since their last
//                        change, or pending for max-delay-ms (a file written without pause);
//                        one commit per author (committer.h), cursor (cursor.h), status, then
//                        the remote round (remote.h)
//   index timer      ──► the index entries of committed paths brought up to date (index_sync.h),
//                        at most once a second: `git reset` rewrites the whole index file
//   fetch timer      ──► the remote round every fetch-interval-ms
//
// A journal gap (records deleted by retention before they were read, an undecodable record, a
// `rescan` record, a journal recreated behind the cursor), an inotify overflow and every start
// cost one full scan of the working tree against the branch (committer.h scan()), logged. The
// start-up scan is what finds host-side edits made while cove-sync was not running and the
// host paths of a batch that a kill -9 interrupted.
//
// The quiet period is per path, so a file that never stops changing (a log, a watcher's cache)
// does not hold back everyone else's work: under a steady stream of writes each path is
// committed about quiet-ms after its own last change. Paths that become due within the
// coalescing window (quiet-ms / 4, at most 100 ms) are taken with the ones due now, so a busy
// workspace makes a commit every ~100 ms at most, not one per write. The journal cursor is then
// the seq before the oldest record of a path still pending: everything at or below it is in the
// branch.
//
// Everything runs on one thread in one event loop (event_loop.h); git work blocks the loop
// while it runs, and events wait in the kernel (inotify queue, journal on disk) meanwhile.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "base/fd.h"
#include "base/journal.h"
#include "base/result.h"
#include "sync/committer.h"
#include "sync/event_loop.h"
#include "sync/host_watch.h"
#include "sync/remote.h"
#include "sync/status.h"

namespace covesync {

struct SyncOptions {
  std::string team;
  std::string repo;     ///< the working tree (covefs's --source, on the host)
  std::string journal;  ///< covefs's --journal directory
  std::string state_dir;
  std::string status_file;  ///< default <state_dir>/status.json
  std::string sync_id;      ///< default <team>@<hostname>
  std::string remote;       ///< URL or path; empty: no remote
  std::string branch;       ///< remote branch; default: HEAD's branch at start
  std::string session;      ///< commit the worktree .worktrees/<session> of `repo` (session.h)
  int quiet_ms = 2000;
  int max_delay_ms = 30000;
  int fetch_interval_ms = 60000;
  bool force_epoll = false;
  bool watch_host = true;
  bool startup_scan = true;
  bool index_sync = true;
  bool once = false;  ///< catch up, commit, sync the remote, exit
};

class Daemon {
 public:
  /// Opens everything and recovers the cursor; blocks SIGTERM/SIGINT/SIGHUP for the signalfd.
  [[nodiscard]] static base::Result<std::unique_ptr<Daemon>> create(SyncOptions options);
  ~Daemon();

  /// Runs until SIGTERM/SIGINT or request_stop(); commits what is pending before returning.
  [[nodiscard]] base::Result<void> run();

  /// Thread-safe: makes run() commit what is pending and return.
  void request_stop();

  const SyncStatus& status() const { return status_; }

  /// Called on the loop thread after each batch that committed: (journal cursor after the
  /// batch, the paths it took). For benchmarks and tests.
  void on_batch(std::function<void(uint64_t, const std::vector<std::string>&)> cb) { on_batch_ = std::move(cb); }
  uint64_t cursor() const { return committed_; }

 private:
  struct Pending {
    std::string author;      // key into authors_; "h:" for host-side edits and scan results
    uint64_t first_seq = 0;  // the oldest journal record not committed yet; 0: not journaled
    uint64_t last_seq = 0;
    bool deep = false;
    Clock::time_point first{};  // first change since the last commit of this path
    Clock::time_point last{};   // latest change
  };

  explicit Daemon(SyncOptions options) : opts_(std::move(options)) {}
  [[nodiscard]] base::Result<void> init();
  void on_journal();
  [[nodiscard]] base::Result<void> read_journal();
  void add_record(const base::JournalRecord& r);
  void add_path(const base::JournalRecord& r, const std::string& path, bool deep);
  void on_host();
  void on_signal();
  Pending& touch(const std::string& path, bool deep);
  Clock::time_point due(const Pending& p) const;
  void schedule();
  void flush(bool all);
  void remote_round();
  void refresh_index();
  void fail(const std::string& what, const base::Error& e);
  void write_status();

  /// The journal path of a session's worktree ("" or ".worktrees/<name>/") and its inverse.
  bool to_work_path(const std::string& journal_path, std::string& out) const;

  SyncOptions opts_;
  std::string work_dir_;  // the checkout committed: `repo`, or the session's worktree
  std::string prefix_;    // journal paths of the checkout start with this
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<base::JournalReader> journal_;
  std::unique_ptr<HostWatch> host_;
  std::unique_ptr<RemoteSync> remote_;
  base::Fd signal_fd_;
  base::Fd stop_fd_;
  EventLoop::TimerId commit_timer_ = 0;
  EventLoop::TimerId fetch_timer_ = 0;
  EventLoop::TimerId index_timer_ = 0;

  /// Asks for a full scan: at once for journal gaps (`urgent`), otherwise (inotify overflow)
  /// no sooner than a quiet period from now and ten scan durations after the last scan, so
  /// that under a write storm scans take a bounded share of the time.
  void want_scan(bool urgent);

  uint64_t seen_ = 0;       // the last journal seq read
  uint64_t committed_ = 0;  // the last journal seq whose changes are committed
  bool scan_pending_ = false;
  Clock::time_point scan_not_before_{};
  Clock::duration last_scan_took_{};
  Clock::time_point last_scan_end_{};
  int scan_failures_ = 0;
  bool stopping_ = false;
  bool remote_due_ = false;
  std::map<std::string, Pending> pending_;
  std::map<std::string, Author> authors_;
  std::optional<Clock::time_point> armed_for_;  // the commit timer's deadline
  std::set<std::string> index_paths_;            // committed, index entries not refreshed yet
  Clock::time_point last_index_refresh_{};
  int backoff_ms_ = 0;
  SyncStatus status_;
  std::function<void(uint64_t, const std::vector<std::string>&)> on_batch_;
};

}  // namespace covesync
