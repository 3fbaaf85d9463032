#pragma once
// The inode table: FUSE node IDs for files under the source directory.
//
// Each inode is remembered by its file handle (name_to_handle_at), not by an open O_PATH fd:
// holding one fd per inode runs out of descriptors (the hard RLIMIT_NOFILE here is 20,000, and a
// `git status` of a 50,000-file repository looks all of them up). Descriptors live in a bounded
// LRU cache and are reopened with open_by_handle_at, which names the inode itself: no path is
// resolved, so no symlink planted in the source can redirect it. On filesystems without file
// handles, the inode keeps its O_PATH fd instead (unbounded; logged once at mount).
//
// Every inode also remembers the parent and name it was last reached by, to give the journal and
// the role views a path; renames and lookups keep that current.
//
// Locking: `mu_` guards the maps and every Inode's fields; it is never held across a system call
// other than close(2) of an evicted descriptor.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/fd.h"
#include "base/result.h"

namespace fusefs {

using SharedFd = std::shared_ptr<base::Fd>;

struct InodeKey {
  dev_t dev;
  ino_t ino;
  bool operator==(const InodeKey& o) const { return dev == o.dev && ino == o.ino; }
};
struct InodeKeyHash {
  size_t operator()(const InodeKey& k) const { return std::hash<uint64_t>()(k.ino ^ (uint64_t(k.dev) << 40)); }
};

struct Inode {
  uint64_t id = 0;
  InodeKey key{};
  mode_t type = 0;  // S_IFMT bits
  std::string handle;  // struct file_handle bytes, empty if the fs has none
  SharedFd pinned;     // the O_PATH fd, when there is no handle (and for the root)
  uint64_t nlookup = 0;
  uint64_t parent = 0;  // 0 for the root
  std::string name;
};

class InodeTable {
 public:
  /// `root_fd` is an O_PATH|O_DIRECTORY fd of the source; `fd_cache` bounds open descriptors.
  InodeTable(base::Fd root_fd, size_t fd_cache);

  static constexpr uint64_t kRootId = 1;

  /// An O_PATH fd for `id` (cached or reopened by handle).
  [[nodiscard]] base::Result<SharedFd> fd(uint64_t id);
  /// Opens the inode itself with `flags` (never through a path): O_RDONLY, O_RDWR, O_DIRECTORY...
  [[nodiscard]] base::Result<base::Fd> open(uint64_t id, int flags);

  /// Registers (or finds) the inode for `name` in `parent`, given an O_PATH fd of it and its stat,
  /// and adds one lookup. Returns the node id.
  [[nodiscard]] base::Result<uint64_t> add(uint64_t parent, const std::string& name, base::Fd fd,
                                           const struct stat& st);
  /// Drops `n` lookups; the inode is forgotten at zero.
  void forget(uint64_t id, uint64_t n);
  /// Records that the inode `key` (if known) is now `new_name` in `new_parent`, after a rename.
  void relink(const InodeKey& key, uint64_t new_parent, const std::string& new_name);

  /// The path of `id` relative to the root ("" for the root), from the last known names.
  std::string path(uint64_t id);
  /// path(parent) + "/" + name, without a leading '/'.
  std::string child_path(uint64_t parent, const std::string& name);

  std::optional<mode_t> type(uint64_t id);
  /// The node with this file handle (struct file_handle bytes), if known.
  std::optional<uint64_t> find_by_handle(const std::string& handle);
  /// The node last known as `name` in `parent`, if any.
  std::optional<uint64_t> find_child(uint64_t parent, const std::string& name);
  /// Called with the O_PATH fd of every new directory inode (under the table's lock: it must not
  /// call back into the table).
  void on_new_dir(std::function<void(int)> fn) { on_new_dir_ = std::move(fn); }
  size_t size();
  size_t open_fds();

 private:
  base::Result<SharedFd> reopen_locked(Inode& ino);
  void touch_locked(uint64_t id, SharedFd fd);

  std::mutex mu_;
  std::unordered_map<uint64_t, Inode> by_id_;
  std::unordered_map<InodeKey, uint64_t, InodeKeyHash> by_key_;
  std::unordered_map<std::string, uint64_t> by_handle_;
  std::unordered_map<std::string, uint64_t> by_name_;  // "<parent id>/<name>"
  std::function<void(int)> on_new_dir_;
  uint64_t next_id_ = 2;
  SharedFd root_;
  std::string root_handle_;
  // LRU of cached descriptors: most recent at the front.
  size_t capacity_;
  std::list<std::pair<uint64_t, SharedFd>> lru_;
  std::unordered_map<uint64_t, std::list<std::pair<uint64_t, SharedFd>>::iterator> lru_pos_;
  // A directory fd (opened for reading: open_by_handle_at refuses O_PATH descriptors) per
  // filesystem, for open_by_handle_at across submounts.
  std::unordered_map<dev_t, SharedFd> mount_fds_;
};

}  // namespace fusefs
