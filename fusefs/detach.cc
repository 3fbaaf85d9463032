#include "fusefs/detach.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fusefs {

int detach_and_wait() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "covefs: pipe: %s\n", std::strerror(errno));
    std::exit(1);
  }
  pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "covefs: fork: %s\n", std::strerror(errno));
    std::exit(1);
  }
  if (child == 0) {
    ::close(p[0]);
    ::setsid();
    return p[1];
  }
  ::close(p[1]);
  char ok = 0;
  ssize_t n;
  do {
    n = ::read(p[0], &ok, 1);
  } while (n < 0 && errno == EINTR);
  if (n == 1 && ok == 'R') {
    std::exit(0);
  }
  // The child ended before the mount was up; reap it so its status is not lost to init.
  int status = 0;
  ::waitpid(child, &status, 0);
  std::exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1);
}

void signal_ready(int ready_fd) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
  char ok = 'R';
  ssize_t n;
  do {
    n = ::write(ready_fd, &ok, 1);
  } while (n < 0 && errno == EINTR);
  ::close(ready_fd);
}

}  // namespace fusefs
