#include "sync/daemon.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include "base/file.h"
#include "base/time.h"
#include "sync/cursor.h"
#include "sync/index_sync.h"
#include "sync/log.h"
#include "sync/session.h"

namespace covesync {

namespace {

constexpr size_t kReadBatch = 4096;
constexpr size_t kMaxPending = 200000;  // commit at once beyond this many pending paths
constexpr int kMaxBackoffMs = 30000;

}  // namespace

base::Result<std::unique_ptr<Daemon>> Daemon::create(SyncOptions options) {
  auto d = std::unique_ptr<Daemon>(new Daemon(std::move(options)));
  COVE_TRY(d->init());
  return d;
}

Daemon::~Daemon() = default;

base::Result<void> Daemon::init() {
  if (opts_.status_file.empty()) {
    opts_.status_file = opts_.state_dir + "/status.json";
  }
  COVE_TRY(base::make_dirs(opts_.state_dir, 0700));
  work_dir_ = opts_.repo;
  if (!opts_.session.empty()) {
    if (!valid_session_name(opts_.session)) {
      return base::Error::make(EINVAL, "invalid session name {:?}", opts_.session);
    }
    work_dir_ = session_dir(opts_.repo, opts_.session);
    prefix_ = ".worktrees/" + opts_.session + "/";
  }
  CommitterOptions co;
  co.repo = work_dir_;
  co.team = opts_.team;
  co.sync_id = opts_.sync_id;
  COVE_TRY_ASSIGN(committer, Committer::open(co));
  committer_ = std::move(committer);
  opts_.sync_id = committer_->options().sync_id;
  if (!opts_.session.empty() && opts_.sync_id.find("/session/") == std::string::npos) {
    // A session's branch starts at the main branch: its trailers must not be taken for ours.
    opts_.sync_id += "/session/" + opts_.session;
    co.sync_id = opts_.sync_id;
    COVE_TRY_ASSIGN(again, Committer::open(co));
    committer_ = std::move(again);
  }

  if (!opts_.remote.empty()) {
    if (opts_.branch.empty()) {
      COVE_TRY_ASSIGN(head, committer_->head_branch());
      opts_.branch = head.rfind("refs/heads/", 0) == 0 ? head.substr(11) : head;
    }
    remote_ = std::make_unique<RemoteSync>(*committer_, RemoteOptions{opts_.remote, opts_.branch});
  }

  // covefs creates the journal directory (0700) when it starts; creating it first is harmless
  // and lets cove-sync start before covefs.
  COVE_TRY(base::make_dirs(opts_.journal, 0700));
  COVE_TRY_ASSIGN(journal, base::JournalReader::open(opts_.journal));
  journal_ = std::move(journal);

  // The cursor: the larger of the cursor file and the trailer on the branch (cursor.h).
  COVE_TRY_ASSIGN(file_cursor, load_cursor(opts_.state_dir));
  COVE_TRY_ASSIGN(trailer, committer_->committed_seq());
  uint64_t from_file = file_cursor ? file_cursor->seq : 0;
  uint64_t from_trailer = trailer ? *trailer : 0;
  committed_ = seen_ = std::max(from_file, from_trailer);
  log_info("cove-sync {}: repo {}, journal {}, cursor {} (file {}, trailer {})", opts_.team, work_dir_,
           opts_.journal, committed_, from_file, from_trailer);

  COVE_TRY_ASSIGN(loop, make_event_loop(opts_.force_epoll));
  loop_ = std::move(loop);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (int rc = ::pthread_sigmask(SIG_BLOCK, &mask, nullptr); rc != 0) {
    return base::Error(rc, "pthread_sigmask");
  }
  int sfd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    return base::Error::sys("signalfd");
  }
  signal_fd_ = base::Fd(sfd);
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    return base::Error::sys("eventfd");
  }
  stop_fd_ = base::Fd(efd);

  if (opts_.watch_host) {
    COVE_TRY_ASSIGN(host, HostWatch::open(work_dir_,
                                          [this](const std::string& rel) { return committer_->ignored(rel, true); }));
    host_ = std::move(host);
    COVE_TRY(loop_->add_reader(host_->fd(), [this] { on_host(); }));
  }
  COVE_TRY(loop_->add_reader(journal_->wake_fd(), [this] { on_journal(); }));
  COVE_TRY(loop_->add_reader(signal_fd_.get(), [this] { on_signal(); }));
  COVE_TRY(loop_->add_reader(stop_fd_.get(), [this] {
    uint64_t v = 0;
    [[maybe_unused]] ssize_t n = ::read(stop_fd_.get(), &v, sizeof v);
    stopping_ = true;
    flush(true);
  }));
  commit_timer_ = loop_->add_timer([this] { flush(false); });
  fetch_timer_ = loop_->add_timer([this] { remote_round(); });
  index_timer_ = loop_->add_timer([this] { refresh_index(); });

  status_.team = opts_.team;
  status_.repo = work_dir_;
  status_.loop = loop_->name();
  status_.last_seq_seen = seen_;
  status_.last_seq_committed = committed_;
  status_.remote_url = opts_.remote;
  status_.remote_branch = opts_.branch;
  status_.host_watches = host_ ? host_->watches() : 0;
  status_.host_watch_incomplete = host_ && host_->incomplete();
  scan_pending_ = opts_.startup_scan;
  log_info("event loop {}, {} directories watched for host-side edits", loop_->name(), status_.host_watches);
  return {};
}

void Daemon::request_stop() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
}

base::Result<void> Daemon::run() {
  // Catch up with what happened while we were not running, at once.
  if (auto r = read_journal(); !r) {
    fail("read journal", r.error());
  }
  flush(true);
  if (opts_.once) {
    stopping_ = true;
    if (remote_) {
      remote_round();
    }
    write_status();
    if (!status_.last_error.empty()) {
      return base::Error::make(EIO, "{}", status_.last_error);
    }
    return {};
  }
  if (remote_) {
    loop_->arm(fetch_timer_, Clock::now() + std::chrono::milliseconds(opts_.fetch_interval_ms));
  }
  write_status();
  return loop_->run();
}

void Daemon::on_signal() {
  signalfd_siginfo si{};
  bool stop = false;
  while (::read(signal_fd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
      stop = true;
    } else if (si.ssi_signo == SIGHUP) {
      log_info("SIGHUP: committing what is pending");
      flush(true);
    }
  }
  if (stop) {
    log_info("stopping: committing what is pending");
    stopping_ = true;
    flush(true);
  }
}

void Daemon::on_journal() {
  journal_->drain_wake_fd();
  if (auto r = read_journal(); !r) {
    fail("read journal", r.error());
    return;
  }
  schedule();
}

base::Result<void> Daemon::read_journal() {
  while (true) {
    COVE_TRY_ASSIGN(batch, journal_->read_after(seen_, kReadBatch));
    status_.journal_last_seq = batch.last_seq;
    if (batch.gap) {
      log_warn("journal gap after seq {} (oldest retained {}, last {}): one full scan", seen_, batch.first_retained,
               batch.last_seq);
      want_scan(true);
    }
    for (const auto& r : batch.records) {
      add_record(r);
    }
    uint64_t next = batch.next_cursor();
    if (batch.records.empty()) {
      if (batch.gap) {
        seen_ = next;  // the journal restarted below the cursor: follow it
      }
      break;
    }
    seen_ = next;
  }
  status_.last_seq_seen = seen_;
  return {};
}

void Daemon::add_record(const base::JournalRecord& r) {
  using Op = base::JournalOp;
  switch (r.op) {
    case Op::chown:
    case Op::setxattr:
    case Op::removexattr:
    case Op::utimens:
      return;  // git records neither owners, xattrs nor times
    case Op::rescan:
      if (r.path.empty()) {
        log_info("journal seq {} asks for a rescan: one full scan", r.seq);
        want_scan(true);
      } else if (std::string rel; to_work_path(r.path, rel)) {
        touch(rel, true);
      }
      return;
    case Op::rename:
      add_path(r, r.path, true);
      add_path(r, r.path2, true);
      return;
    case Op::link:
      add_path(r, r.path2, false);
      return;
    case Op::mkdir:
    case Op::rmdir:
      add_path(r, r.path, true);
      return;
    case Op::create:
    case Op::write:
    case Op::truncate:
    case Op::mknod:
    case Op::unlink:
    case Op::symlink:
    case Op::chmod:
      add_path(r, r.path, false);
      return;
  }
}

Daemon::Pending& Daemon::touch(const std::string& path, bool deep) {
  auto now = Clock::now();
  auto [it, fresh] = pending_.try_emplace(path);
  Pending& p = it->second;
  if (fresh) {
    p.author = "h:";
    p.first = now;
  }
  p.last = now;
  p.deep = p.deep || deep;
  return p;
}

bool Daemon::to_work_path(const std::string& journal_path, std::string& out) const {
  if (prefix_.empty()) {
    out = journal_path;
  } else if (journal_path.size() > prefix_.size() && journal_path.compare(0, prefix_.size(), prefix_) == 0) {
    out = journal_path.substr(prefix_.size());
  } else {
    return false;
  }
  return committable_path(out);
}

void Daemon::add_path(const base::JournalRecord& r, const std::string& journal_path, bool deep) {
  std::string path;
  if (!to_work_path(journal_path, path)) {
    return;
  }
  std::string key = !r.agent.empty() ? "a:" + r.agent : !r.container.empty() ? "c:" + r.container : "h:";
  if (auto [it, fresh] = authors_.try_emplace(key); fresh) {
    it->second = author_for(r.agent, r.container, opts_.team);
  }
  // The journal's attribution wins over a host-side event for the same path (covefs's own
  // writes show up in the inotify watch too).
  Pending& p = touch(path, deep);
  p.author = key;
  if (p.first_seq == 0) {
    p.first_seq = r.seq;
  }
  p.last_seq = r.seq;
}

void Daemon::on_host() {
  HostEvents ev = host_->drain();
  if (ev.overflow) {
    if (!scan_pending_) {
      log_warn("inotify queue overflowed: one full scan");
    }
    want_scan(false);
  }
  for (auto& c : ev.changes) {
    touch(c.path, c.deep);
  }
  status_.host_watches = host_->watches();
  status_.host_watch_incomplete = host_->incomplete();
  schedule();
}

void Daemon::want_scan(bool urgent) {
  auto now = Clock::now();
  auto when = urgent ? now
                     : std::max(now + std::chrono::milliseconds(opts_.quiet_ms), last_scan_end_ + 10 * last_scan_took_);
  scan_not_before_ = scan_pending_ ? std::min(scan_not_before_, when) : when;
  scan_pending_ = true;
}

Clock::time_point Daemon::due(const Pending& p) const {
  return std::min(p.last + std::chrono::milliseconds(opts_.quiet_ms),
                  p.first + std::chrono::milliseconds(opts_.max_delay_ms));
}

void Daemon::schedule() {
  // An armed timer is at or before the earliest due time it was armed for, and events only push
  // due times later: a changed path's due time never moves earlier, and a new path is due at
  // now + quiet-ms, no earlier than any armed deadline (with max-delay >= quiet). So while the
  // timer is armed an event costs nothing here; when it fires early, flush() finds less or
  // nothing due and schedule() re-arms for the true earliest.
  if (loop_->armed(commit_timer_) && armed_for_ && (!scan_pending_ || *armed_for_ <= scan_not_before_) &&
      pending_.size() <= kMaxPending && opts_.max_delay_ms >= opts_.quiet_ms) {
    return;
  }
  auto now = Clock::now();
  std::optional<Clock::time_point> when;
  if (pending_.size() > kMaxPending) {
    when = now;
  } else {
    for (const auto& [path, p] : pending_) {
      auto d = due(p);
      if (!when || d < *when) {
        when = d;
      }
    }
    if (scan_pending_ && (!when || scan_not_before_ < *when)) {
      when = std::max(now, scan_not_before_);
    }
  }
  if (!when) {
    loop_->disarm(commit_timer_);
    armed_for_.reset();
    return;
  }
  if (backoff_ms_ > 0) {
    when = std::max(*when, now + std::chrono::milliseconds(backoff_ms_));
  }
  armed_for_ = *when;
  loop_->arm(commit_timer_, *when);
}

void Daemon::fail(const std::string& what, const base::Error& e) {
  status_.last_error = what + ": " + e.message();
  status_.last_error_time = base::now_rfc3339();
  log_error("{}", status_.last_error);
}

void Daemon::flush(bool all) {
  armed_for_.reset();
  // The scan first, then the journal: a file the scan finds whose record is appended meanwhile
  // is then attributed to its agent rather than to the host. A gap found by this read is
  // scanned for at once (second round).
  bool scanned = false;
  for (int round = 0; round < 2; round++) {
    if (scan_pending_ && (all || Clock::now() >= scan_not_before_)) {
      auto start = Clock::now();
      auto paths = committer_->scan();
      last_scan_end_ = Clock::now();
      last_scan_took_ = last_scan_end_ - start;
      if (!paths) {
        // libgit2 fails a scan when a file changes while it hashes it; try again a little
        // later, and after three failures walk the whole tree instead (the same result, with
        // every file read, and files that change meanwhile retried one by one).
        fail("full scan", paths.error());
        if (++scan_failures_ >= 3) {
          log_warn("full scan failed {} times: reconciling the whole working tree instead", scan_failures_);
          touch("", true);
          scan_failures_ = 0;
          scan_pending_ = false;
          scanned = true;
        } else {
          scan_not_before_ = Clock::now() + std::chrono::milliseconds(200 << scan_failures_);
        }
      } else {
        for (auto& p : *paths) {
          touch(p, false);
        }
        status_.full_scans++;
        scan_pending_ = false;
        scan_failures_ = 0;
        scanned = true;
        log_info("full scan: {} path(s) differ from the branch ({} ms)", paths->size(),
                 std::chrono::duration_cast<std::chrono::milliseconds>(last_scan_took_).count());
      }
    }
    // Everything journaled up to now is known before deciding what is due.
    if (auto r = read_journal(); !r) {
      fail("read journal", r.error());
    }
    if (!scan_pending_ || Clock::now() < scan_not_before_) {
      break;
    }
  }
  // After a scan everything pending goes in at once: a scan is the catch-up after a gap.
  all = all || scanned || stopping_;

  auto now = Clock::now();
  auto window = std::chrono::milliseconds(std::min(100, opts_.quiet_ms / 4));
  // One pass: the paths due now, and the cursor after this batch, just below the oldest journal
  // record of a path still pending. The iterators stay valid until the paths are erased below.
  std::vector<std::map<std::string, Pending>::iterator> due_paths;
  uint64_t batch_seq = seen_;
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    const Pending& p = it->second;
    if (all || due(p) <= now + window) {
      due_paths.push_back(it);
    } else if (p.first_seq != 0) {
      batch_seq = std::min(batch_seq, p.first_seq - 1);
    }
  }

  // One group per author, in the order of each author's earliest change; host edits last.
  std::map<std::string, std::pair<uint64_t, std::vector<PathChange>>> by_author;
  std::vector<PathChange> host_paths;
  for (auto it : due_paths) {
    const std::string& path = it->first;
    const Pending& p = it->second;
    if (p.first_seq == 0) {
      host_paths.push_back(PathChange{path, p.deep});
      continue;
    }
    auto& g = by_author[p.author];
    if (g.second.empty() || p.first_seq < g.first) {
      g.first = p.first_seq;
    }
    g.second.push_back(PathChange{path, p.deep});
  }
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [key, g] : by_author) {
    order.emplace_back(g.first, key);
  }
  std::sort(order.begin(), order.end());
  std::vector<ChangeGroup> groups;
  for (const auto& [seq, key] : order) {
    groups.push_back(ChangeGroup{authors_[key], std::move(by_author[key].second)});
  }
  if (!host_paths.empty()) {
    groups.push_back(ChangeGroup{author_for("", "", opts_.team), std::move(host_paths)});
  }

  std::vector<std::string> changed;
  if (!groups.empty()) {
    auto started = Clock::now();
    // Every due path is still in pending_ (erased after the commit).
    auto out = committer_->commit(groups, batch_seq,
                                  [&](const std::string& path) { return pending_.count(path) != 0; });
    if (!out) {
      fail("commit", out.error());
      backoff_ms_ = std::min(kMaxBackoffMs, backoff_ms_ == 0 ? 500 : backoff_ms_ * 2);
      write_status();
      if (stopping_) {
        loop_->stop();
      } else {
        schedule();
      }
      return;
    }
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    for (const auto& c : out->commits) {
      log_info("commit {} by {}: {} path(s) ({} ms for the batch of {} path(s))", oid_hex(c.id).substr(0, 12),
               c.author, c.edits.size(), took, due_paths.size());
      for (const auto& e : c.edits) {
        changed.push_back(e.path);
      }
      status_.commits++;
      status_.last_commit = oid_hex(c.id);
    }
    status_.head = oid_hex(out->head);
    if (!out->commits.empty()) {
      remote_due_ = remote_ != nullptr;
    }
    if (on_batch_) {
      std::vector<std::string> paths;
      paths.reserve(due_paths.size());
      for (auto it : due_paths) {
        paths.push_back(it->first);
      }
      on_batch_(batch_seq, paths);
    }
  }
  backoff_ms_ = 0;
  for (auto it : due_paths) {
    pending_.erase(it);
  }
  if (pending_.empty()) {
    authors_.clear();
  }
  if (batch_seq != committed_ || !changed.empty()) {
    committed_ = std::max(committed_, batch_seq);
    if (auto r = save_cursor(opts_.state_dir, Cursor{committed_, status_.head}, opts_.sync_id); !r) {
      fail("save cursor", r.error());
    }
  }
  status_.last_seq_committed = committed_;
  if (opts_.index_sync) {
    index_paths_.insert(changed.begin(), changed.end());
    auto next = last_index_refresh_ + std::chrono::seconds(1);
    // Stopping (or a catch-up batch) refreshes at once, also what earlier batches left for the
    // index timer: the loop will not run it any more.
    if (!index_paths_.empty() && (all || Clock::now() >= next)) {
      refresh_index();
    } else if (!index_paths_.empty() && !loop_->armed(index_timer_)) {
      loop_->arm(index_timer_, next);
    }
  }
  if (remote_due_ && (!opts_.once || stopping_)) {
    remote_round();
  }
  write_status();
  if (stopping_ && !opts_.once) {
    loop_->stop();
    return;
  }
  schedule();
}

void Daemon::refresh_index() {
  if (index_paths_.empty()) {
    return;
  }
  std::vector<std::string> paths(index_paths_.begin(), index_paths_.end());
  last_index_refresh_ = Clock::now();
  if (auto r = sync_index(work_dir_, paths); !r) {
    // A locked index (someone runs git) is retried with the next batch or in a second.
    log_warn("index refresh of {} path(s): {}", paths.size(), r.error().message());
    if (!stopping_) {
      loop_->arm(index_timer_, Clock::now() + std::chrono::seconds(1));
    }
    return;
  }
  index_paths_.clear();
}

void Daemon::remote_round() {
  if (!remote_) {
    return;
  }
  auto out = remote_->sync(committed_);
  status_.last_fetch = base::now_rfc3339();
  if (!out) {
    fail("remote", out.error());
    if (blocked_by_uncommitted_work(out.error())) {
      remote_due_ = true;  // the pending change is committed first, then the round again
      schedule();
    }
  } else {
    remote_due_ = false;
    if (out->pushed) {
      status_.last_push = status_.last_fetch;
    }
    if (out->action != RemoteAction::kUpToDate) {
      log_info("remote {} {}: {}", opts_.remote, opts_.branch, action_name(out->action));
      status_.head = oid_hex(out->head);
    }
    if (out->action == RemoteAction::kMerged) {
      status_.merges++;
    }
    if (out->conflict) {
      status_.conflicts.push_back(*out->conflict);
    }
    if (opts_.index_sync && !out->changed_paths.empty()) {
      index_paths_.insert(out->changed_paths.begin(), out->changed_paths.end());
      refresh_index();
    }
  }
  if (!stopping_) {
    loop_->arm(fetch_timer_, Clock::now() + std::chrono::milliseconds(opts_.fetch_interval_ms));
  }
  write_status();
}

void Daemon::write_status() {
  // Written after every batch: copy only the paths the file shows, not all that are pending.
  status_.pending_count = pending_.size();
  status_.pending_paths.clear();
  for (const auto& [path, p] : pending_) {
    if (status_.pending_paths.size() == kStatusPendingPaths) {
      break;
    }
    status_.pending_paths.push_back(path);
  }
  if (auto r = covesync::write_status(opts_.status_file, status_); !r) {
    log_warn("write status {}: {}", opts_.status_file, r.error().message());
  }
}

}  // namespace covesync
