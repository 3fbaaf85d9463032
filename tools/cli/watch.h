#pragma once
// cove watch: a team's change journal (base/journal.h) as a stream of JSON lines, one object per
// record, for orchestrators and dashboards. It follows the journal through the reader's inotify
// wake fd (no polling) and stops cleanly on SIGINT, SIGTERM and when its reader goes away (EPIPE,
// or the pipe's read end closed while nothing is written).
//
// A record line is the journal line itself with two keys added, `time` (RFC 3339, UTC, ns) after
// `seq` and `team` at the end; every other key keeps the journal's name, order and string
// convention (invalid UTF-8 path bytes as \udcXX, see base/journal.h):
//
//   {"seq":12,"time":"2024-11-24T06:33:20.123456789Z","t":1732430000123456789,"op":"rename",
//    "path":"src/a.ts","path2":"src/b.ts","container":"3f2a..","agent":"a1","role":"agent",
//    "team":"alpha"}
//
// When the journal cannot tell what happened after the cursor (records deleted by retention, an
// undecodable or missing record, a rescan record, a recreated journal), a gap line comes first:
//
//   {"gap":{"after":40,"next":1201,"firstRetained":1201,"lastSeq":1300,"reason":"retention"},
//    "team":"alpha"}
//
// and the consumer must rescan the workspace. docs/cli.md has the schema.

#include <cstdint>
#include <string>
#include <unistd.h>

#include "base/journal.h"
#include "tools/cli/output.h"

namespace CLI {
class App;
}

namespace cli {

/// The default journal of a team, as docker/covefs@.service passes it to covefs (WsPaths's
/// default journal root).
std::string default_journal_dir(const std::string& team);

/// The JSON line (with '\n') `cove watch` prints for a record.
std::string watch_record_line(const base::JournalRecord& record, const std::string& team);

/// Why a batch after `cursor` has a gap: "retention", "recreated", "rescan" or "missing".
std::string gap_reason(const base::JournalBatch& batch, uint64_t cursor);

/// The gap line (with '\n') for a batch read after `cursor`.
std::string watch_gap_line(const base::JournalBatch& batch, uint64_t cursor, const std::string& team);

struct WatchOptions {
  std::string team;
  int64_t since = -1;  ///< records after this seq; -1: only records appended from now on
  std::string journal;  ///< default: default_journal_dir(team)
  bool follow = true;
  /// Polled for POLLERR/POLLHUP while waiting, so a closed pipe ends the watch even when no
  /// record comes; -1 for none (tests).
  int hangup_fd = STDOUT_FILENO;
  /// Readable -> stop (tests; SIGINT/SIGTERM do the same through a signalfd).
  int stop_fd = -1;
};

CLI::App* add_watch(CLI::App& app, WatchOptions& o);

/// 0 on a clean stop (signal, closed output, end of journal with --no-follow), 2 when the
/// journal cannot be opened or read or the team name is not a name.
int watch(const WatchOptions& o, const Io& io);

}  // namespace cli
