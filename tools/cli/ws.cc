#include "tools/cli/ws.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "policy/policy.h"
#include "tools/cli/process.h"

namespace cli {

namespace {

uid_t g_uid = 0;
gid_t g_gid = 0;
int g_chown_errno = 0;

int chown_one(const char* path, const struct stat* /*st*/, int /*flag*/, FTW* /*ftw*/) {
  if (::lchown(path, g_uid, g_gid) != 0) {
    g_chown_errno = errno;
    return 1;
  }
  return 0;
}

}  // namespace

bool is_workspace(const WsPaths& paths, const std::string& team) {
  struct stat st {};
  return valid_team_name(team) && ::stat(paths.workspace(team).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> git_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git", "-c", "safe.directory=*", "-c", "core.hooksPath=/dev/null"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string git_line(const std::string& repo, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"-C", repo};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_process(git_argv(argv), 10000);
  if (!r || r->exit_code != 0) {
    return "";
  }
  return r->out.substr(0, r->out.find('\n'));
}

base::Result<std::optional<std::pair<uid_t, gid_t>>> parse_owner(const std::string& text) {
  if (text == "none") {
    return std::optional<std::pair<uid_t, gid_t>>();
  }
  unsigned uid = 0;
  unsigned gid = 0;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%u:%u%c", &uid, &gid, &extra) != 2) {
    return base::Error::make(EINVAL, "--owner: expected UID:GID or none, got \"{}\"", text);
  }
  return std::optional<std::pair<uid_t, gid_t>>(std::make_pair(uid_t{uid}, gid_t{gid}));
}

base::Result<void> chown_tree(const std::string& path, uid_t uid, gid_t gid) {
  // nftw has no user pointer; the CLI is single-threaded.
  g_uid = uid;
  g_gid = gid;
  g_chown_errno = 0;
  if (::nftw(path.c_str(), chown_one, 64, FTW_PHYS | FTW_MOUNT) != 0) {
    errno = g_chown_errno != 0 ? g_chown_errno : errno;
    return base::Error::sys("chown -R {}:{} {}", uid, gid, path);
  }
  return {};
}

base::Result<int64_t> parse_duration(const std::string& text) {
  if (text.empty()) {
    return base::Error::make(EINVAL, "empty duration");
  }
  size_t used = 0;
  int64_t total = 0;
  bool any = false;
  while (used < text.size()) {
    size_t start = used;
    int64_t n = 0;
    while (used < text.size() && text[used] >= '0' && text[used] <= '9') {
      if (n > (int64_t{1} << 40)) {
        return base::Error::make(ERANGE, "duration \"{}\" is too long", text);
      }
      n = n * 10 + (text[used] - '0');
      ++used;
    }
    if (used == start) {
      return base::Error::make(EINVAL, "\"{}\" is not a duration (e.g. 90s, 15m, 2h, 7d, 1h30m)", text);
    }
    int64_t unit = 1;
    if (used < text.size()) {
      switch (text[used]) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return base::Error::make(EINVAL, "\"{}\" is not a duration (e.g. 90s, 15m, 2h, 7d, 1h30m)", text);
      }
      ++used;
    } else if (any) {
      return base::Error::make(EINVAL, "\"{}\": a number without a unit after another part", text);
    }
    total += n * unit;
    any = true;
  }
  return total;
}

std::string format_duration(int64_t seconds) {
  if (seconds < 0) {
    seconds = 0;
  }
  int64_t d = seconds / 86400;
  int64_t h = seconds % 86400 / 3600;
  int64_t m = seconds % 3600 / 60;
  int64_t s = seconds % 60;
  if (d > 0) {
    return h > 0 ? fmt::format("{}d{}h", d, h) : fmt::format("{}d", d);
  }
  if (h > 0) {
    return m > 0 ? fmt::format("{}h{}m", h, m) : fmt::format("{}h", h);
  }
  if (m > 0) {
    return s > 0 ? fmt::format("{}m{}s", m, s) : fmt::format("{}m", m);
  }
  return fmt::format("{}s", s);
}

CLI::App* add_ws(CLI::App& app, WsOptions& o) {
  CLI::App* ws = app.add_subcommand("ws", "Team workspaces: create, mount, status, sessions, idle containers");
  ws->require_subcommand(1);

  CLI::App* c = ws->add_subcommand("create", "Create a team's workspace: a git clone, or a new repository");
  c->add_option("team", o.create.team, "the team")->required();
  c->add_option("--repo", o.create.repo, "clone this repository (default: a new one with an empty first commit)");
  c->add_option("--branch", o.create.branch, "branch to check out (new repository: its name, default main)");
  c->add_option("--owner", o.create.owner, "UID:GID to give the files to, or none")->default_str("1000:1000");
  c->add_flag("--json", o.create.json, "print the result as JSON");
  add_path_options(c, o.paths);
  o.create_cmd = c;

  CLI::App* m = ws->add_subcommand("mount", "Start covefs for a team and wait until it is mounted");
  m->add_option("team", o.mount.team, "the team")->required();
  m->add_option("--covefs", o.mount.covefs, "the covefs binary (default: next to cove, else in PATH)");
  m->add_option("--policy", o.mount.policy, "the policy covefs reads its role views from")
      ->default_str(policy::kDefaultPolicyPath);
  m->add_option("--state-dir", o.mount.state_dir, "cove-runtime's container records (default: the policy's)");
  m->add_option("--owner", o.mount.owner, "owner containers see, UID:GID or none (default: covefs's, 1000:1000)");
  m->add_option("--journal-group", o.mount.journal_group,
                "group (name or GID) that may read the team's journal (covefs --journal-group)");
  m->add_option("--log", o.mount.log, "covefs's log (default: <journal-root>/<team>.covefs.log)");
  m->add_option("--timeout-ms", o.mount.timeout_ms, "how long to wait for the mount")->default_str("10000");
  m->add_flag("--json", o.mount.json, "print the result as JSON");
  add_path_options(m, o.paths);
  o.mount_cmd = m;

  CLI::App* s = ws->add_subcommand("status", "Each team's checkout, mount, journal, cove-sync and sessions");
  s->add_option("team", o.status.team, "only this team");
  s->add_option("--timeout-ms", o.status.timeout_ms, "deadline of the mount probe")->default_str("2000");
  s->add_flag("--json", o.status.json, "print the status as JSON");
  add_path_options(s, o.paths);
  o.status_cmd = s;

  CLI::App* sess = ws->add_subcommand("session", "Sessions: a worktree per write session");
  sess->require_subcommand(1);
  CLI::App* sa = sess->add_subcommand("add", "Add a session (--write: its own worktree and branch)");
  sa->add_option("team", o.session_add.team, "the team")->required();
  sa->add_option("session", o.session_add.session, "the session name")->required();
  sa->add_flag("--write", o.session_add.write, "a write session: worktree .worktrees/<session> on cove/session/<session>");
  sa->add_option("--owner", o.session_add.owner, "UID:GID to give the worktree to, or none")->default_str("1000:1000");
  sa->add_flag("--json", o.session_add.json, "print the result as JSON");
  add_path_options(sa, o.paths);
  o.session_add_cmd = sa;
  CLI::App* sr = sess->add_subcommand("remove", "Remove a write session's worktree (its branch stays)");
  sr->add_option("team", o.session_remove.team, "the team")->required();
  sr->add_option("session", o.session_remove.session, "the session name")->required();
  sr->add_flag("--write", o.session_remove.write, "fail when the session has no worktree");
  sr->add_flag("--force", o.session_remove.force, "remove even with changes its branch does not have");
  sr->add_flag("--json", o.session_remove.json, "print the result as JSON");
  add_path_options(sr, o.paths);
  o.session_remove_cmd = sr;

  CLI::App* g = ws->add_subcommand("gc", "List (and --stop) containers whose last journaled write is older than --idle");
  g->add_option("--idle", o.gc.idle, "idle bound: 90s, 15m, 2h, 7d")->required();
  g->add_flag("--stop", o.gc.stop, "stop the idle containers: <runtime> kill <id> SIGTERM, SIGKILL after --grace");
  g->add_option("--policy", o.gc.policy, "the policy naming the state dir")->default_str(policy::kDefaultPolicyPath);
  g->add_option("--state-dir", o.gc.state_dir, "cove-runtime's container records (default: the policy's stateDir)");
  g->add_option("--root", o.gc.root, "the runtime's root (default: the one recorded for each container)");
  g->add_option("--runtime", o.gc.runtime, "the runtime to kill with (default: the backend recorded)");
  g->add_option("--grace", o.gc.grace, "with --stop: SIGKILL a container still running this long after SIGTERM")
      ->default_str("10s");
  g->add_flag("--json", o.gc.json, "print the result as JSON");
  add_path_options(g, o.paths);
  o.gc_cmd = g;
  return ws;
}

int ws(const WsOptions& o, const Io& io) {
  if (o.create_cmd->parsed()) {
    return ws_create(o.paths, o.create, io);
  }
  if (o.mount_cmd->parsed()) {
    return ws_mount(o.paths, o.mount, io);
  }
  if (o.status_cmd->parsed()) {
    return ws_status(o.paths, o.status, io);
  }
  if (o.session_add_cmd->parsed()) {
    return ws_session_add(o.paths, o.session_add, io);
  }
  if (o.session_remove_cmd->parsed()) {
    return ws_session_remove(o.paths, o.session_remove, io);
  }
  if (o.gc_cmd->parsed()) {
    return ws_gc(o.paths, o.gc, io);
  }
  io.err << "cove ws: no subcommand\n";
  return kExitUsage;
}

}  // namespace cli
