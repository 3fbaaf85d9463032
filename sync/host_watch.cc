#include "sync/host_watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "sync/log.h"
#include "sync/workdir.h"

namespace covesync {

namespace {

// No IN_MODIFY: one event per write(2) overflows the queue under load (covefs's own writes land
// here too), and an editor's or a script's change ends with IN_CLOSE_WRITE anyway. A file
// written through a mapping or held open is seen when it is closed, or by the next full scan.
constexpr uint32_t kMask = IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                           IN_DELETE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR;

std::string join(const std::string& dir, std::string_view name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  if (!dir.empty()) {
    out.append(dir).push_back('/');
  }
  return out.append(name);
}

bool is_git_name(const char* name) { return ::strcasecmp(name, ".git") == 0; }

}  // namespace

base::Result<std::unique_ptr<HostWatch>> HostWatch::open(const std::string& root, SkipDir skip) {
  int rfd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) {
    return base::Error::sys("open {}", root);
  }
  base::Fd root_fd(rfd);
  int ifd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) {
    return base::Error::sys("inotify_init1");
  }
  auto w = std::unique_ptr<HostWatch>(new HostWatch(std::move(root_fd), base::Fd(ifd), std::move(skip)));
  w->watch_tree(w->root_.get(), "");
  return w;
}

void HostWatch::watch_tree(int dir_fd, const std::string& rel) {
  std::string proc = "/proc/self/fd/" + std::to_string(dir_fd);
  int wd = ::inotify_add_watch(fd_.get(), proc.c_str(), kMask);
  if (wd < 0) {
    if (errno == ENOSPC && !incomplete_) {
      incomplete_ = true;
      log_error("inotify watch limit reached at {} ({} watches; raise fs.inotify.max_user_watches): host-side "
                "edits below unwatched directories are only found by a full scan",
                rel.empty() ? "." : rel, dirs_.size());
    } else if (errno != ENOSPC && errno != ENOENT) {
      log_warn("inotify_add_watch {}: {}", rel.empty() ? "." : rel, std::strerror(errno));
    }
    return;
  }
  dirs_[wd] = rel;
  int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) {
    return;
  }
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    ::close(dup);
    return;
  }
  // A nested repository is not ours to watch (git records it at most as a gitlink).
  std::vector<std::string> subdirs;
  bool nested_repo = false;
  while (struct dirent* de = ::readdir(dir)) {
    if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) {
      continue;
    }
    if (is_git_name(de->d_name)) {
      nested_repo = !rel.empty();
      continue;
    }
    bool is_dir = de->d_type == DT_DIR;
    if (de->d_type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::fstatat(::dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      subdirs.emplace_back(de->d_name);
    }
  }
  if (nested_repo) {
    ::closedir(dir);
    ::inotify_rm_watch(fd_.get(), wd);
    dirs_.erase(wd);
    return;
  }
  for (const auto& name : subdirs) {
    std::string child = join(rel, name);
    if (!committable_path(child) || (skip_ && skip_(child))) {
      continue;
    }
    int cfd = ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd < 0) {
      continue;  // gone, or replaced by a symlink
    }
    watch_tree(cfd, child);
    ::close(cfd);
  }
  ::closedir(dir);
}

void HostWatch::watch_path(const std::string& rel) {
  // Open component by component without following symlinks.
  int fd = ::openat(root_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t start = 0;
  while (fd >= 0 && start < rel.size()) {
    size_t slash = rel.find('/', start);
    std::string comp = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    int next = ::openat(fd, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(fd);
    fd = next;
    start = slash == std::string::npos ? rel.size() : slash + 1;
  }
  if (fd < 0) {
    return;
  }
  watch_tree(fd, rel);
  ::close(fd);
}

void HostWatch::unwatch_prefix(const std::string& rel) {
  for (auto it = dirs_.begin(); it != dirs_.end();) {
    if (it->second == rel || (it->second.size() > rel.size() && it->second.compare(0, rel.size(), rel) == 0 &&
                              it->second[rel.size()] == '/')) {
      ::inotify_rm_watch(fd_.get(), it->first);
      it = dirs_.erase(it);
    } else {
      ++it;
    }
  }
}

// Reading a file updates its access time (with relatime, the first read after each write),
// and inotify reports that as IN_ATTRIB, like a chmod. Git records no access times, but taking
// it for an edit postponed the file's commit by a quiet period each time something read it
// (a preview server, cove-sync itself reading the blob). An access-time update leaves the
// change time alone, so a file whose access time is newer than its change time had nothing
// else changed since. The price: a host-side chmod followed by a read of the same file before
// this event is drained looks the same and is committed with the file's next change (edits
// through covefs are journaled and never depend on this).
bool HostWatch::access_time_only(const std::string& rel) const {
  struct stat st {};
  if (::fstatat(root_.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return false;
  }
  if (st.st_atim.tv_sec != st.st_ctim.tv_sec) {
    return st.st_atim.tv_sec > st.st_ctim.tv_sec;
  }
  return st.st_atim.tv_nsec > st.st_ctim.tv_nsec;
}

HostEvents HostWatch::drain() {
  HostEvents out;
  alignas(inotify_event) char buf[65536];
  while (true) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) {
      break;  // EAGAIN: drained
    }
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if ((ev->mask & IN_Q_OVERFLOW) != 0) {
        out.overflow = true;
        continue;
      }
      auto it = dirs_.find(ev->wd);
      if (it == dirs_.end()) {
        continue;
      }
      if ((ev->mask & IN_IGNORED) != 0) {
        dirs_.erase(it);
        continue;
      }
      if (ev->len == 0) {
        continue;  // IN_DELETE_SELF and events on the directory itself: its parent reports it
      }
      std::string path = join(it->second, ev->name);
      if (!committable_path(path)) {
        continue;
      }
      bool is_dir = (ev->mask & IN_ISDIR) != 0;
      if (!is_dir && (ev->mask & ~IN_ISDIR) == IN_ATTRIB && access_time_only(path)) {
        continue;
      }
      if (is_dir && (ev->mask & IN_MOVED_FROM) != 0) {
        unwatch_prefix(path);
      }
      bool appeared = is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO)) != 0;
      if (appeared && !(skip_ && skip_(path))) {
        watch_path(path);
      }
      out.changes.push_back(HostChange{path, appeared || (is_dir && (ev->mask & IN_MOVED_FROM) != 0)});
    }
  }
  return out;
}

}  // namespace covesync
