// cove ws gc --idle D [--stop]: containers cove created (records, base/records.h) that run
// and whose last write journaled by covefs (base/journal.h) is older than D — or that have
// written nothing since they were created D ago. With --stop each is stopped through its
// runtime (`<backend> --root <root> kill <id> SIGTERM`, the backend and root recorded at
// create). Just before each stop the journal is read again from where the scan ended, so a
// container that wrote in between is left alone: nothing that is not idle is ever stopped.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>

#include "base/fd.h"

#include <fmt/format.h>

#include "base/time.h"
#include "policy/policy.h"
#include "tools/cli/audit_log.h"
#include "tools/cli/container_facts.h"
#include "tools/cli/process.h"
#include "tools/cli/ws.h"

namespace cli {

namespace {

struct TeamJournal {
  std::unique_ptr<base::JournalReader> reader;
  uint64_t cursor = 0;
  std::map<std::string, LastWrite> last;
  std::string error;
};

// Reads every record after the cursor into `last`.
void catch_up(TeamJournal& tj) {
  if (!tj.reader) {
    return;
  }
  for (;;) {
    auto batch = tj.reader->read_after(tj.cursor, 4096);
    if (!batch) {
      tj.error = batch.error().message();
      return;
    }
    if (batch->records.empty()) {
      return;
    }
    fold_last_writes(batch->records, tj.last);
    tj.cursor = batch->next_cursor();
  }
}

int64_t now_ns() { return static_cast<int64_t>(base::now_unix() * 1e9); }

// Waits up to `timeout_ms` for process `pid` (not our child: the container's init) to exit.
bool wait_exit(int pid, int timeout_ms) {
  base::Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (fd.get() < 0) {
    return errno == ESRCH;
  }
  pollfd p{fd.get(), POLLIN, 0};
  int n = 0;
  do {
    n = ::poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

std::string trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') {
    s.pop_back();
  }
  return s;
}

}  // namespace

void fold_last_writes(const std::vector<base::JournalRecord>& records, std::map<std::string, LastWrite>& last) {
  for (const auto& r : records) {
    if (r.container.empty() || r.op == base::JournalOp::rescan) {
      continue;
    }
    LastWrite& w = last[r.container];
    if (r.seq > w.seq) {
      w.seq = r.seq;
      w.time_ns = std::max(w.time_ns, r.time_ns);
    }
  }
}

GcCandidate gc_decide(const base::ContainerRecord& rec, const std::optional<LastWrite>& last, int64_t now,
                      int64_t bound_seconds) {
  GcCandidate c;
  c.record = rec;
  c.last_write = last;
  std::optional<int64_t> since_ns;
  if (last) {
    since_ns = last->time_ns;
  } else if (auto created = parse_rfc3339(rec.created)) {
    since_ns = static_cast<int64_t>(*created * 1e9);
  }
  if (!since_ns) {
    return c;
  }
  c.idle_seconds = std::max<int64_t>(0, (now - *since_ns) / 1000000000);
  c.idle = c.idle_seconds >= bound_seconds;
  return c;
}

int ws_gc(const WsPaths& paths, const WsGcOptions& o, const Io& io) {
  const std::string name = "cove ws gc";
  auto bound = parse_duration(o.idle);
  if (!bound) {
    io.err << name << ": --idle: " << bound.error().message() << '\n';
    return kExitUsage;
  }
  auto grace = parse_duration(o.grace);
  if (!grace) {
    io.err << name << ": --grace: " << grace.error().message() << '\n';
    return kExitUsage;
  }
  std::string state_dir = o.state_dir;
  if (state_dir.empty()) {
    std::string policy_path = o.policy.empty() ? policy::kDefaultPolicyPath : o.policy;
    auto p = policy::load_policy(policy_path);
    if (!p) {
      io.err << name << ": " << p.error().message() << " (name the records' directory with --state-dir)\n";
      return kExitUsage;
    }
    state_dir = p->state_dir;
  }
  ProcReader proc;
  std::vector<base::ContainerRecord> records = base::list_records(state_dir);
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.id < b.id; });

  std::map<std::string, TeamJournal> journals;
  struct Row {
    GcCandidate c;
    std::string root;
    int pid = 0;
    bool stopped = false;
    std::string signal;
    std::string error;
  };
  std::vector<Row> rows;
  int64_t now = now_ns();
  for (const auto& rec : records) {
    if (rec.team.empty() || !valid_team_name(rec.team)) {
      continue;  // no workspace, no journal: not a workspace container
    }
    std::string root = !o.root.empty() ? o.root : !rec.root.empty() ? rec.root : "/run/runc";
    RuntimeState state = proc.runtime_state(root, rec.id);
    if (state.state != RunState::kRunning) {
      continue;
    }
    auto [it, fresh] = journals.try_emplace(rec.team);
    TeamJournal& tj = it->second;
    if (fresh) {
      auto reader = base::JournalReader::open(paths.journal(rec.team));
      if (reader) {
        tj.reader = std::move(*reader);
        catch_up(tj);
      } else {
        tj.error = reader.error().message();
      }
    }
    auto lw = tj.last.find(rec.id);
    Row row;
    row.c = gc_decide(rec, lw == tj.last.end() ? std::nullopt : std::optional<LastWrite>(lw->second), now, *bound);
    row.root = root;
    row.pid = state.pid;
    if (!tj.error.empty()) {
      // Without the journal nothing says the container is idle.
      row.c.idle = false;
      row.error = "journal " + paths.journal(rec.team) + ": " + tj.error;
    }
    rows.push_back(std::move(row));
  }

  size_t failures = 0;
  if (o.stop) {
    for (auto& row : rows) {
      if (!row.c.idle) {
        continue;
      }
      // Read what was journaled since the scan: a write in between makes it busy again.
      TeamJournal& tj = journals[row.c.record.team];
      catch_up(tj);
      auto lw = tj.last.find(row.c.record.id);
      row.c = gc_decide(row.c.record, lw == tj.last.end() ? std::nullopt : std::optional<LastWrite>(lw->second),
                        now_ns(), *bound);
      if (!row.c.idle) {
        continue;
      }
      std::string runtime = !o.runtime.empty()           ? o.runtime
                            : !row.c.record.backend.empty() ? row.c.record.backend
                                                            : "runc";
      // As `docker stop`: SIGTERM, and SIGKILL for a container still running after the grace
      // period (an init that installs no handler, PID 1 of its namespace, ignores SIGTERM).
      for (const char* sig : {"SIGTERM", "SIGKILL"}) {
        std::vector<std::string> argv = {runtime, "--root", row.root, "kill", row.c.record.id, sig};
        auto r = run_process(argv, 30000);
        if (!r || r->exit_code != 0) {
          row.error = join(argv, " ") + " failed: " + (r ? trimmed(r->err) : r.error().message());
          break;
        }
        row.signal = sig;
        if (wait_exit(row.pid, std::string_view(sig) == "SIGTERM" ? static_cast<int>(*grace * 1000) : 30000)) {
          row.stopped = true;
          break;
        }
      }
      if (!row.stopped) {
        ++failures;
        if (row.error.empty()) {
          row.error = "still running after SIGKILL";
        }
      }
    }
  }

  size_t idle = static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.c.idle; }));
  if (o.json) {
    Json j;
    j["idle"] = o.idle;
    j["idleSeconds"] = *bound;
    j["stop"] = o.stop;
    j["stateDir"] = state_dir;
    Json list = Json::array();
    for (const auto& row : rows) {
      const auto& rec = row.c.record;
      Json e;
      e["id"] = rec.id;
      e["team"] = rec.team;
      e["role"] = rec.role;
      e["agent"] = rec.agent;
      e["pid"] = row.pid;
      e["lastWriteSeq"] = row.c.last_write ? Json(row.c.last_write->seq) : Json(nullptr);
      e["lastWriteTime"] =
          row.c.last_write ? Json(base::rfc3339(row.c.last_write->time_ns, false)) : Json(nullptr);
      e["idleSeconds"] = row.c.idle_seconds;
      e["idle"] = row.c.idle;
      e["stopped"] = row.stopped;
      e["signal"] = string_or_null(row.signal);
      e["error"] = string_or_null(row.error);
      list.push_back(std::move(e));
    }
    j["containers"] = std::move(list);
    io.out << j.dump(2) << '\n';
  } else {
    Table t({"CONTAINER", "TEAM", "ROLE", "AGENT", "LAST WRITE", "QUIET FOR", "ACTION"});
    for (const auto& row : rows) {
      const auto& rec = row.c.record;
      std::string action = row.stopped  ? "stopped (" + row.signal + ")"
                           : !row.error.empty() ? row.error
                           : row.c.idle ? (o.stop ? "idle" : "idle (--stop stops it)")
                                        : "busy";
      t.add({short_id(rec.id), rec.team, rec.role.empty() ? "-" : rec.role, rec.agent.empty() ? "-" : rec.agent,
             row.c.last_write
                 ? fmt::format("#{} {}", row.c.last_write->seq, base::rfc3339(row.c.last_write->time_ns, false))
                 : "none",
             format_duration(row.c.idle_seconds),
             Cell(action, row.stopped ? Color::kYellow : !row.error.empty() ? Color::kRed : Color::kNone)});
    }
    if (!t.empty()) {
      t.print(io);
    }
    io.out << fmt::format("{} running workspace containers, {} idle for {} or more{}\n", rows.size(), idle,
                          format_duration(*bound),
                          o.stop ? fmt::format(", {} stopped", std::count_if(rows.begin(), rows.end(),
                                                                             [](const Row& r) { return r.stopped; }))
                                 : "");
  }
  return failures == 0 ? kExitOk : kExitFindings;
}

}  // namespace cli
