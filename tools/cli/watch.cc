#include "tools/cli/watch.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <cstring>
#include <csignal>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "base/fd.h"
#include "base/time.h"
#include "tools/cli/workspace.h"

namespace cli {

namespace {

constexpr size_t kBatch = 4096;

std::string json_string(const std::string& s) {
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool valid_team(const std::string& team) {
  return !team.empty() && team != "." && team != ".." && team.find('/') == std::string::npos &&
         team.find('\0') == std::string::npos;
}

/// Blocks SIGINT and SIGTERM and returns a signalfd for them (the previous mask is restored by
/// the destructor).
class SignalGuard {
 public:
  SignalGuard() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, &old_) == 0) {
      blocked_ = true;
      fd_ = base::Fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    }
  }
  ~SignalGuard() {
    // Consume what arrived: a signal still pending when the mask is restored would be delivered
    // then, and kill the process that was stopping cleanly because of it.
    if (fd_.valid()) {
      struct signalfd_siginfo info {};
      while (::read(fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      }
    }
    if (blocked_) {
      pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
  int fd() const { return fd_.get(); }

 private:
  sigset_t old_{};
  bool blocked_ = false;
  base::Fd fd_;
};

}  // namespace

std::string default_journal_dir(const std::string& team) { return WsPaths().journal(team); }

std::string watch_record_line(const base::JournalRecord& record, const std::string& team) {
  // The journal's own line keeps its keys and string escapes; `time` goes after `seq` and
  // `team` at the end.
  std::string line = base::encode(record);
  while (!line.empty() && (line.back() == '\n' || line.back() == '}')) {
    line.pop_back();
  }
  std::string head = fmt::format("{{\"seq\":{},", record.seq);
  std::string out = head + "\"time\":\"" + base::rfc3339(record.time_ns) + "\",";
  if (line.compare(0, head.size(), head) == 0) {
    out += line.substr(head.size());
  } else {
    out += line.substr(1);  // not expected: encode() always starts with the seq
  }
  out += ",\"team\":" + json_string(team) + "}\n";
  return out;
}

std::string gap_reason(const base::JournalBatch& batch, uint64_t cursor) {
  if (cursor > batch.last_seq || (!batch.records.empty() && batch.records.front().seq <= cursor)) {
    return "recreated";
  }
  if (batch.first_retained > cursor + 1) {
    return "retention";
  }
  for (const auto& r : batch.records) {
    if (r.op == base::JournalOp::rescan) {
      return "rescan";
    }
  }
  return "missing";
}

std::string watch_gap_line(const base::JournalBatch& batch, uint64_t cursor, const std::string& team) {
  Json gap = Json::object();
  gap["after"] = cursor;
  gap["next"] = batch.records.empty() ? Json(nullptr) : Json(batch.records.front().seq);
  gap["firstRetained"] = batch.first_retained;
  gap["lastSeq"] = batch.last_seq;
  gap["reason"] = gap_reason(batch, cursor);
  return "{\"gap\":" + gap.dump() + ",\"team\":" + json_string(team) + "}\n";
}

CLI::App* add_watch(CLI::App& app, WatchOptions& o) {
  CLI::App* c = app.add_subcommand("watch", "Stream a team's change journal as JSON lines");
  c->add_option("team", o.team, "the team")->required();
  c->add_option("--since", o.since, "start after this journal seq (0: from the oldest retained record; default: now)")
      ->check(CLI::NonNegativeNumber);
  c->add_option("--journal", o.journal, "the journal directory (default /var/lib/cove/journal/TEAM)");
  c->add_flag("--follow,!--no-follow", o.follow, "keep following the journal (default) or stop at its end");
  return c;
}

int watch(const WatchOptions& o, const Io& io) {
  if (!valid_team(o.team)) {
    io.err << "cove watch: \"" << o.team << "\" is not a team name\n";
    return kExitUsage;
  }
  std::string dir = o.journal.empty() ? default_journal_dir(o.team) : o.journal;
  auto reader = base::JournalReader::open(dir);
  if (!reader) {
    io.err << "cove watch: " << reader.error().message() << '\n';
    return kExitUsage;
  }
  base::JournalReader& r = **reader;
  // A closed pipe must end the watch with 0, not kill it: EPIPE is checked on every flush.
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  struct sigaction old_pipe {};
  ::sigaction(SIGPIPE, &ign, &old_pipe);
  struct RestorePipe {
    struct sigaction old;
    ~RestorePipe() { ::sigaction(SIGPIPE, &old, nullptr); }
  } restore_pipe{old_pipe};
  std::optional<SignalGuard> signals;
  if (o.follow) {
    signals.emplace();
  }

  uint64_t cursor = 0;
  if (o.since >= 0) {
    cursor = static_cast<uint64_t>(o.since);
  } else {
    // "From now on": a cursor past any seq makes the reader report the journal's last seq.
    auto b = r.read_after(uint64_t{1} << 62, 1);
    if (!b) {
      io.err << "cove watch: " << b.error().message() << '\n';
      return kExitUsage;
    }
    cursor = b->last_seq;
  }

  for (;;) {
    if (o.follow) {
      r.drain_wake_fd();  // before reading: an append during the read wakes us again
    }
    for (;;) {
      auto batch = r.read_after(cursor, kBatch);
      if (!batch) {
        io.err << "cove watch: " << batch.error().message() << '\n';
        return kExitUsage;
      }
      if (batch->gap) {
        io.out << watch_gap_line(*batch, cursor, o.team);
      }
      for (const auto& rec : batch->records) {
        io.out << watch_record_line(rec, o.team);
      }
      io.out.flush();
      if (!io.out) {
        return kExitOk;  // the reader went away (EPIPE)
      }
      cursor = batch->next_cursor();
      if (batch->records.empty() || batch->last_seq <= cursor) {
        break;
      }
    }
    if (!o.follow) {
      return kExitOk;
    }
    struct pollfd fds[4];
    nfds_t n = 0;
    fds[n++] = {r.wake_fd(), POLLIN, 0};
    int sig_at = -1, stop_at = -1, hup_at = -1;
    if (signals && signals->fd() >= 0) {
      sig_at = static_cast<int>(n);
      fds[n++] = {signals->fd(), POLLIN, 0};
    }
    if (o.stop_fd >= 0) {
      stop_at = static_cast<int>(n);
      fds[n++] = {o.stop_fd, POLLIN, 0};
    }
    if (o.hangup_fd >= 0) {
      hup_at = static_cast<int>(n);
      fds[n++] = {o.hangup_fd, 0, 0};  // POLLERR/POLLHUP are always reported
    }
    int rc = ::poll(fds, n, -1);
    if (rc < 0) {
      if (errno == EINTR) {
        continue;
      }
      io.err << "cove watch: poll: " << std::strerror(errno) << '\n';
      return kExitUsage;
    }
    if ((sig_at >= 0 && fds[sig_at].revents != 0) || (stop_at >= 0 && fds[stop_at].revents != 0) ||
        (hup_at >= 0 && (fds[hup_at].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)) {
      return kExitOk;
    }
  }
}

}  // namespace cli
