#include "sync/workdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace covesync {

namespace {

EntryKind kind_of(mode_t m) {
  if (S_ISREG(m)) {
    return EntryKind::kFile;
  }
  if (S_ISLNK(m)) {
    return EntryKind::kSymlink;
  }
  if (S_ISDIR(m)) {
    return EntryKind::kDir;
  }
  return EntryKind::kOther;
}

/// The directory that holds the last component of `rel`, opened component by component with
/// O_NOFOLLOW. `fd` is the root's when `rel` has no '/'. nullopt when a parent is missing, a
/// symlink or not a directory.
struct Parent {
  base::Fd owned;
  int fd = -1;
  std::string leaf;
};

base::Result<std::optional<Parent>> open_parent(int root, std::string_view rel) {
  Parent p;
  p.fd = root;
  size_t start = 0;
  while (true) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) {
      p.leaf = std::string(rel.substr(start));
      return std::optional<Parent>(std::move(p));
    }
    std::string comp(rel.substr(start, slash - start));
    int fd = ::openat(p.fd, comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
        return std::optional<Parent>();
      }
      return base::Error::sys("open {} in the working tree", rel.substr(0, slash));
    }
    p.owned = base::Fd(fd);
    p.fd = fd;
    start = slash + 1;
  }
}

/// EIO with libgit2's last message: "write blob of <what><rel>: <message>".
base::Error blob_error(std::string_view what, std::string_view rel) {
  const git_error* e = git_error_last();
  return base::Error::make(EIO, "write blob of {}{}: {}", what, rel, e != nullptr ? e->message : "?");
}

}  // namespace

bool committable_path(std::string_view rel) {
  if (rel.empty() || rel.front() == '/' || rel.back() == '/' || rel.find('\0') != std::string_view::npos) {
    return false;
  }
  if (rel == ".worktrees" || rel.substr(0, 11) == ".worktrees/") {
    return false;
  }
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string_view comp = rel.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (comp.empty() || comp == "." || comp == "..") {
      return false;
    }
    if (comp.size() == 4 && ::strncasecmp(comp.data(), ".git", 4) == 0) {
      return false;
    }
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  return true;
}

base::Result<Workdir> Workdir::open(const std::string& root) {
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return base::Error::sys("open working tree {}", root);
  }
  return Workdir(root, base::Fd(fd));
}

base::Result<WorkdirStat> Workdir::stat(std::string_view rel) const {
  WorkdirStat st;
  if (rel.empty()) {
    st.kind = EntryKind::kDir;
    return st;
  }
  COVE_TRY_ASSIGN(parent, open_parent(fd_.get(), rel));
  if (!parent) {
    return st;
  }
  struct stat s {};
  if (::fstatat(parent->fd, parent->leaf.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return st;
    }
    return base::Error::sys("stat {}", rel);
  }
  st.kind = kind_of(s.st_mode);
  st.executable = (s.st_mode & S_IXUSR) != 0;
  return st;
}

base::Result<std::optional<WorkdirBlob>> Workdir::write_blob(git_odb* odb, std::string_view rel) const {
  COVE_TRY_ASSIGN(parent, open_parent(fd_.get(), rel));
  if (!parent) {
    return std::optional<WorkdirBlob>();
  }
  const char* leaf = parent->leaf.c_str();
  struct stat s {};
  if (::fstatat(parent->fd, leaf, &s, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<WorkdirBlob>();
    }
    return base::Error::sys("stat {}", rel);
  }
  WorkdirBlob out;
  if (S_ISLNK(s.st_mode)) {
    // A symlink's blob is its target, as git stores it.
    std::string target(static_cast<size_t>(s.st_size > 0 ? s.st_size : 256) + 1, '\0');
    ssize_t n = ::readlinkat(parent->fd, leaf, target.data(), target.size());
    if (n < 0) {
      if (errno == ENOENT || errno == EINVAL) {
        return std::optional<WorkdirBlob>();
      }
      return base::Error::sys("readlink {}", rel);
    }
    if (static_cast<size_t>(n) == target.size()) {
      return base::Error::make(EAGAIN, "symlink {} changed while read", rel);
    }
    target.resize(static_cast<size_t>(n));
    if (git_odb_write(&out.id, odb, target.data(), target.size(), GIT_OBJECT_BLOB) < 0) {
      return blob_error("symlink ", rel);
    }
    out.mode = GIT_FILEMODE_LINK;
    return std::optional<WorkdirBlob>(out);
  }
  if (!S_ISREG(s.st_mode)) {
    return std::optional<WorkdirBlob>();
  }
  int raw = ::openat(parent->fd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (raw < 0) {
    if (errno == ENOENT || errno == ELOOP || errno == ENXIO) {
      return std::optional<WorkdirBlob>();
    }
    return base::Error::sys("open {}", rel);
  }
  base::Fd fd(raw);
  // The size goes into the object header before the bytes, so a file that grows or shrinks
  // while it is read is read again; the next journal record for it will bring it back anyway.
  for (int attempt = 0; attempt < 5; attempt++) {
    if (::fstat(fd.get(), &s) != 0) {
      return base::Error::sys("stat {}", rel);
    }
    if (!S_ISREG(s.st_mode)) {
      return std::optional<WorkdirBlob>();
    }
    git_odb_stream* stream = nullptr;
    auto size = static_cast<git_object_size_t>(s.st_size);
    if (git_odb_open_wstream(&stream, odb, size, GIT_OBJECT_BLOB) < 0) {
      return blob_error("", rel);
    }
    char buf[65536];
    uint64_t done = 0;
    bool ok = true;
    bool changed = false;
    while (true) {
      ssize_t n = ::pread(fd.get(), buf, sizeof buf, static_cast<off_t>(done));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        int e = errno;
        git_odb_stream_free(stream);
        errno = e;
        return base::Error::sys("read {}", rel);
      }
      if (n == 0) {
        break;
      }
      if (done + static_cast<uint64_t>(n) > size) {
        changed = true;
        break;
      }
      if (git_odb_stream_write(stream, buf, static_cast<size_t>(n)) < 0) {
        ok = false;
        break;
      }
      done += static_cast<uint64_t>(n);
    }
    if (done != size) {
      changed = true;
    }
    if (changed || !ok) {
      git_odb_stream_free(stream);
      if (!ok) {
        return blob_error("", rel);
      }
      continue;
    }
    int rc = git_odb_stream_finalize_write(&out.id, stream);
    git_odb_stream_free(stream);
    if (rc < 0) {
      return blob_error("", rel);
    }
    out.mode = (s.st_mode & S_IXUSR) != 0 ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
    return std::optional<WorkdirBlob>(out);
  }
  return base::Error::make(EAGAIN, "{} kept changing size while it was read", rel);
}

base::Result<std::optional<std::vector<WorkdirDirent>>> Workdir::list(std::string_view rel) const {
  using Out = std::optional<std::vector<WorkdirDirent>>;
  int dfd = -1;
  if (rel.empty()) {
    dfd = ::openat(fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } else {
    COVE_TRY_ASSIGN(parent, open_parent(fd_.get(), rel));
    if (!parent) {
      return Out();
    }
    dfd = ::openat(parent->fd, parent->leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (dfd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
      return Out();
    }
    return base::Error::sys("open directory {}", rel);
  }
  DIR* dir = ::fdopendir(dfd);
  if (dir == nullptr) {
    int e = errno;
    ::close(dfd);
    errno = e;
    return base::Error::sys("fdopendir {}", rel);
  }
  std::vector<WorkdirDirent> out;
  while (struct dirent* de = ::readdir(dir)) {
    std::string_view name = de->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    WorkdirDirent e;
    e.name = std::string(name);
    switch (de->d_type) {
      case DT_REG: e.kind = EntryKind::kFile; break;
      case DT_LNK: e.kind = EntryKind::kSymlink; break;
      case DT_DIR: e.kind = EntryKind::kDir; break;
      case DT_UNKNOWN: {
        struct stat s {};
        e.kind = ::fstatat(::dirfd(dir), de->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 ? kind_of(s.st_mode)
                                                                                  : EntryKind::kAbsent;
        break;
      }
      default: e.kind = EntryKind::kOther; break;
    }
    out.push_back(std::move(e));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return Out(std::move(out));
}

}  // namespace covesync
