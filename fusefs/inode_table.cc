#include "fusefs/inode_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace fusefs {

namespace {

// name_to_handle_at for an O_PATH fd; "" if the filesystem has no handles.
std::string handle_of(int fd) {
  std::vector<char> buf(sizeof(struct file_handle) + MAX_HANDLE_SZ);
  auto* fh = reinterpret_cast<struct file_handle*>(buf.data());
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (::name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH) != 0) {
    return "";
  }
  return std::string(buf.data(), sizeof(struct file_handle) + fh->handle_bytes);
}

}  // namespace

InodeTable::InodeTable(base::Fd root_fd, size_t fd_cache) : capacity_(fd_cache == 0 ? 1 : fd_cache) {
  struct stat st {};
  ::fstat(root_fd.get(), &st);
  root_ = std::make_shared<base::Fd>(std::move(root_fd));
  Inode root;
  root.id = kRootId;
  root.key = {st.st_dev, st.st_ino};
  root.type = S_IFDIR;
  root.pinned = root_;
  root.nlookup = 1;
  by_key_[root.key] = kRootId;
  by_id_[kRootId] = std::move(root);
  // open_by_handle_at needs a real (not O_PATH) descriptor on the filesystem.
  std::string proc = "/proc/self/fd/" + std::to_string(root_->get());
  mount_fds_[st.st_dev] = std::make_shared<base::Fd>(::open(proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  root_handle_ = handle_of(root_->get());
}

void InodeTable::touch_locked(uint64_t id, SharedFd fd) {
  if (auto it = lru_pos_.find(id); it != lru_pos_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(id, std::move(fd));
  lru_pos_[id] = lru_.begin();
  while (lru_.size() > capacity_) {
    lru_pos_.erase(lru_.back().first);
    lru_.pop_back();  // closes unless an operation still holds it
  }
}

base::Result<SharedFd> InodeTable::reopen_locked(Inode& ino) {
  if (ino.pinned) {
    return ino.pinned;
  }
  if (auto it = lru_pos_.find(ino.id); it != lru_pos_.end()) {
    SharedFd fd = it->second->second;
    touch_locked(ino.id, fd);
    return fd;
  }
  auto m = mount_fds_.find(ino.key.dev);
  int mount_fd = m != mount_fds_.end() ? m->second->get() : root_->get();
  auto* fh = reinterpret_cast<struct file_handle*>(ino.handle.data());
  int fd = ::open_by_handle_at(mount_fd, fh, O_PATH | O_CLOEXEC);
  if (fd < 0) {
    return base::Error::sys("open_by_handle_at inode {}", ino.id);
  }
  auto shared = std::make_shared<base::Fd>(fd);
  touch_locked(ino.id, shared);
  return shared;
}

base::Result<SharedFd> InodeTable::fd(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return base::Error::make(ESTALE, "unknown inode {}", id);
  }
  return reopen_locked(it->second);
}

base::Result<base::Fd> InodeTable::open(uint64_t id, int flags) {
  std::string handle;
  SharedFd path_fd;
  int mount_fd = -1;
  {
    std::lock_guard lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
      return base::Error::make(ESTALE, "unknown inode {}", id);
    }
    if (it->second.handle.empty()) {
      path_fd = it->second.pinned;
    } else {
      handle = it->second.handle;
      auto m = mount_fds_.find(it->second.key.dev);
      mount_fd = m != mount_fds_.end() ? m->second->get() : root_->get();
    }
  }
  int fd = -1;
  if (!handle.empty()) {
    fd = ::open_by_handle_at(mount_fd, reinterpret_cast<struct file_handle*>(handle.data()), flags | O_CLOEXEC);
  } else {
    // Reopen through the magic link of our own O_PATH fd: it names the inode, not a path in the
    // source, so it cannot be redirected.
    std::string proc = "/proc/self/fd/" + std::to_string(path_fd->get());
    fd = ::open(proc.c_str(), (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  }
  if (fd < 0) {
    return base::Error::sys("open inode {}", id);
  }
  return base::Fd(fd);
}

base::Result<uint64_t> InodeTable::add(uint64_t parent, const std::string& name, base::Fd fd, const struct stat& st) {
  InodeKey key{st.st_dev, st.st_ino};
  std::lock_guard lock(mu_);
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    Inode& ino = by_id_[it->second];
    ino.nlookup++;
    by_name_.erase(std::to_string(ino.parent) + "/" + ino.name);
    ino.parent = parent;
    ino.name = name;
    by_name_[std::to_string(parent) + "/" + name] = ino.id;
    if (ino.type != (st.st_mode & S_IFMT)) {
      ino.type = st.st_mode & S_IFMT;
    }
    touch_locked(ino.id, std::make_shared<base::Fd>(std::move(fd)));
    return ino.id;
  }
  Inode ino;
  ino.id = next_id_++;
  ino.key = key;
  ino.type = st.st_mode & S_IFMT;
  ino.nlookup = 1;
  ino.parent = parent;
  ino.name = name;
  auto shared = std::make_shared<base::Fd>(std::move(fd));
  ino.handle = handle_of(shared->get());
  if (ino.handle.empty()) {
    ino.pinned = shared;
  } else {
    touch_locked(ino.id, shared);
  }
  if (S_ISDIR(st.st_mode) && !mount_fds_.count(st.st_dev)) {
    std::string proc = "/proc/self/fd/" + std::to_string(shared->get());
    int mfd = ::open(proc.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd >= 0) {
      mount_fds_[st.st_dev] = std::make_shared<base::Fd>(mfd);
    }
  }
  uint64_t id = ino.id;
  by_key_[key] = id;
  if (!ino.handle.empty()) {
    by_handle_[ino.handle] = id;
  }
  by_name_[std::to_string(parent) + "/" + name] = id;
  bool is_dir = S_ISDIR(st.st_mode);
  by_id_[id] = std::move(ino);
  if (is_dir && on_new_dir_) {
    on_new_dir_(shared->get());
  }
  return id;
}

void InodeTable::forget(uint64_t id, uint64_t n) {
  if (id == kRootId) {
    return;
  }
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return;
  }
  Inode& ino = it->second;
  ino.nlookup = n >= ino.nlookup ? 0 : ino.nlookup - n;
  if (ino.nlookup == 0) {
    if (auto p = lru_pos_.find(id); p != lru_pos_.end()) {
      lru_.erase(p->second);
      lru_pos_.erase(p);
    }
    by_key_.erase(ino.key);
    if (!ino.handle.empty()) {
      by_handle_.erase(ino.handle);
    }
    if (auto named = by_name_.find(std::to_string(ino.parent) + "/" + ino.name);
        named != by_name_.end() && named->second == id) {
      by_name_.erase(named);
    }
    by_id_.erase(it);
  }
}

void InodeTable::relink(const InodeKey& key, uint64_t new_parent, const std::string& new_name) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    return;
  }
  Inode& ino = by_id_[it->second];
  by_name_.erase(std::to_string(ino.parent) + "/" + ino.name);
  ino.parent = new_parent;
  ino.name = new_name;
  by_name_[std::to_string(new_parent) + "/" + new_name] = ino.id;
}

std::optional<uint64_t> InodeTable::find_by_handle(const std::string& handle) {
  std::lock_guard lock(mu_);
  if (auto it = by_handle_.find(handle); it != by_handle_.end()) {
    return it->second;
  }
  if (handle == root_handle_) {
    return kRootId;
  }
  return std::nullopt;
}

std::optional<uint64_t> InodeTable::find_child(uint64_t parent, const std::string& name) {
  std::lock_guard lock(mu_);
  if (auto it = by_name_.find(std::to_string(parent) + "/" + name); it != by_name_.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::string InodeTable::path(uint64_t id) {
  std::lock_guard lock(mu_);
  std::string out;
  int depth = 0;
  while (id != kRootId && depth++ < 4096) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
      break;
    }
    out = out.empty() ? it->second.name : it->second.name + "/" + out;
    id = it->second.parent;
  }
  return out;
}

std::string InodeTable::child_path(uint64_t parent, const std::string& name) {
  std::string p = path(parent);
  return p.empty() ? name : p + "/" + name;
}

std::optional<mode_t> InodeTable::type(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return std::nullopt;
  }
  return it->second.type;
}

size_t InodeTable::size() {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t InodeTable::open_fds() {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace fusefs
