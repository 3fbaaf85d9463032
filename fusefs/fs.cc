#include "fusefs/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/file.h"

namespace fusefs {

namespace {

using base::Error;
using base::Result;

std::string proc_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<struct stat> stat_fd(int fd) {
  struct stat st {};
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return Error::sys("fstatat");
  }
  return st;
}

bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
}

}  // namespace

Result<std::unique_ptr<Filesystem>> Filesystem::create(FsOptions opts, const policy::Policy* policy,
                                                       std::string state_dir, ChangeSink sink) {
  int fd = ::open(opts.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error::sys("open source {}", opts.source);
  }
  base::Fd root(fd);
  return std::unique_ptr<Filesystem>(
      new Filesystem(std::move(opts), std::move(root), policy, std::move(state_dir), std::move(sink)));
}

Filesystem::Filesystem(FsOptions opts, base::Fd root, const policy::Policy* policy, std::string state_dir,
                       ChangeSink sink)
    : opts_(std::move(opts)),
      inodes_(std::move(root), opts_.fd_cache),
      ids_(std::move(state_dir)),
      views_(policy, opts_.team, opts_.default_rw),
      sink_(std::move(sink)) {
  // The workspace's host owner: what files created through covefs are given when mapped.
  if (auto fd = inodes_.fd(InodeTable::kRootId); fd) {
    struct stat st {};
    if (::fstat((*fd)->get(), &st) == 0) {
      source_uid_ = st.st_uid;
      source_gid_ = st.st_gid;
    }
  }
  if (opts_.quota_bytes || opts_.quota_inodes) {
    scan_usage();
  }
}

void Filesystem::scan_usage() {
  // Once, at mount: the usage already in the source. Changes made on the host outside covefs
  // afterwards are not charged (covefs only sees what goes through it).
  int64_t bytes = 0;
  int64_t inodes = 0;
  std::vector<int> stack;
  auto root = inodes_.open(InodeTable::kRootId, O_RDONLY | O_DIRECTORY);
  if (!root) {
    return;
  }
  stack.push_back(root->release());
  while (!stack.empty()) {
    int dfd = stack.back();
    stack.pop_back();
    DIR* d = ::fdopendir(dfd);
    if (d == nullptr) {
      ::close(dfd);
      continue;
    }
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
        continue;
      }
      struct stat st {};
      if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;
      }
      ++inodes;
      bytes += static_cast<int64_t>(st.st_blocks) * 512;
      if (S_ISDIR(st.st_mode)) {
        int sub = ::openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          stack.push_back(sub);
        }
      }
    }
    ::closedir(d);
  }
  used_bytes_ = bytes;
  used_inodes_ = inodes;
}

Result<void> Filesystem::reserve_inode() {
  if (opts_.quota_inodes && used_inodes_.fetch_add(1) + 1 > *opts_.quota_inodes) {
    used_inodes_--;
    counters_.refused_quota++;
    return Error::make(EDQUOT, "inode quota of team {} ({}) reached", opts_.team, *opts_.quota_inodes);
  }
  if (!opts_.quota_inodes) {
    used_inodes_++;
  }
  return {};
}

bool Filesystem::stat_for_quota(int parent_fd, const std::string& name, struct stat& st) const {
  return quotas() && ::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void Filesystem::uncharge(const struct stat& st) {
  used_inodes_--;
  used_bytes_ -= static_cast<int64_t>(st.st_blocks) * 512;
}

Result<void> Filesystem::check_write(Handle& h, off_t off, size_t size) {
  if (!opts_.quota_bytes) {
    return {};
  }
  struct stat st {};
  if (::fstat(h.fd.get(), &st) != 0) {
    return {};
  }
  h.blocks = st.st_blocks;
  int64_t end = static_cast<int64_t>(off) + static_cast<int64_t>(size);
  int64_t growth = end > st.st_size ? end - st.st_size : 0;
  if (growth > 0 && used_bytes_.load() + growth > *opts_.quota_bytes) {
    counters_.refused_quota++;
    return Error::make(EDQUOT, "byte quota of team {} reached", opts_.team);
  }
  return {};
}

void Filesystem::account_write(Handle& h) {
  if (!opts_.quota_bytes || h.blocks < 0) {
    return;
  }
  struct stat st {};
  if (::fstat(h.fd.get(), &st) == 0) {
    used_bytes_ += (static_cast<int64_t>(st.st_blocks) - h.blocks) * 512;
    h.blocks = st.st_blocks;
  }
}

void Filesystem::record(Change c, const std::string& path, const std::string& path2, const Caller& who) {
  if (sink_) {
    sink_(c, path, path2, who);
  }
}

Result<void> Filesystem::need_write(const Caller& caller, const std::string& path) {
  switch (views_.access(caller, path)) {
    case Access::kReadWrite:
      return {};
    case Access::kReadOnly:
      counters_.refused_erofs++;
      return Error::make(EROFS, "{} is read-only for role {}", path, caller.role);
    case Access::kNone:
      counters_.refused_eacces++;
      return Error::make(views_.hidden(caller, path) ? ENOENT : EACCES, "{} is not in role {}'s view", path,
                         caller.role);
  }
  return Error::make(EACCES, "{}", path);
}

Result<void> Filesystem::need_read(const Caller& caller, const std::string& path) {
  if (views_.hidden(caller, path)) {
    counters_.refused_hidden++;
    return Error::make(ENOENT, "{} is hidden", path);
  }
  if (views_.access(caller, path) == Access::kNone) {
    counters_.refused_eacces++;
    return Error::make(EACCES, "{} is not in role {}'s view", path, caller.role);
  }
  return {};
}

void Filesystem::map_attr(struct stat& st) const {
  if (opts_.mapped_owner) {
    st.st_uid = opts_.mapped_owner->first;
    st.st_gid = opts_.mapped_owner->second;
  }
}

bool Filesystem::uncacheable(uint64_t parent, const std::string& name) {
  return views_.hidden_for_anyone(inodes_.child_path(parent, name));
}

Result<Entry> Filesystem::entry_for(uint64_t parent, const std::string& name) {
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  int fd = ::openat(pfd->get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return Error::sys("lookup {}", name);
  }
  base::Fd owned(fd);
  COVE_TRY_ASSIGN(st, stat_fd(owned.get()));
  COVE_TRY_ASSIGN(id, inodes_.add(parent, name, std::move(owned), st));
  Entry e;
  e.ino = id;
  e.attr = st;
  map_attr(e.attr);
  bool nocache = uncacheable(parent, name);
  e.entry_timeout = nocache ? 0 : opts_.entry_timeout;
  e.attr_timeout = nocache ? 0 : opts_.attr_timeout;
  return e;
}

Result<Entry> Filesystem::finish_new(const Requester& r, uint64_t parent, int parent_fd, const std::string& name) {
  COVE_TRY_ASSIGN(e, entry_for(parent, name));
  COVE_TRY_ASSIGN(fd, inodes_.fd(e.ino));
  set_owner(fd->get(), r, parent_fd);
  COVE_TRY_ASSIGN(st, stat_fd(fd->get()));
  e.attr = st;
  map_attr(e.attr);
  return e;
}

Result<Entry> Filesystem::lookup(const Requester& r, uint64_t parent, const std::string& name) {
  auto who = caller(r);
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_read(*who, path));
  return entry_for(parent, name);
}

Result<struct stat> Filesystem::getattr(const Requester& r, uint64_t ino) {
  (void)r;
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  COVE_TRY_ASSIGN(st, stat_fd(fd->get()));
  map_attr(st);
  return st;
}

void Filesystem::set_owner(int opath_fd, const Requester& r, int parent_fd) {
  struct stat pst {};
  bool setgid_dir = ::fstat(parent_fd, &pst) == 0 && (pst.st_mode & S_ISGID) != 0;
  uid_t uid = opts_.mapped_owner ? source_uid_ : r.uid;
  gid_t gid = opts_.mapped_owner ? source_gid_ : r.gid;
  // In a setgid directory the kernel already gave the new inode the directory's group.
  if (setgid_dir) {
    gid = static_cast<gid_t>(-1);
  }
  struct stat st {};
  if (::fstatat(opath_fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  bool same_uid = st.st_uid == uid;
  bool same_gid = gid == static_cast<gid_t>(-1) || st.st_gid == gid;
  if (same_uid && same_gid) {
    return;
  }
  ::fchownat(opath_fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  // chown(2) clears setuid/setgid even for root; the creator asked for them (and a container's
  // were already stripped), so put them back.
  if (!S_ISLNK(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
    ::chmod(("/proc/self/fd/" + std::to_string(opath_fd)).c_str(), st.st_mode & 07777);
  }
}

Result<struct stat> Filesystem::setattr(const Requester& r, uint64_t ino, const struct stat& want, int valid,
                                        Handle* h) {
  auto who = caller(r);
  std::string path = inodes_.path(ino);
  COVE_TRY(need_write(*who, path));
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  auto type = inodes_.type(ino).value_or(0);
  if (valid & FUSE_SET_ATTR_MODE) {
    mode_t mode = want.st_mode & 07777;
    if (who->container && S_ISREG(type)) {
      mode &= ~(S_ISUID | S_ISGID);  // setuid/setgid never land on disk from a container
    }
    if (S_ISLNK(type)) {
      return Error::make(EOPNOTSUPP, "chmod of a symlink");
    }
    if (::chmod(proc_path(fd->get()).c_str(), mode) != 0) {
      return Error::sys("chmod {}", path);
    }
    record(Change::kChmod, path, "", *who);
  }
  if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
    uid_t uid = (valid & FUSE_SET_ATTR_UID) ? want.st_uid : static_cast<uid_t>(-1);
    gid_t gid = (valid & FUSE_SET_ATTR_GID) ? want.st_gid : static_cast<gid_t>(-1);
    if (opts_.mapped_owner) {
      // Everyone sees one owner; changing it to anything else is refused, to itself is a no-op.
      bool same_uid = uid == static_cast<uid_t>(-1) || uid == opts_.mapped_owner->first;
      bool same_gid = gid == static_cast<gid_t>(-1) || gid == opts_.mapped_owner->second;
      if (!same_uid || !same_gid) {
        return Error::make(EPERM, "chown in a workspace with one owner");
      }
    } else if (::fchownat(fd->get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::sys("chown {}", path);
    } else {
      record(Change::kChown, path, "", *who);
    }
  }
  if (valid & FUSE_SET_ATTR_SIZE) {
    base::Fd own;  // without an open handle: the inode opened for writing
    int tfd = h != nullptr && h->fd.valid() ? h->fd.get() : -1;
    if (tfd < 0) {
      if (!S_ISREG(type)) {
        return Error::make(S_ISDIR(type) ? EISDIR : EINVAL, "truncate of a non-regular file");
      }
      COVE_TRY_ASSIGN(wfd, inodes_.open(ino, O_WRONLY));
      own = std::move(wfd);
      tfd = own.get();
    }
    struct stat before {};
    struct stat after {};
    bool charge = quotas() && ::fstat(tfd, &before) == 0;
    if (::ftruncate(tfd, want.st_size) != 0) {
      return Error::sys("truncate {}", path);
    }
    if (charge && ::fstat(tfd, &after) == 0) {
      used_bytes_ += (static_cast<int64_t>(after.st_blocks) - static_cast<int64_t>(before.st_blocks)) * 512;
    }
    record(Change::kTruncate, path, "", *who);
  }
  if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
    struct timespec ts[2];
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_nsec = UTIME_OMIT;
    if (valid & FUSE_SET_ATTR_ATIME_NOW) {
      ts[0].tv_nsec = UTIME_NOW;
    } else if (valid & FUSE_SET_ATTR_ATIME) {
      ts[0] = want.st_atim;
    }
    if (valid & FUSE_SET_ATTR_MTIME_NOW) {
      ts[1].tv_nsec = UTIME_NOW;
    } else if (valid & FUSE_SET_ATTR_MTIME) {
      ts[1] = want.st_mtim;
    }
    // On the inode itself (AT_EMPTY_PATH, Linux >= 5.8), symlinks included, never followed.
    int rc = ::utimensat(fd->get(), "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    if (rc != 0) {
      return Error::sys("utimens {}", path);
    }
    record(Change::kUtimens, path, "", *who);
  }
  COVE_TRY_ASSIGN(st, stat_fd(fd->get()));
  map_attr(st);
  return st;
}

Result<std::string> Filesystem::readlink(const Requester& r, uint64_t ino) {
  (void)r;
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlinkat(fd->get(), "", buf, sizeof buf);
  if (n < 0) {
    return Error::sys("readlink");
  }
  return std::string(buf, static_cast<size_t>(n));
}

Result<Entry> Filesystem::mknod(const Requester& r, uint64_t parent, const std::string& name, mode_t mode, dev_t rdev) {
  auto who = caller(r);
  if (!valid_name(name)) {
    return Error::make(EINVAL, "bad name");
  }
  if (S_ISCHR(mode) || S_ISBLK(mode)) {
    counters_.refused_device++;
    return Error::make(EPERM, "device nodes are refused in a workspace");
  }
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_write(*who, path));
  if (who->container && S_ISREG(mode)) {
    mode &= ~(S_ISUID | S_ISGID);
  }
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  COVE_TRY(reserve_inode());
  if (::mknodat(pfd->get(), name.c_str(), mode, rdev) != 0) {
    unreserve_inode();
    return Error::sys("mknod {}", path);
  }
  COVE_TRY_ASSIGN(e, finish_new(r, parent, pfd->get(), name));
  record(Change::kMknod, path, "", *who);
  return e;
}

Result<Entry> Filesystem::mkdir(const Requester& r, uint64_t parent, const std::string& name, mode_t mode) {
  auto who = caller(r);
  if (!valid_name(name)) {
    return Error::make(EINVAL, "bad name");
  }
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_write(*who, path));
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  COVE_TRY(reserve_inode());
  if (::mkdirat(pfd->get(), name.c_str(), mode) != 0) {
    unreserve_inode();
    return Error::sys("mkdir {}", path);
  }
  COVE_TRY_ASSIGN(e, finish_new(r, parent, pfd->get(), name));
  record(Change::kMkdir, path, "", *who);
  return e;
}

Result<Entry> Filesystem::symlink(const Requester& r, const std::string& target, uint64_t parent,
                                  const std::string& name) {
  auto who = caller(r);
  if (!valid_name(name)) {
    return Error::make(EINVAL, "bad name");
  }
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_write(*who, path));
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  COVE_TRY(reserve_inode());
  if (::symlinkat(target.c_str(), pfd->get(), name.c_str()) != 0) {
    unreserve_inode();
    return Error::sys("symlink {}", path);
  }
  COVE_TRY_ASSIGN(e, finish_new(r, parent, pfd->get(), name));
  record(Change::kSymlink, path, "", *who);
  return e;
}

Result<Entry> Filesystem::link(const Requester& r, uint64_t ino, uint64_t parent, const std::string& name) {
  auto who = caller(r);
  if (!valid_name(name)) {
    return Error::make(EINVAL, "bad name");
  }
  std::string path = inodes_.child_path(parent, name);
  std::string old_path = inodes_.path(ino);
  COVE_TRY(need_write(*who, path));
  // A hard link to a protected file would be a writable name for it.
  COVE_TRY(need_write(*who, old_path));
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  if (::linkat(fd->get(), "", pfd->get(), name.c_str(), AT_EMPTY_PATH) != 0) {
    return Error::sys("link {}", path);
  }
  COVE_TRY_ASSIGN(e, entry_for(parent, name));
  record(Change::kLink, old_path, path, *who);
  return e;
}

Result<void> Filesystem::unlink(const Requester& r, uint64_t parent, const std::string& name) {
  auto who = caller(r);
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_write(*who, path));
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  struct stat before {};
  bool had = stat_for_quota(pfd->get(), name, before);
  if (::unlinkat(pfd->get(), name.c_str(), 0) != 0) {
    return Error::sys("unlink {}", path);
  }
  if (had && before.st_nlink <= 1) {
    uncharge(before);
  }
  record(Change::kUnlink, path, "", *who);
  return {};
}

Result<void> Filesystem::rmdir(const Requester& r, uint64_t parent, const std::string& name) {
  auto who = caller(r);
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_write(*who, path));
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  struct stat before {};
  bool had = stat_for_quota(pfd->get(), name, before);
  if (::unlinkat(pfd->get(), name.c_str(), AT_REMOVEDIR) != 0) {
    return Error::sys("rmdir {}", path);
  }
  if (had) {
    uncharge(before);
  }
  record(Change::kRmdir, path, "", *who);
  return {};
}

Result<void> Filesystem::rename(const Requester& r, uint64_t parent, const std::string& name, uint64_t newparent,
                                const std::string& newname, unsigned flags) {
  auto who = caller(r);
  if (!valid_name(newname)) {
    return Error::make(EINVAL, "bad name");
  }
  std::string from = inodes_.child_path(parent, name);
  std::string to = inodes_.child_path(newparent, newname);
  COVE_TRY(need_write(*who, from));
  COVE_TRY(need_write(*who, to));
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  COVE_TRY_ASSIGN(npfd, inodes_.fd(newparent));
  struct stat moved {};
  bool known = ::fstatat(pfd->get(), name.c_str(), &moved, AT_SYMLINK_NOFOLLOW) == 0;
  struct stat other {};
  bool exchange = (flags & RENAME_EXCHANGE) != 0;
  bool other_known = exchange && ::fstatat(npfd->get(), newname.c_str(), &other, AT_SYMLINK_NOFOLLOW) == 0;
  struct stat replaced {};
  bool replaces = !exchange && stat_for_quota(npfd->get(), newname, replaced);
  if (::renameat2(pfd->get(), name.c_str(), npfd->get(), newname.c_str(), flags) != 0) {
    return Error::sys("rename {} to {}", from, to);
  }
  if (replaces && (S_ISDIR(replaced.st_mode) || replaced.st_nlink <= 1)) {
    uncharge(replaced);
  }
  if (known) {
    inodes_.relink({moved.st_dev, moved.st_ino}, newparent, newname);
  }
  if (other_known) {
    inodes_.relink({other.st_dev, other.st_ino}, parent, name);
  }
  record(Change::kRename, from, to, *who);
  return {};
}

Result<std::unique_ptr<Handle>> Filesystem::open(const Requester& r, uint64_t ino, int flags) {
  auto who = caller(r);
  std::string path = inodes_.path(ino);
  int acc = flags & O_ACCMODE;
  if (acc != O_RDONLY || (flags & O_TRUNC)) {
    COVE_TRY(need_write(*who, path));
  } else {
    COVE_TRY(need_read(*who, path));
  }
  // O_DIRECT is dropped: the data arrives in covefs' own buffers, whose alignment the caller's
  // O_DIRECT contract says nothing about (the kernel checked the caller's alignment already).
  flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_DIRECT);
  COVE_TRY_ASSIGN(fd, inodes_.open(ino, flags));
  auto h = std::make_unique<Handle>();
  h->fd = std::move(fd);
  h->ino = ino;
  h->caller = who;
  h->uid = r.uid;
  h->gid = r.gid;
  h->pid = r.pid;
  if (acc != O_RDONLY) {
    struct stat st {};
    h->kill_priv = ::fstat(h->fd.get(), &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)) != 0 && r.uid != 0;
  }
  if (flags & O_TRUNC) {
    record(Change::kTruncate, path, "", *who);
  }
  return h;
}

Result<std::pair<Entry, std::unique_ptr<Handle>>> Filesystem::create_file(const Requester& r, uint64_t parent,
                                                                          const std::string& name, mode_t mode,
                                                                          int flags) {
  auto who = caller(r);
  if (!valid_name(name)) {
    return Error::make(EINVAL, "bad name");
  }
  std::string path = inodes_.child_path(parent, name);
  COVE_TRY(need_write(*who, path));
  if (who->container) {
    mode &= ~(S_ISUID | S_ISGID);
  }
  COVE_TRY_ASSIGN(pfd, inodes_.fd(parent));
  // O_NOFOLLOW always: a symlink planted at this name must not be followed by a root daemon.
  COVE_TRY(reserve_inode());
  int fd = ::openat(pfd->get(), name.c_str(), (flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC) & ~(O_NOCTTY | O_DIRECT), mode);
  if (fd < 0) {
    unreserve_inode();
    return Error::sys("create {}", path);
  }
  base::Fd file(fd);
  COVE_TRY_ASSIGN(e, entry_for(parent, name));
  COVE_TRY_ASSIGN(ofd, inodes_.fd(e.ino));
  set_owner(ofd->get(), r, pfd->get());
  COVE_TRY_ASSIGN(st, stat_fd(ofd->get()));
  e.attr = st;
  map_attr(e.attr);
  auto h = std::make_unique<Handle>();
  h->fd = std::move(file);
  h->ino = e.ino;
  h->caller = who;
  // The create record stands for the file's first content too: the first write through this
  // handle (or opening it for passthrough) needs no record of its own; later ones are journaled
  // at release as for any handle.
  h->journaled = true;
  record(Change::kCreate, path, "", *who);
  return std::make_pair(e, std::move(h));
}

void Filesystem::wrote(Handle& h) {
  if (h.kill_priv) {
    // A write by someone other than root clears setuid, and setgid unless the group cannot
    // execute and the writer is in the file's group (Linux >= 6.2 rules). The kernel's FUSE
    // client only covers the group-executable case, so covefs does the rest, once per open.
    h.kill_priv = false;
    struct stat st {};
    if (::fstat(h.fd.get(), &st) == 0) {
      mode_t mode = st.st_mode & 07777;
      mode &= ~S_ISUID;
      if ((mode & S_IXGRP) != 0 || !in_group(h, st.st_gid)) {
        mode &= ~S_ISGID;
      }
      if (mode != (st.st_mode & 07777)) {
        ::fchmod(h.fd.get(), mode);
      }
    }
  }
  if (!h.journaled.exchange(true)) {
    record(Change::kWrite, inodes_.path(h.ino), "", *h.caller);
  } else {
    h.written = true;
  }
}

bool Filesystem::in_group(const Handle& h, gid_t gid) {
  if (h.gid == gid) {
    return true;
  }
  // Supplementary groups of the writer, from /proc (the FUSE request carries only one gid).
  auto status = base::read_file("/proc/" + std::to_string(h.pid) + "/status");
  if (!status) {
    return false;
  }
  auto at = status->find("\nGroups:");
  if (at == std::string::npos) {
    return false;
  }
  size_t end = status->find('\n', at + 1);
  std::string line = status->substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    size_t j = i;
    while (j < line.size() && line[j] >= '0' && line[j] <= '9') {
      ++j;
    }
    if (j > i && static_cast<gid_t>(std::stoul(line.substr(i, j - i))) == gid) {
      return true;
    }
    i = j == i ? i + 1 : j;
  }
  return false;
}

void Filesystem::flushed(Handle& h) {
  if (h.written.exchange(h.backing_id != 0)) {
    record(Change::kWrite, inodes_.path(h.ino), "", *h.caller);
  }
}

void Filesystem::release(Handle& h) {
  // Writes after the first record are journaled once more at close, so that a consumer that read
  // the file after the first record sees that it changed again.
  if (h.written) {
    record(Change::kWrite, inodes_.path(h.ino), "", *h.caller);
  }
}

Result<std::unique_ptr<Handle>> Filesystem::opendir(const Requester& r, uint64_t ino) {
  auto who = caller(r);
  COVE_TRY(need_read(*who, inodes_.path(ino)));
  // The directory itself is opened at the first READDIR: while its listing is in the kernel's
  // cache (cache_readdir), an opendir() costs covefs only this check, and `git status` opens
  // every directory of the tree.
  auto h = std::make_unique<Handle>();
  h->ino = ino;
  h->caller = who;
  return h;
}

Result<DIR*> Filesystem::dir_stream(Handle& h) {
  if (h.dir == nullptr) {
    COVE_TRY_ASSIGN(fd, inodes_.open(h.ino, O_RDONLY | O_DIRECTORY));
    DIR* d = ::fdopendir(fd.get());
    if (d == nullptr) {
      return Error::sys("fdopendir {}", inodes_.path(h.ino));
    }
    fd.release();  // owned by the DIR now
    h.dir = d;
  }
  return static_cast<DIR*>(h.dir);
}

Result<void> Filesystem::readdir(const Requester& r, Handle& h, off_t offset,
                                 const std::function<bool(const DirEntry&)>& fill) {
  (void)r;
  COVE_TRY_ASSIGN(d, dir_stream(h));
  if (offset != h.dir_offset) {
    ::seekdir(d, offset);
    h.dir_offset = offset;
  }
  std::string dir_path = inodes_.path(h.ino);
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      if (errno != 0) {
        return Error::sys("readdir");
      }
      return {};
    }
    std::string name = e->d_name;
    off_t next = e->d_off;
    if (name != "." && name != "..") {
      std::string child = dir_path.empty() ? name : dir_path + "/" + name;
      if (views_.hidden(*h.caller, child)) {
        h.dir_offset = next;
        continue;
      }
    }
    DirEntry de{name, e->d_ino, e->d_type, next};
    if (!fill(de)) {
      // Not consumed: the next call starts here again.
      ::seekdir(d, h.dir_offset);
      return {};
    }
    h.dir_offset = next;
  }
}

void Filesystem::releasedir(Handle& h) {
  if (h.dir != nullptr) {
    ::closedir(static_cast<DIR*>(h.dir));
    h.dir = nullptr;
  }
}

Result<struct statvfs> Filesystem::statfs() {
  COVE_TRY_ASSIGN(fd, inodes_.fd(InodeTable::kRootId));
  struct statvfs sv {};
  if (::fstatvfs(fd->get(), &sv) != 0) {
    return Error::sys("statfs");
  }
  return sv;
}

namespace {

// Containers may only touch user.* attributes: security.capability would grant file
// capabilities on the host, trusted.* needs CAP_SYS_ADMIN that covefs has and they do not.
bool container_may_set_xattr(const std::string& name) { return name.rfind("user.", 0) == 0; }

}  // namespace

Result<void> Filesystem::setxattr(const Requester& r, uint64_t ino, const std::string& name, const std::string& value,
                                  int flags) {
  auto who = caller(r);
  std::string path = inodes_.path(ino);
  COVE_TRY(need_write(*who, path));
  if (who->container && !container_may_set_xattr(name)) {
    return Error::make(EPERM, "xattr {} from a container", name);
  }
  if (inodes_.type(ino).value_or(0) == S_IFLNK) {
    return Error::make(EPERM, "xattr on a symlink");
  }
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  if (::setxattr(proc_path(fd->get()).c_str(), name.c_str(), value.data(), value.size(), flags) != 0) {
    return Error::sys("setxattr {}", path);
  }
  record(Change::kSetxattr, path, "", *who);
  return {};
}

Result<std::string> Filesystem::getxattr(const Requester& r, uint64_t ino, const std::string& name, size_t size) {
  auto who = caller(r);
  COVE_TRY(need_read(*who, inodes_.path(ino)));
  if (inodes_.type(ino).value_or(0) == S_IFLNK) {
    return Error::make(ENODATA, "xattr on a symlink");
  }
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  std::string buf(size, '\0');
  ssize_t n = ::getxattr(proc_path(fd->get()).c_str(), name.c_str(), size ? buf.data() : nullptr, size);
  if (n < 0) {
    return Error::sys("getxattr");
  }
  buf.resize(size ? static_cast<size_t>(n) : 0);
  if (size == 0) {
    return std::string(static_cast<size_t>(n), '\0');  // the caller only wants the size
  }
  return buf;
}

Result<std::string> Filesystem::listxattr(const Requester& r, uint64_t ino, size_t size) {
  auto who = caller(r);
  COVE_TRY(need_read(*who, inodes_.path(ino)));
  if (inodes_.type(ino).value_or(0) == S_IFLNK) {
    return std::string();
  }
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  std::string buf(size, '\0');
  ssize_t n = ::listxattr(proc_path(fd->get()).c_str(), size ? buf.data() : nullptr, size);
  if (n < 0) {
    return Error::sys("listxattr");
  }
  if (size == 0) {
    return std::string(static_cast<size_t>(n), '\0');
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

Result<void> Filesystem::removexattr(const Requester& r, uint64_t ino, const std::string& name) {
  auto who = caller(r);
  std::string path = inodes_.path(ino);
  COVE_TRY(need_write(*who, path));
  if (who->container && !container_may_set_xattr(name)) {
    return Error::make(EPERM, "xattr {} from a container", name);
  }
  COVE_TRY_ASSIGN(fd, inodes_.fd(ino));
  if (::removexattr(proc_path(fd->get()).c_str(), name.c_str()) != 0) {
    return Error::sys("removexattr {}", path);
  }
  record(Change::kRemovexattr, path, "", *who);
  return {};
}

}  // namespace fusefs
