#pragma once
// Real temporary git repositories for the cove-sync tests, checked with the git CLI: an
// implementation independent of the libgit2 code under test.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/temp_dir.h"

namespace synctest {

namespace fs = std::filesystem;

class TempDir : public cove_test::TempDir {
 public:
  TempDir() : cove_test::TempDir("cove-sync-test") {}
};

inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

/// Runs `cmd` with sh; returns stdout. Fails the test on a non-zero exit unless `may_fail`.
inline std::string sh(const std::string& cmd, bool may_fail = false) {
  std::string full = "export GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t "
                     "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t; " + cmd + " 2>/tmp/cove-sync-test-stderr";
  FILE* p = ::popen(full.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    out.append(buf, n);
  }
  int status = ::pclose(p);
  if (!may_fail) {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "command failed: " << cmd;
  }
  return out;
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

inline void write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

inline std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// A non-bare repository with `main` checked out.
inline void init_repo(const std::string& dir) {
  sh("git init -q -b main " + quote(dir));
}

inline void commit_all(const std::string& dir, const std::string& msg = "seed") {
  sh("cd " + quote(dir) + " && git add -A && git commit -q --allow-empty -m " + quote(msg));
}

/// <tmp>/repo, a new repository (init_repo).
inline std::string new_repo(const TempDir& tmp) {
  std::string dir = tmp / "repo";
  init_repo(dir);
  return dir;
}

/// <tmp>/repo with one commit that holds `rel` with `content`.
inline std::string seeded_repo(const TempDir& tmp, const std::string& rel, const std::string& content) {
  std::string dir = new_repo(tmp);
  write(dir + "/" + rel, content);
  commit_all(dir);
  return dir;
}

/// The tree git would record for the working tree of `dir` right now (through a throwaway
/// index, so the repository's own index does not matter).
inline std::string workdir_tree(const std::string& dir) {
  std::string idx = dir + "/.git/cove-test-index";
  std::string env = "GIT_INDEX_FILE=" + quote(idx) + " ";
  sh("cd " + quote(dir) + " && rm -f " + quote(idx) + " && { git rev-parse -q --verify HEAD >/dev/null && " + env +
     "git read-tree HEAD || true; } && " + env + "git add -A");
  std::string tree = trim(sh("cd " + quote(dir) + " && " + env + "git write-tree"));
  sh("rm -f " + quote(idx));
  return tree;
}

inline std::string head_tree(const std::string& dir) {
  return trim(sh("cd " + quote(dir) + " && git rev-parse 'HEAD^{tree}'"));
}

inline std::string git(const std::string& dir, const std::string& args, bool may_fail = false) {
  return sh("cd " + quote(dir) + " && git " + args, may_fail);
}

/// The files of HEAD's tree, one per line ("a.txt\nd/b.txt\n").
inline std::string head_files(const std::string& dir) { return git(dir, "ls-tree -r --name-only HEAD"); }

/// Polls `cond` every 10 ms for up to `seconds`; the bounded wait every asynchronous test uses.
inline bool wait_for(const std::function<bool()>& cond, double seconds = 10) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace synctest
