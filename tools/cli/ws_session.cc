// cove ws session add|remove TEAM SESSION: write sessions get a worktree of their own
// (.worktrees/<session> on branch cove/session/<session>, made by the sync library, the same
// code as `cove-sync session`); read-only sessions share the main checkout, so adding one only
// names the path its containers use.
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

#include "sync/session.h"
#include "tools/cli/ws.h"

namespace cli {

namespace {

bool check_team(const WsPaths& paths, const std::string& team, const std::string& name, const Io& io) {
  if (!is_workspace(paths, team)) {
    io.err << name << ": no workspace " << paths.workspace(team) << '\n';
    return false;
  }
  return true;
}

}  // namespace

int ws_session_add(const WsPaths& paths, const WsSessionOptions& o, const Io& io) {
  const std::string name = "cove ws session add";
  if (!check_team(paths, o.team, name, io)) {
    return kExitUsage;
  }
  if (!covesync::valid_session_name(o.session)) {
    io.err << name << ": invalid session name \"" << o.session
           << "\" (letters, digits, '.', '_', '-'; at most 64; not starting with '.' or '-'; no \"..\")\n";
    return kExitUsage;
  }
  auto owner = parse_owner(o.owner);
  if (!owner) {
    io.err << name << ": " << owner.error().message() << '\n';
    return kExitUsage;
  }
  std::string repo = paths.workspace(o.team);
  Json j;
  j["team"] = o.team;
  j["session"] = o.session;
  if (!o.write) {
    j["mode"] = "read";
    j["path"] = repo;
    j["containerPath"] = "/workspace";
    j["branch"] = nullptr;
    if (o.json) {
      io.out << j.dump(2) << '\n';
    } else {
      io.out << fmt::format("read-only session {} of {}: shares the main checkout {} (/workspace in its containers)\n",
                            o.session, o.team, repo);
    }
    return kExitOk;
  }
  auto info = covesync::add_session(repo, o.session);
  if (!info) {
    io.err << name << ": " << info.error().message() << '\n';
    return info.error().code() == EEXIST || info.error().code() == EINVAL ? kExitUsage : kExitFindings;
  }
  if (*owner) {
    // The worktree, its administrative files and a .gitignore the library may have created
    // belong to the workspace owner like the rest of the checkout.
    for (const auto& p : {info->path, repo + "/.git/worktrees/" + o.session, repo + "/.gitignore"}) {
      struct stat st {};
      if (::lstat(p.c_str(), &st) != 0) {
        continue;
      }
      if (auto r = chown_tree(p, (*owner)->first, (*owner)->second); !r) {
        io.err << name << ": " << r.error().message() << '\n';
        return kExitFindings;
      }
    }
  }
  j["mode"] = "write";
  j["path"] = info->path;
  j["containerPath"] = "/workspace/.worktrees/" + o.session;
  j["branch"] = info->branch;
  if (o.json) {
    io.out << j.dump(2) << '\n';
  } else {
    io.out << fmt::format("write session {} of {}: worktree {} on branch {} (/workspace/.worktrees/{} in containers)\n",
                          o.session, o.team, info->path, info->branch, o.session);
    io.out << fmt::format("commit it with: cove-sync --team {} --repo {} --journal {} --session {}\n", o.team, repo,
                          paths.journal(o.team), o.session);
  }
  return kExitOk;
}

int ws_session_remove(const WsPaths& paths, const WsSessionOptions& o, const Io& io) {
  const std::string name = "cove ws session remove";
  if (!check_team(paths, o.team, name, io)) {
    return kExitUsage;
  }
  if (!covesync::valid_session_name(o.session)) {
    io.err << name << ": invalid session name \"" << o.session << "\"\n";
    return kExitUsage;
  }
  std::string repo = paths.workspace(o.team);
  auto sessions = covesync::list_sessions(repo);
  if (!sessions) {
    io.err << name << ": " << sessions.error().message() << '\n';
    return kExitFindings;
  }
  bool found = false;
  for (const auto& s : *sessions) {
    found = found || s.name == o.session;
  }
  Json j;
  j["team"] = o.team;
  j["session"] = o.session;
  if (!found) {
    if (o.write) {
      io.err << name << ": team " << o.team << " has no write session " << o.session << '\n';
      return kExitUsage;
    }
    j["removed"] = false;
    if (o.json) {
      io.out << j.dump(2) << '\n';
    } else {
      io.out << "session " << o.session << " has no worktree (a read-only session): nothing to remove\n";
    }
    return kExitOk;
  }
  if (auto r = covesync::remove_session(repo, o.session, o.force); !r) {
    io.err << name << ": " << r.error().message()
           << (r.error().code() == EBUSY ? " (merge its branch first, or --force)" : "") << '\n';
    return kExitFindings;
  }
  j["removed"] = true;
  j["branch"] = covesync::session_branch(o.session);
  if (o.json) {
    io.out << j.dump(2) << '\n';
  } else {
    io.out << fmt::format("removed the worktree of session {}; branch {} stays\n", o.session,
                          covesync::session_branch(o.session));
  }
  return kExitOk;
}

}  // namespace cli
