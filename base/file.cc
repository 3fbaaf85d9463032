#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "base/fd.h"

namespace base {

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::sys("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

namespace {

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<std::string> read_fd(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::sys("read");
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::sys("open {}", path);
  }
  struct stat st {};
  std::string out;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::read(fd.get(), out.data() + off, out.size() - off);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Error::sys("read {}", path);
      }
      if (n == 0) {
        out.resize(off);
        return out;
      }
      off += static_cast<size_t>(n);
    }
    // The file may have grown since fstat: read the rest.
  }
  auto rest = read_fd(fd.get());
  if (!rest) {
    return rest.error().wrap("{}", path);
  }
  out += *rest;
  return out;
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, bool durable,
                               unsigned mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    mode = st.st_mode & 07777;
  }
  // Unique per process and call; O_EXCL catches the impossible collision.
  static unsigned counter = 0;
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  std::string tmp = path + ".cove-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" +
                    std::to_string(ts.tv_nsec) + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) {
    return Error::sys("create {}", tmp);
  }
  auto fail = [&](Error e) -> Result<void> {
    ::unlink(tmp.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode) != 0) {
    return fail(Error::sys("chmod {}", tmp));
  }
  if (auto r = write_all(fd.get(), data); !r) {
    return fail(r.error().wrap("{}", tmp));
  }
  if (durable && ::fsync(fd.get()) != 0) {
    return fail(Error::sys("fsync {}", tmp));
  }
  if (::close(fd.release()) != 0) {
    return fail(Error::sys("close {}", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(Error::sys("rename {} to {}", tmp, path));
  }
  if (durable) {
    Fd dir(::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid()) {
      ::fsync(dir.get());
    }
  }
  return {};
}

Result<void> append_line(const std::string& path, std::string_view line) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd.valid()) {
    return Error::sys("open {}", path);
  }
  std::string buf(line);
  buf.push_back('\n');
  ssize_t n = ::write(fd.get(), buf.data(), buf.size());
  if (n < 0) {
    return Error::sys("append to {}", path);
  }
  if (static_cast<size_t>(n) != buf.size()) {
    return Error::make(ENOSPC, "append to {}: short write ({} of {} bytes)", path, n, buf.size());
  }
  return {};
}

Result<void> make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) {
    return {};
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return {};
    }
    return Error::make(ENOTDIR, "mkdir {}: exists and is not a directory", path);
  }
  std::string parent = dir_of(path);
  if (parent != path) {
    if (auto r = make_dirs(parent, mode); !r) {
      return r;
    }
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return Error::sys("mkdir {}", path);
  }
  return {};
}

}  // namespace base
