#include "tools/cli/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>

#include "base/fd.h"
#include "base/file.h"

extern char** environ;

namespace cli {

namespace {

std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> v;
  v.reserve(args.size() + 1);
  for (auto& a : args) {
    v.push_back(a.data());
  }
  v.push_back(nullptr);
  return v;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<std::string> find_executable(const std::string& name) {
  if (name.empty()) {
    return std::nullopt;
  }
  if (name.find('/') != std::string::npos) {
    return is_executable_file(name) ? std::optional<std::string>(name) : std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr && *env != '\0' ? env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t i = 0;
  while (i <= path.size()) {
    size_t colon = path.find(':', i);
    if (colon == std::string::npos) {
      colon = path.size();
    }
    std::string dir = path.substr(i, colon - i);
    i = colon + 1;
    if (dir.empty()) {
      dir = ".";
    }
    std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

std::string self_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) {
    return "";
  }
  std::string exe(buf, static_cast<size_t>(n));
  size_t slash = exe.rfind('/');
  return slash == std::string::npos ? "" : exe.substr(0, slash);
}

bool process_alive(pid_t pid, const std::string& comm) {
  if (pid <= 0) {
    return false;
  }
  auto stat = base::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return false;
  }
  // pid (comm) state ...; comm may contain spaces and parentheses, so take the last ')'.
  size_t open = stat->find('(');
  size_t close = stat->rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= stat->size()) {
    return false;
  }
  char state = (*stat)[close + 2];
  if (state == 'Z' || state == 'X') {
    return false;
  }
  return comm.empty() || stat->substr(open + 1, close - open - 1) == comm.substr(0, 15);
}

std::string canonical_parent_path(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  size_t slash = p.rfind('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  char buf[PATH_MAX];
  if (::realpath(parent.c_str(), buf) == nullptr) {
    return p;
  }
  std::string real(buf);
  return real == "/" ? "/" + name : real + "/" + name;
}

base::Result<ProcessResult> run_process(const std::vector<std::string>& argv, int timeout_ms, const std::string& cwd) {
  if (argv.empty()) {
    return base::Error::make(EINVAL, "run_process: no command");
  }
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return base::Error::sys("pipe");
  }
  base::Fd out_r(out_pipe[0]);
  base::Fd out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return base::Error::sys("pipe");
  }
  base::Fd err_r(err_pipe[0]);
  base::Fd err_w(err_pipe[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  if (!cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  }
  std::vector<std::string> args = argv;
  std::vector<char*> cargv = c_argv(args);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    errno = rc;
    return base::Error::sys("run {}", argv[0]);
  }
  out_w = base::Fd();
  err_w = base::Fd();

  ProcessResult result;
  int64_t deadline = now_ms() + timeout_ms;
  bool out_open = true;
  bool err_open = true;
  char buf[8192];
  while (out_open || err_open) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0}, {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno != EINTR) {
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || fds[k].revents == 0) {
        continue;
      }
      ssize_t got = ::read(fds[k].fd, buf, sizeof buf);
      if (got <= 0) {
        (k == 0 ? out_open : err_open) = false;
      } else {
        (k == 0 ? result.out : result.err).append(buf, static_cast<size_t>(got));
      }
    }
  }
  if (result.timed_out) {
    ::kill(pid, SIGKILL);
  }
  // The pipes are at EOF (or the child was killed): it has exited or is about to; a child that
  // closed its output and kept running is bounded by the same deadline.
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, result.timed_out ? 0 : WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) {
      break;
    }
    if (w == 0) {
      if (now_ms() >= deadline) {
        ::kill(pid, SIGKILL);
        result.timed_out = true;
        continue;
      }
      ::usleep(2000);
    }
  }
  result.exit_code = !result.timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

base::Result<pid_t> spawn_detached(const std::vector<std::string>& argv, const std::string& log_path) {
  if (argv.empty()) {
    return base::Error::make(EINVAL, "spawn: no command");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv = c_argv(args);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    errno = rc;
    return base::Error::sys("start {}", argv[0]);
  }
  return pid;
}

}  // namespace cli
