#pragma once
// covefs' core: every filesystem operation as a function that does the work on the source
// directory and returns a Result. Nothing here talks to the kernel's FUSE device; the transport
// (lowlevel.cc, on libfuse's low-level API) decodes requests, calls these and replies.
//
// Safety: every operation starts from an inode's own descriptor (InodeTable) and a single name
// component the kernel gave us; *at() calls never follow symlinks (O_NOFOLLOW,
// AT_SYMLINK_NOFOLLOW), creates use O_NOFOLLOW (and O_EXCL when asked), and operations on an
// inode reopen the inode itself (open_by_handle_at, or /proc/self/fd of our own O_PATH fd), never
// a path. So a symlink planted in the source by a container or a host user cannot make covefs
// touch a file outside the source directory.

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "fusefs/identity.h"
#include "fusefs/inode_table.h"
#include "fusefs/view.h"

namespace fusefs {

/// What covefs tells the journal: one call per mutating operation, after it succeeded.
enum class Change {
  kCreate, kWrite, kTruncate, kMkdir, kMknod, kUnlink, kRmdir, kRename, kLink, kSymlink,
  kChmod, kChown, kSetxattr, kRemovexattr, kUtimens
};
using ChangeSink = std::function<void(Change, const std::string& path, const std::string& path2, const Caller&)>;

struct FsOptions {
  std::string source;
  std::string team;
  /// The owner containers see on every file, and creates are given the source's owner; nullopt:
  /// ownership passes through (files created get the caller's uid/gid).
  std::optional<std::pair<uid_t, gid_t>> mapped_owner = std::make_pair(uid_t{1000}, gid_t{1000});
  bool default_rw = true;
  size_t fd_cache = 4096;
  double entry_timeout = 1.0;
  double attr_timeout = 1.0;
  /// The team's quota: writes and creates past it fail with EDQUOT; reads and deletes work.
  std::optional<int64_t> quota_bytes;
  std::optional<int64_t> quota_inodes;
};

struct Entry {
  uint64_t ino = 0;
  struct stat attr {};
  double entry_timeout = 0;
  double attr_timeout = 0;
};

/// The request's caller as the kernel reports it.
struct Requester {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
};

struct Counters {
  std::atomic<uint64_t> refused_erofs{0};
  std::atomic<uint64_t> refused_eacces{0};
  std::atomic<uint64_t> refused_hidden{0};
  std::atomic<uint64_t> refused_device{0};
  std::atomic<uint64_t> refused_quota{0};
};

/// An open file or directory.
struct Handle {
  base::Fd fd;
  uint64_t ino = 0;
  std::shared_ptr<const Caller> caller;
  // WRITE and FLUSH requests on one handle can run on two threads at once.
  std::atomic<bool> written{false};   // a write happened since the last journal record
  std::atomic<bool> journaled{false}; // a write record was made for this open
  bool kill_priv = false; // setuid/setgid to clear at the first write (non-root writer)
  uid_t uid = 0;          // the opener
  gid_t gid = 0;
  pid_t pid = 0;
  int32_t backing_id = 0; // kernel passthrough backing file, 0 if none
  int64_t blocks = -1;    // allocated 512-byte blocks at the last quota check, -1 if untracked
  void* dir = nullptr;    // DIR* for directories
  off_t dir_offset = 0;
};

struct DirEntry {
  std::string name;
  ino_t ino;
  unsigned type;  // DT_*
  off_t next;     // offset of the next entry
};

class Filesystem {
 public:
  static base::Result<std::unique_ptr<Filesystem>> create(FsOptions opts, const policy::Policy* policy,
                                                          std::string state_dir, ChangeSink sink);

  base::Result<Entry> lookup(const Requester& r, uint64_t parent, const std::string& name);
  void forget(uint64_t ino, uint64_t n) { inodes_.forget(ino, n); }
  base::Result<struct stat> getattr(const Requester& r, uint64_t ino);
  /// `valid` is FUSE_SET_ATTR_* bits.
  base::Result<struct stat> setattr(const Requester& r, uint64_t ino, const struct stat& want, int valid, Handle* h);
  base::Result<std::string> readlink(const Requester& r, uint64_t ino);
  base::Result<Entry> mknod(const Requester& r, uint64_t parent, const std::string& name, mode_t mode, dev_t rdev);
  base::Result<Entry> mkdir(const Requester& r, uint64_t parent, const std::string& name, mode_t mode);
  base::Result<Entry> symlink(const Requester& r, const std::string& target, uint64_t parent, const std::string& name);
  base::Result<Entry> link(const Requester& r, uint64_t ino, uint64_t parent, const std::string& name);
  base::Result<void> unlink(const Requester& r, uint64_t parent, const std::string& name);
  base::Result<void> rmdir(const Requester& r, uint64_t parent, const std::string& name);
  base::Result<void> rename(const Requester& r, uint64_t parent, const std::string& name, uint64_t newparent,
                            const std::string& newname, unsigned flags);
  base::Result<std::unique_ptr<Handle>> open(const Requester& r, uint64_t ino, int flags);
  base::Result<std::pair<Entry, std::unique_ptr<Handle>>> create_file(const Requester& r, uint64_t parent,
                                                                      const std::string& name, mode_t mode, int flags);
  /// Journals a write on `h` the first time; the data itself goes straight to h->fd.
  void wrote(Handle& h);
  /// EDQUOT if writing `size` bytes at `off` would take the team past its byte quota.
  base::Result<void> check_write(Handle& h, off_t off, size_t size);
  /// Charges what the last write allocated.
  void account_write(Handle& h);
  bool byte_quota() const { return opts_.quota_bytes.has_value(); }
  /// A close() of a descriptor of `h` (FUSE FLUSH, which close(2) waits for): journals writes
  /// made since the last record, so a reader that runs right after close() returns (git status
  /// through `cove fsmonitor`) finds them. A passthrough handle may still be written after it
  /// (through a dup'd descriptor or a shared mapping), so it is journaled again at release.
  void flushed(Handle& h);
  void release(Handle& h);
  base::Result<std::unique_ptr<Handle>> opendir(const Requester& r, uint64_t ino);
  /// Entries from `offset`, hidden names removed; `fill` returns false when the reply is full.
  base::Result<void> readdir(const Requester& r, Handle& h, off_t offset,
                             const std::function<bool(const DirEntry&)>& fill);
  void releasedir(Handle& h);
  /// The open directory stream of a directory handle, opened on first use.
  base::Result<DIR*> dir_stream(Handle& h);
  base::Result<struct statvfs> statfs();
  base::Result<void> setxattr(const Requester& r, uint64_t ino, const std::string& name, const std::string& value,
                              int flags);
  base::Result<std::string> getxattr(const Requester& r, uint64_t ino, const std::string& name, size_t size);
  base::Result<std::string> listxattr(const Requester& r, uint64_t ino, size_t size);
  base::Result<void> removexattr(const Requester& r, uint64_t ino, const std::string& name);

  /// True if some role hides paths: directory listings then differ per caller.
  bool hides_names() const { return views_.hides_names(); }
  /// True if the kernel must not cache `name` in `parent` (hidden for some role).
  bool uncacheable(uint64_t parent, const std::string& name);

  InodeTable& inodes() { return inodes_; }
  Counters& counters() { return counters_; }
  const FsOptions& options() const { return opts_; }
  /// Shortens the cache timeouts when the source cannot be watched for outside changes.
  void set_timeouts(double seconds) {
    opts_.entry_timeout = seconds;
    opts_.attr_timeout = seconds;
  }

 private:
  Filesystem(FsOptions opts, base::Fd root, const policy::Policy* policy, std::string state_dir, ChangeSink sink);

  std::shared_ptr<const Caller> caller(const Requester& r) { return ids_.identify(r.pid); }
  /// EROFS/EACCES unless `caller` may write `path`.
  base::Result<void> need_write(const Caller& caller, const std::string& path);
  /// EACCES unless `caller` may read `path`; ENOENT if it is hidden from it.
  base::Result<void> need_read(const Caller& caller, const std::string& path);
  base::Result<Entry> entry_for(uint64_t parent, const std::string& name);
  /// The entry of an inode just created: looked up, given its owner, attributes mapped.
  base::Result<Entry> finish_new(const Requester& r, uint64_t parent, int parent_fd, const std::string& name);
  void map_attr(struct stat& st) const;
  /// Gives a newly created inode its owner: the source's owner when mapped, else the caller's.
  void set_owner(int opath_fd, const Requester& r, int parent_fd);
  void record(Change c, const std::string& path, const std::string& path2, const Caller& who);
  static bool in_group(const Handle& h, gid_t gid);

  FsOptions opts_;
  InodeTable inodes_;
  Identifier ids_;
  Views views_;
  ChangeSink sink_;
  Counters counters_;
  /// EDQUOT when a new inode would pass the inode quota; charges it otherwise.
  base::Result<void> reserve_inode();
  void unreserve_inode() { used_inodes_--; }
  void scan_usage();
  /// Usage is tracked only under a quota; without one, removals cost no extra stat.
  bool quotas() const { return opts_.quota_bytes || opts_.quota_inodes; }
  /// Before removing `name` in `parent_fd`: its attributes if a quota needs them.
  bool stat_for_quota(int parent_fd, const std::string& name, struct stat& st) const;
  /// After a removal: gives back the inode and blocks of what was removed.
  void uncharge(const struct stat& st);

  std::atomic<int64_t> used_bytes_{0};
  std::atomic<int64_t> used_inodes_{0};
  uid_t source_uid_ = 0;
  gid_t source_gid_ = 0;
};

}  // namespace fusefs
