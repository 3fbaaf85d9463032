// cove ws create TEAM: the team's checkout at <workspaces-root>/<team>, cloned from --repo or a
// new repository whose first commit is empty (cove-sync needs a branch with a commit to commit
// on). The files are given to the workspace owner (1000:1000 by default), the user containers
// see through covefs. An existing non-empty directory is never touched.
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

#include "base/file.h"
#include "tools/cli/process.h"
#include "tools/cli/ws.h"

namespace cli {

namespace {

constexpr int kGitTimeoutMs = 600000;

// Empty directory: no entry but . and ..
base::Result<bool> dir_is_empty(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    return base::Error::sys("open {}", path);
  }
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

}  // namespace

int ws_create(const WsPaths& paths, const WsCreateOptions& o, const Io& io) {
  const std::string name = "cove ws create";
  if (!valid_team_name(o.team)) {
    io.err << name << ": invalid team name \"" << o.team
           << "\" (letters, digits, '.', '_', '-'; at most 64; not starting with '.' or '-')\n";
    return kExitUsage;
  }
  auto owner = parse_owner(o.owner);
  if (!owner) {
    io.err << name << ": " << owner.error().message() << '\n';
    return kExitUsage;
  }
  std::string path = paths.workspace(o.team);
  struct stat st {};
  bool existed = ::lstat(path.c_str(), &st) == 0;
  if (existed) {
    if (!S_ISDIR(st.st_mode)) {
      io.err << name << ": " << path << " exists and is not a directory; refusing to touch it\n";
      return kExitUsage;
    }
    auto empty = dir_is_empty(path);
    if (!empty) {
      io.err << name << ": " << empty.error().message() << '\n';
      return kExitUsage;
    }
    if (!*empty) {
      io.err << name << ": " << path << " exists and is not empty; refusing to touch it (cove ws status " << o.team
             << " shows what it is; remove it first to create the workspace again)\n";
      return kExitUsage;
    }
  } else if (auto r = base::make_dirs(paths.workspaces_root, 0755); !r) {
    io.err << name << ": " << r.error().message() << '\n';
    return kExitFindings;
  }

  std::vector<std::vector<std::string>> steps;
  std::string branch = o.branch;
  if (!o.repo.empty()) {
    std::vector<std::string> clone = {"clone", "-q"};
    // A local source belongs to another user more often than not (another team's checkout,
    // owned by the workspace owner), and git clears -c settings for local transports: the
    // upload-pack it starts needs the ownership check off itself. Remote servers run their own.
    bool local = o.repo.rfind("file://", 0) == 0 || o.repo.rfind('/', 0) == 0;
    if (local) {
      clone.insert(clone.end(), {"--upload-pack", "git -c safe.directory=* upload-pack"});
    }
    if (!branch.empty()) {
      clone.insert(clone.end(), {"--branch", branch});
    }
    clone.insert(clone.end(), {"--", o.repo, path});
    steps.push_back(git_argv(clone));
  } else {
    if (branch.empty()) {
      branch = "main";
    }
    steps.push_back(git_argv({"init", "-q", "--initial-branch=" + branch, path}));
    steps.push_back(git_argv({"-C", path, "-c", "user.name=cove", "-c", "user.email=cove@localhost", "commit", "-q",
                         "--allow-empty", "-m", "cove: workspace " + o.team + " created"}));
  }
  for (const auto& argv : steps) {
    auto r = run_process(argv, kGitTimeoutMs);
    if (!r || r->exit_code != 0) {
      std::string why = !r ? r.error().message()
                        : r->timed_out ? "timed out"
                                       : fmt::format("exit {}: {}", r->exit_code, r->err.substr(0, r->err.find('\n')));
      io.err << name << ": " << join(argv, " ") << " failed: " << why << '\n';
      // Leave nothing half made: the directory as it was (absent, or empty).
      std::error_code ec;
      if (!existed) {
        std::filesystem::remove_all(path, ec);
      } else {
        for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
          std::filesystem::remove_all(e.path(), ec);
        }
      }
      return kExitFindings;
    }
  }
  std::string cur_branch = git_line(path, {"rev-parse", "--abbrev-ref", "HEAD"});
  if (cur_branch.empty()) {
    cur_branch = branch;
  }
  std::string head_oid = git_line(path, {"rev-parse", "-q", "--verify", "HEAD"});
  if (*owner) {
    if (auto r = chown_tree(path, (*owner)->first, (*owner)->second); !r) {
      io.err << name << ": " << r.error().message() << '\n';
      return kExitFindings;
    }
  }
  if (o.json) {
    Json j;
    j["team"] = o.team;
    j["path"] = path;
    j["repo"] = string_or_null(o.repo);
    j["branch"] = cur_branch;
    j["head"] = head_oid;
    j["owner"] = *owner ? Json(fmt::format("{}:{}", (*owner)->first, (*owner)->second)) : Json(nullptr);
    io.out << j.dump(2) << '\n';
  } else {
    io.out << fmt::format("created workspace {} at {}: {} on branch {}, HEAD {}{}\n", o.team, path,
                          o.repo.empty() ? "new repository" : "clone of " + o.repo, cur_branch,
                          head_oid.substr(0, 12),
                          *owner ? fmt::format(", owned by {}:{}", (*owner)->first, (*owner)->second) : "");
    io.out << "next: cove ws mount " << o.team << paths.non_default_flags() << '\n';
  }
  return kExitOk;
}

}  // namespace cli
