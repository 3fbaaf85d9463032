// cove-sync: turns a team's covefs change journal into git commits. See sync/daemon.h.
//   cove-sync --team T --repo DIR [...]            the daemon
//   cove-sync session add|remove|list --repo DIR   worktrees for write sessions (sync/session.h)
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>

#include "sync/daemon.h"
#include "sync/log.h"
#include "sync/session.h"

namespace {

int session_main(int argc, char** argv) {
  CLI::App app{"cove-sync session: a git worktree per concurrent write session"};
  std::string repo, name;
  bool force = false;
  app.require_subcommand(1, 1);
  auto* add = app.add_subcommand("add", "create .worktrees/NAME on branch cove/session/NAME");
  auto* remove = app.add_subcommand("remove", "delete .worktrees/NAME (its branch stays)");
  auto* list = app.add_subcommand("list", "list the sessions");
  for (auto* sub : {add, remove, list}) {
    sub->add_option("--repo", repo, "the team's checkout")->required();
  }
  add->add_option("name", name, "session name")->required();
  remove->add_option("name", name, "session name")->required();
  remove->add_flag("--force", force, "remove even with uncommitted changes");
  CLI11_PARSE(app, argc, argv);
  if (add->parsed()) {
    auto s = covesync::add_session(repo, name);
    if (!s) {
      covesync::log_error("cove-sync session add: {}", s.error().message());
      return 1;
    }
    std::printf("%s\t%s\n", s->path.c_str(), s->branch.c_str());
    return 0;
  }
  if (remove->parsed()) {
    auto r = covesync::remove_session(repo, name, force);
    if (!r) {
      covesync::log_error("cove-sync session remove: {}", r.error().message());
      return 1;
    }
    return 0;
  }
  auto l = covesync::list_sessions(repo);
  if (!l) {
    covesync::log_error("cove-sync session list: {}", l.error().message());
    return 1;
  }
  for (const auto& s : *l) {
    std::printf("%s\t%s\t%s\n", s.name.c_str(), s.path.c_str(), s.branch.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "session") == 0) {
    return session_main(argc - 1, argv + 1);
  }
  CLI::App app{"cove-sync: the change journal of a team's workspace, committed to git"};
  covesync::SyncOptions o;
  bool no_io_uring = false;
  bool no_host_watch = false;
  bool no_startup_scan = false;
  bool no_index_sync = false;
  bool quiet = false;
  app.add_option("--team", o.team, "team name")->required();
  app.add_option("--repo", o.repo, "the working tree (covefs --source), a git checkout")->required();
  app.add_option("--journal", o.journal, "covefs's journal directory (default /var/lib/cove/journal/<team>)");
  app.add_option("--state-dir", o.state_dir, "cursor and status (default /var/lib/cove/sync/<team>)");
  app.add_option("--status", o.status_file, "status JSON file (default <state-dir>/status.json)");
  app.add_option("--sync-id", o.sync_id, "identity in commit trailers (default <team>@<hostname>)");
  app.add_option("--remote", o.remote, "git remote URL or path to fetch from and push to");
  app.add_option("--branch", o.branch, "branch to sync with the remote (default: HEAD's)");
  app.add_option("--session", o.session, "commit the session worktree .worktrees/NAME on its branch");
  app.add_option("--quiet-ms", o.quiet_ms, "commit after this long without changes")->check(CLI::Range(0, 3600000));
  app.add_option("--max-delay-ms", o.max_delay_ms, "commit at the latest this long after the first pending change")
      ->check(CLI::Range(0, 86400000));
  app.add_option("--fetch-interval-ms", o.fetch_interval_ms, "fetch from the remote this often")
      ->check(CLI::Range(100, 86400000));
  app.add_flag("--no-io-uring", no_io_uring, "use epoll instead of io_uring");
  app.add_flag("--no-host-watch", no_host_watch, "do not watch the working tree for host-side edits");
  app.add_flag("--no-startup-scan", no_startup_scan, "skip the full scan at start (host edits made while stopped are missed)");
  app.add_flag("--no-index-sync", no_index_sync, "do not refresh the index entries of committed paths");
  app.add_flag("--once", o.once, "catch up with the journal, commit, sync the remote, and exit");
  app.add_flag("-q,--quiet", quiet, "log warnings and errors only");
  CLI11_PARSE(app, argc, argv);

  if (o.journal.empty()) {
    o.journal = "/var/lib/cove/journal/" + o.team;
  }
  if (o.state_dir.empty()) {
    o.state_dir = "/var/lib/cove/sync/" + o.team + (o.session.empty() ? "" : "/session-" + o.session);
  }
  o.force_epoll = no_io_uring;
  o.watch_host = !no_host_watch;
  o.startup_scan = !no_startup_scan;
  o.index_sync = !no_index_sync;
  covesync::set_quiet(quiet);

  auto d = covesync::Daemon::create(o);
  if (!d) {
    covesync::log_error("cove-sync: {}", d.error().message());
    return 1;
  }
  auto r = (*d)->run();
  if (!r) {
    covesync::log_error("cove-sync: {}", r.error().message());
    return 1;
  }
  return 0;
}
