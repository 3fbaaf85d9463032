#include "sync/index_sync.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "base/fd.h"
#include "base/file.h"
#include "sync/git.h"

extern char** environ;

namespace covesync {

namespace {

/// True when the repository's core.fsmonitor names a hook program rather than a boolean (git's
/// builtin daemon, or off).
bool fsmonitor_is_a_program(const std::string& repo) {
  git_config* cfg = nullptr;
  std::string path = repo + "/.git/config";
  if (git_config_open_ondisk(&cfg, path.c_str()) < 0) {
    return false;
  }
  git_buf value = GIT_BUF_INIT;
  bool program = false;
  if (git_config_get_string_buf(&value, cfg, "core.fsmonitor") == 0) {
    int b = 0;
    program = git_config_parse_bool(&b, value.ptr) < 0;
  }
  git_buf_dispose(&value);
  git_config_free(cfg);
  return program;
}

}  // namespace

base::Result<void> sync_index(const std::string& repo, const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return {};
  }
  std::string input;
  for (const auto& p : paths) {
    std::string_view v = p;
    while (!v.empty() && v.back() == '/') {
      v.remove_suffix(1);
    }
    if (!v.empty()) {
      input.append(v);
      input.push_back('\0');
    }
  }
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) {
    return base::Error::sys("pipe");
  }
  base::Fd rd(in[0]), wr(in[1]);
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC) != 0) {
    return base::Error::sys("pipe");
  }
  base::Fd erd(errp[0]), ewr(errp[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, rd.get(), 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, ewr.get(), 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);  // the daemon blocks SIGTERM for its signalfd
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> args = {"git", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*"};
  if (fsmonitor_is_a_program(repo)) {
    args.insert(args.end(), {"-c", "core.fsmonitor=false"});
  }
  args.insert(args.end(), {"--literal-pathspecs", "-C", repo, "reset", "-q", "--no-refresh", "--pathspec-from-file=-",
                           "--pathspec-file-nul"});
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // The caller's GIT_DIR/GIT_INDEX_FILE/... must not redirect git elsewhere.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; e++) {
    if (std::strncmp(*e, "GIT_", 4) != 0) {
      env_store.emplace_back(*e);
    }
  }
  env_store.emplace_back("GIT_TERMINAL_PROMPT=0");
  env_store.emplace_back("GIT_CONFIG_NOSYSTEM=1");
  env_store.emplace_back("GIT_CONFIG_GLOBAL=/dev/null");
  env_store.emplace_back("GIT_OPTIONAL_LOCKS=0");
  std::vector<char*> envp;
  for (auto& e : env_store) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "git", &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  rd.reset();
  ewr.reset();
  if (rc != 0) {
    return base::Error(rc == ENOENT ? EAGAIN : rc, fmt::format("spawn git: {}", std::strerror(rc)));
  }
  // Paths are small compared to the pipe buffer in the common case; a large batch is written
  // while git reads it.
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  // A write error (git exited early: EPIPE) shows in git's exit status below.
  (void)base::write_all(wr.get(), input);
  wr.reset();
  ::sigaction(SIGPIPE, &old, nullptr);
  auto err = base::read_fd(erd.get());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string msg = err ? *err : "";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
      msg.pop_back();
    }
    int code = msg.find("index.lock") != std::string::npos ? EAGAIN : EIO;
    return base::Error(code, fmt::format("git reset of {} index entries: {}", paths.size(),
                                         msg.empty() ? "failed" : msg));
  }
  return {};
}

}  // namespace covesync
