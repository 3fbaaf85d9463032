#include "fusefs/lowlevel.h"

#include <dirent.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/file.h"
#include "base/mountinfo.h"
#include "fusefs/device.h"
#include "fusefs/watcher.h"

namespace fusefs {

namespace {

Filesystem* fs_of(fuse_req_t req) { return static_cast<Filesystem*>(fuse_req_userdata(req)); }

// The mounted device (one mount per process), for passthrough backing files.
Device* g_device = nullptr;
// True while the watcher invalidates the kernel's caches on outside changes: then an open may
// keep the file's cached pages (FOPEN_KEEP_CACHE).
bool g_watching = false;

// The kernel ties one backing file to a FUSE inode while any passthrough open exists: every
// open of the inode must name the same backing id. The backing file is opened read-write when
// possible (the caller's own open mode still limits what it can do through its descriptor).
struct Backing {
  int32_t id = 0;
  size_t refs = 0;
};
std::mutex g_backing_mu;  // guards g_backing
std::unordered_map<uint64_t, Backing> g_backing;

int32_t acquire_backing(Filesystem* fs, uint64_t ino) {
  std::lock_guard lock(g_backing_mu);
  Backing& b = g_backing[ino];
  if (b.refs == 0) {
    auto fd = fs->inodes().open(ino, O_RDWR);
    if (!fd) {
      fd = fs->inodes().open(ino, O_RDONLY);
    }
    b.id = fd ? g_device->open_backing(fd->get()) : 0;
    if (b.id == 0) {
      g_backing.erase(ino);
      return 0;
    }
  }
  b.refs++;
  return b.id;
}

void release_backing(uint64_t ino) {
  std::lock_guard lock(g_backing_mu);
  auto it = g_backing.find(ino);
  if (it == g_backing.end()) {
    return;
  }
  if (--it->second.refs == 0) {
    g_device->close_backing(it->second.id);
    g_backing.erase(it);
  }
}

// Registers the handle's file as the kernel's backing file and marks the reply this thread is
// about to send. With passthrough, writes bypass covefs: the open itself is journaled as a
// write, and the release again.
void offer_passthrough(Filesystem* fs, Handle* h, int flags) {
  if (g_device == nullptr || !g_device->passthrough()) {
    return;
  }
  // Writes under a byte quota must pass through covefs to be counted; reads still bypass it.
  if (fs->byte_quota() && (flags & O_ACCMODE) != O_RDONLY) {
    return;
  }
  struct stat st {};
  if (::fstat(h->fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return;
  }
  h->backing_id = acquire_backing(fs, h->ino);
  if (h->backing_id == 0) {
    return;
  }
  Device::set_pending_backing(h->backing_id);
  if ((flags & O_ACCMODE) != O_RDONLY) {
    fs->wrote(*h);
    h->written = true;
  }
}

void on_sighup(int) {
  static const char msg[] =
      "covefs: SIGHUP ignored: covefs does not reload its policy; restart it to apply a new one\n";
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
}

Requester requester(fuse_req_t req) {
  const fuse_ctx* c = fuse_req_ctx(req);
  return Requester{c->uid, c->gid, c->pid};
}

void reply_err(fuse_req_t req, const base::Error& e) { fuse_reply_err(req, e.code() != 0 ? e.code() : EIO); }

Handle* handle_of(fuse_file_info* fi) { return fi == nullptr ? nullptr : reinterpret_cast<Handle*>(fi->fh); }

fuse_entry_param to_param(const Entry& e) {
  fuse_entry_param p{};
  p.ino = e.ino;
  p.attr = e.attr;
  p.attr_timeout = e.attr_timeout;
  p.entry_timeout = e.entry_timeout;
  p.generation = 0;
  return p;
}

void reply_entry(fuse_req_t req, const base::Result<Entry>& r) {
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fuse_entry_param p = to_param(*r);
  if (fuse_reply_entry(req, &p) != 0) {
    fs_of(req)->forget(p.ino, 1);  // the kernel never got it
  }
}

void op_init(void* userdata, fuse_conn_info* conn) {
  (void)userdata;
  // Data moves by splice between the FUSE device and the source files.
  conn->want |= conn->capable & (FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
  conn->want |= conn->capable & (FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
  conn->want |= conn->capable & FUSE_CAP_ATOMIC_O_TRUNC;
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;  // writes must reach covefs to be journaled
  conn->max_write = 1U << 20;
  conn->max_readahead = 1U << 20;
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Filesystem* fs = fs_of(req);
  auto r = fs->lookup(requester(req), parent, name);
  if (!r && r.error().code() == ENOENT && !fs->uncacheable(parent, name)) {
    // A negative entry the kernel may cache like a positive one.
    fuse_entry_param p{};
    p.entry_timeout = fs->options().entry_timeout;
    fuse_reply_entry(req, &p);
    return;
  }
  reply_entry(req, r);
}

void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n) {
  fs_of(req)->forget(ino, n);
  fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) {
    fs_of(req)->forget(forgets[i].ino, forgets[i].nlookup);
  }
  fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)fi;
  Filesystem* fs = fs_of(req);
  auto r = fs->getattr(requester(req), ino);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fuse_reply_attr(req, &*r, fs->options().attr_timeout);
}

void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi) {
  Filesystem* fs = fs_of(req);
  auto r = fs->setattr(requester(req), ino, *attr, to_set, handle_of(fi));
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fuse_reply_attr(req, &*r, fs->options().attr_timeout);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino) {
  auto r = fs_of(req)->readlink(requester(req), ino);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fuse_reply_readlink(req, r->c_str());
}

void op_mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  reply_entry(req, fs_of(req)->mknod(requester(req), parent, name, mode, rdev));
}

void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  reply_entry(req, fs_of(req)->mkdir(requester(req), parent, name, mode));
}

void op_symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  reply_entry(req, fs_of(req)->symlink(requester(req), link, parent, name));
}

void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char* name) {
  reply_entry(req, fs_of(req)->link(requester(req), ino, parent, name));
}

void op_unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto r = fs_of(req)->unlink(requester(req), parent, name);
  fuse_reply_err(req, r ? 0 : (r.error().code() ? r.error().code() : EIO));
}

void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto r = fs_of(req)->rmdir(requester(req), parent, name);
  fuse_reply_err(req, r ? 0 : (r.error().code() ? r.error().code() : EIO));
}

void op_rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent, const char* newname,
               unsigned flags) {
  auto r = fs_of(req)->rename(requester(req), parent, name, newparent, newname, flags);
  fuse_reply_err(req, r ? 0 : (r.error().code() ? r.error().code() : EIO));
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = fs_of(req)->open(requester(req), ino, fi->flags);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fi->fh = reinterpret_cast<uint64_t>(r->release());
  offer_passthrough(fs_of(req), handle_of(fi), fi->flags);
  // Not with passthrough: the kernel answers such an open with EIO (and a passthrough file has
  // no FUSE page cache to keep anyway).
  fi->keep_cache = g_watching && handle_of(fi)->backing_id == 0 ? 1 : 0;
  fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY ? 1 : 0;
  if (fuse_reply_open(req, fi) != 0) {
    Device::set_pending_backing(0);
    if (handle_of(fi)->backing_id != 0) {
      release_backing(handle_of(fi)->ino);
    }
    delete handle_of(fi);
  }
}

void op_create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi) {
  Filesystem* fs = fs_of(req);
  auto r = fs->create_file(requester(req), parent, name, mode, fi->flags);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fuse_entry_param p = to_param(r->first);
  fi->fh = reinterpret_cast<uint64_t>(r->second.release());
  offer_passthrough(fs, handle_of(fi), fi->flags);
  fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY ? 1 : 0;
  if (fuse_reply_create(req, &p, fi) != 0) {
    Device::set_pending_backing(0);
    if (handle_of(fi)->backing_id != 0) {
      release_backing(handle_of(fi)->ino);
    }
    fs->forget(p.ino, 1);
    delete handle_of(fi);
  }
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  (void)ino;
  fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
  buf.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  buf.buf[0].fd = handle_of(fi)->fd.get();
  buf.buf[0].pos = off;
  fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

void op_write_buf(fuse_req_t req, fuse_ino_t ino, fuse_bufvec* in, off_t off, fuse_file_info* fi) {
  (void)ino;
  Handle* h = handle_of(fi);
  Filesystem* fs = fs_of(req);
  if (auto q = fs->check_write(*h, off, fuse_buf_size(in)); !q) {
    reply_err(req, q.error());
    return;
  }
  fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
  out.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  out.buf[0].fd = h->fd.get();
  out.buf[0].pos = off;
  ssize_t n = fuse_buf_copy(&out, in, static_cast<fuse_buf_copy_flags>(0));
  if (n < 0) {
    fuse_reply_err(req, static_cast<int>(-n));
    return;
  }
  fs->account_write(*h);
  fs->wrote(*h);
  fuse_reply_write(req, static_cast<size_t>(n));
}

// Read-only opens are answered with FOPEN_NOFLUSH (Linux >= 5.16; older kernels ignore it and
// still send FLUSH): covefs implements no lock operations, so the kernel keeps POSIX locks and
// flock itself, there is no writeback cache whose dirty pages a FLUSH would carry, and the
// backing files are local. That saves one round trip per close() of a file that was only read.
// Opens for writing keep FLUSH: close(2) waits for it, which is where their writes are
// journaled, so that whoever runs after close() returns (git status through cove fsmonitor)
// finds the record; the RELEASE that follows is asynchronous.
void op_flush(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)ino;
  Handle* h = handle_of(fi);
  fs_of(req)->flushed(*h);
  // Mirror the caller's close on the backing file.
  int fd = ::dup(h->fd.get());
  int rc = fd < 0 ? -1 : ::close(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void op_release(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)ino;
  Handle* h = handle_of(fi);
  fs_of(req)->release(*h);
  if (h->backing_id != 0) {
    release_backing(h->ino);
  }
  delete h;
  fuse_reply_err(req, 0);
}

void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  (void)ino;
  int fd = handle_of(fi)->fd.get();
  int rc = datasync ? ::fdatasync(fd) : ::fsync(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = fs_of(req)->opendir(requester(req), ino);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  if (g_watching && !fs_of(req)->hides_names()) {
    // Zero-message opendir (Linux >= 5.1): after an ENOSYS the kernel stops sending OPENDIR
    // and RELEASEDIR on this connection and caches every listing (FOPEN_KEEP_CACHE |
    // FOPEN_CACHE_DIR), which is what covefs would answer here anyway. `git status` opens
    // every directory of the tree: that is two round trips per directory saved. READDIR then
    // arrives without a handle and opens the directory itself, checking the caller's view
    // again. Only answered once the caller passed the view check above: the kernel treats this
    // ENOSYS as a successful open. Not done when some role hides names (listings are per
    // caller then) or when outside changes are not watched (a listing could go stale).
    // What it gives up: a cached listing is served by the kernel to any process that can reach
    // the mount, as cached names and attributes already are; opening a file is always asked.
    delete r->release();
    fuse_reply_err(req, ENOSYS);
    return;
  }
  fi->fh = reinterpret_cast<uint64_t>(r->release());
  // The kernel may cache a directory's listing while outside changes are invalidated, unless
  // some role hides names: a listing is per caller then.
  if (g_watching && !fs_of(req)->hides_names()) {
    fi->cache_readdir = 1;
    fi->keep_cache = 1;
  }
  if (fuse_reply_open(req, fi) != 0) {
    fs_of(req)->releasedir(*handle_of(fi));
    delete handle_of(fi);
  }
}

// The handle of a directory request: the one OPENDIR made, or, after a zero-message opendir
// (the kernel sends fh 0), one opened for this request alone, view checked, and released with it.
class DirHandle {
 public:
  DirHandle(Filesystem* fs, fuse_file_info* fi) : fs_(fs), h_(handle_of(fi)) {}
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;
  ~DirHandle() {
    if (own_) {
      fs_->releasedir(*own_);
    }
  }
  /// The handle, or nullptr after replying the error of opening one.
  Handle* get(fuse_req_t req, fuse_ino_t ino, const Requester& who) {
    if (h_ == nullptr) {
      auto opened = fs_->opendir(who, ino);
      if (!opened) {
        reply_err(req, opened.error());
        return nullptr;
      }
      own_ = std::move(*opened);
      h_ = own_.get();
    }
    return h_;
  }

 private:
  Filesystem* fs_;
  Handle* h_;
  std::unique_ptr<Handle> own_;
};

void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  Filesystem* fs = fs_of(req);
  Requester who = requester(req);
  DirHandle dir(fs, fi);
  Handle* h = dir.get(req, ino, who);
  if (h == nullptr) {
    return;
  }
  std::vector<char> buf(size);
  size_t used = 0;
  auto r = fs->readdir(who, *h, off, [&](const DirEntry& e) {
    size_t need = 0;
    if (plus) {
      fuse_entry_param p{};
      bool dots = e.name == "." || e.name == "..";
      if (dots) {
        p.attr.st_ino = e.ino;
        p.attr.st_mode = static_cast<mode_t>(e.type) << 12;
      } else {
        auto ent = fs->lookup(who, h->ino, e.name);
        if (!ent) {
          return true;  // vanished or hidden meanwhile: skip it
        }
        p = to_param(*ent);
      }
      need = fuse_add_direntry_plus(req, buf.data() + used, size - used, e.name.c_str(), &p, e.next);
      if (need > size - used) {
        if (!dots) {
          fs->forget(p.ino, 1);
        }
        return false;
      }
    } else {
      struct stat st {};
      st.st_ino = e.ino;
      st.st_mode = static_cast<mode_t>(e.type) << 12;
      need = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(), &st, e.next);
      if (need > size - used) {
        return false;
      }
    }
    used += need;
    return true;
  });
  if (!r && used == 0) {
    reply_err(req, r.error());
    return;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  do_readdir(req, ino, size, off, fi, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  do_readdir(req, ino, size, off, fi, true);
}

void op_releasedir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  (void)ino;
  Handle* h = handle_of(fi);
  if (h != nullptr) {
    fs_of(req)->releasedir(*h);
    delete h;
  }
  fuse_reply_err(req, 0);
}

void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, fuse_file_info* fi) {
  Filesystem* fs = fs_of(req);
  DirHandle dir(fs, fi);
  Handle* h = dir.get(req, ino, requester(req));
  if (h == nullptr) {
    return;
  }
  auto d = fs->dir_stream(*h);
  if (!d) {
    reply_err(req, d.error());
    return;
  }
  int fd = ::dirfd(*d);
  int rc = datasync ? ::fdatasync(fd) : ::fsync(fd);
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void op_statfs(fuse_req_t req, fuse_ino_t ino) {
  (void)ino;
  auto r = fs_of(req)->statfs();
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  fuse_reply_statfs(req, &*r);
}

void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size, int flags) {
  auto r = fs_of(req)->setxattr(requester(req), ino, name, std::string(value, size), flags);
  fuse_reply_err(req, r ? 0 : (r.error().code() ? r.error().code() : EIO));
}

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto r = fs_of(req)->getxattr(requester(req), ino, name, size);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  if (size == 0) {
    fuse_reply_xattr(req, r->size());
  } else {
    fuse_reply_buf(req, r->data(), r->size());
  }
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto r = fs_of(req)->listxattr(requester(req), ino, size);
  if (!r) {
    reply_err(req, r.error());
    return;
  }
  if (size == 0) {
    fuse_reply_xattr(req, r->size());
  } else {
    fuse_reply_buf(req, r->data(), r->size());
  }
}

void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  auto r = fs_of(req)->removexattr(requester(req), ino, name);
  fuse_reply_err(req, r ? 0 : (r.error().code() ? r.error().code() : EIO));
}

void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, fuse_file_info* fi) {
  (void)ino;
  Handle* h = handle_of(fi);
  Filesystem* fs = fs_of(req);
  if (auto q = fs->check_write(*h, off, static_cast<size_t>(len)); !q) {
    reply_err(req, q.error());
    return;
  }
  if (::fallocate(h->fd.get(), mode, off, len) != 0) {
    fuse_reply_err(req, errno);
    return;
  }
  fs->account_write(*h);
  fs->wrote(*h);
  fuse_reply_err(req, 0);
}

void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, fuse_file_info* fi) {
  (void)ino;
  off_t r = ::lseek(handle_of(fi)->fd.get(), off, whence);
  if (r < 0) {
    fuse_reply_err(req, errno);
    return;
  }
  fuse_reply_lseek(req, r);
}

fuse_lowlevel_ops make_ops() {
  fuse_lowlevel_ops ops{};
  ops.init = op_init;
  ops.lookup = op_lookup;
  ops.forget = op_forget;
  ops.forget_multi = op_forget_multi;
  ops.getattr = op_getattr;
  ops.setattr = op_setattr;
  ops.readlink = op_readlink;
  ops.mknod = op_mknod;
  ops.mkdir = op_mkdir;
  ops.symlink = op_symlink;
  ops.link = op_link;
  ops.unlink = op_unlink;
  ops.rmdir = op_rmdir;
  ops.rename = op_rename;
  ops.open = op_open;
  ops.create = op_create;
  ops.read = op_read;
  ops.write_buf = op_write_buf;
  ops.flush = op_flush;
  ops.release = op_release;
  ops.fsync = op_fsync;
  ops.opendir = op_opendir;
  ops.readdir = op_readdir;
  ops.readdirplus = op_readdirplus;
  ops.releasedir = op_releasedir;
  ops.fsyncdir = op_fsyncdir;
  ops.statfs = op_statfs;
  ops.setxattr = op_setxattr;
  ops.getxattr = op_getxattr;
  ops.listxattr = op_listxattr;
  ops.removexattr = op_removexattr;
  ops.fallocate = op_fallocate;
  ops.lseek = op_lseek;
  return ops;
}

// The canonical path of a mountpoint without touching the mountpoint itself (a dead or stuck
// FUSE mount can make even lstat(2) of it hang): its parent resolved, plus its name.
std::string canonical_mountpoint(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  auto slash = p.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  char real[PATH_MAX];
  if (::realpath(parent.c_str(), real) == nullptr) {
    return p;
  }
  std::string r = real;
  return r == "/" ? "/" + name : r + "/" + name;
}


// The visible mount at `path` (the last one listed there), from /proc/self/mountinfo.
std::optional<base::MountInfo> mount_at(const std::string& path) {
  auto text = base::read_file("/proc/self/mountinfo");
  if (!text) {
    return std::nullopt;
  }
  std::string want = canonical_mountpoint(path);
  std::optional<base::MountInfo> found;
  for (auto& m : base::parse_mountinfo(*text)) {
    if (m.mount_point == want) {
      found = std::move(m);
    }
  }
  return found;
}

// True if the pid in `pidfile` is a covefs that is running (not a zombie).
bool covefs_alive(const std::string& pidfile) {
  auto text = base::read_file(pidfile);
  if (!text) {
    return false;
  }
  std::string pid = text->substr(0, text->find('\n'));
  auto stat = base::read_file("/proc/" + pid + "/stat");
  if (!stat) {
    return false;
  }
  // "pid (comm) state ..."
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) {
    return false;
  }
  std::string comm = stat->substr(stat->find('(') + 1, close - stat->find('(') - 1);
  char state = (*stat)[close + 2];
  return comm == "covefs" && state != 'Z' && state != 'X';
}

// Writes 1 to /sys/fs/fuse/connections/<minor>/abort. Where fusectl is not mounted there (no
// systemd), covefs mounts it for this write and unmounts it again: the host keeps its mounts.
void abort_connection(const std::string& mountpoint) {
  auto m = mount_at(mountpoint);
  std::string dev = m ? m->dev : "";
  auto colon = dev.find(':');
  if (colon == std::string::npos) {
    return;
  }
  std::string conn = "/sys/fs/fuse/connections";
  struct stat st {};
  bool mounted_here = ::stat((conn + "/" + dev.substr(colon + 1)).c_str(), &st) != 0 &&
                      ::mount("fusectl", conn.c_str(), "fusectl", 0, nullptr) == 0;
  int fd = ::open((conn + "/" + dev.substr(colon + 1) + "/abort").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    [[maybe_unused]] ssize_t n = ::write(fd, "1", 1);
    ::close(fd);
  }
  if (mounted_here) {
    ::umount2(conn.c_str(), MNT_DETACH);
  }
}

}  // namespace

std::string mounted_fstype(const std::string& path) {
  auto m = mount_at(path);
  return m ? m->fstype : "";
}

base::Result<void> serve(Filesystem& fs, const MountOptions& mo) {
  std::string pidfile = mo.mountpoint + ".covefs.pid";
  std::string existing = mounted_fstype(mo.mountpoint);
  if (!existing.empty()) {
    if (existing != "fuse.covefs" || covefs_alive(pidfile)) {
      return base::Error::make(EBUSY, "{} is already mounted ({}); unmount it first: fusermount3 -u {}",
                               mo.mountpoint, existing, mo.mountpoint);
    }
    // The covefs that served it died. Abort its FUSE connection first (callers blocked on it get
    // ENOTCONN, and a thread of the dead daemon stuck on one of their locks is released), then
    // detach the mount and serve again. Never probe it with a path lookup: that can hang.
    abort_connection(mo.mountpoint);
    if (::umount2(mo.mountpoint.c_str(), MNT_DETACH) != 0) {
      return base::Error::sys("detach dead mount at {}", mo.mountpoint);
    }
    std::fprintf(stderr, "covefs: recovered the mount of a covefs that died at %s\n", mo.mountpoint.c_str());
  }
  std::vector<std::string> argv_s = {"covefs", "-o",
                                     "allow_other,default_permissions,fsname=" + mo.fsname + ",subtype=covefs"};
  std::vector<char*> argv;
  for (auto& a : argv_s) {
    argv.push_back(a.data());
  }
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  // Invalidation of the kernel's caches when the source changes outside FUSE; without it, keep
  // the caches short-lived.
  auto watcher = Watcher::create(fs.inodes());
  if (watcher) {
    (*watcher)->watch_dir(fs.inodes().fd(InodeTable::kRootId).value()->get());
    Watcher* w = watcher->get();
    fs.inodes().on_new_dir([w](int fd) { w->watch_dir(fd); });
  } else {
    std::fprintf(stderr, "covefs: %s; changes made outside covefs show after at most 1 s\n",
                 watcher.error().message().c_str());
    if (fs.options().entry_timeout > 1.0) {
      fs.set_timeouts(1.0);
    }
  }
  fuse_lowlevel_ops ops = make_ops();
  fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, &fs);
  if (se == nullptr) {
    return base::Error::make(EINVAL, "fuse_session_new failed");
  }
  if (fuse_set_signal_handlers(se) != 0) {
    fuse_session_destroy(se);
    return base::Error::make(EINVAL, "fuse_set_signal_handlers failed");
  }
  // libfuse ends the session on SIGHUP too, which would unmount the team's workspace under its
  // running containers when an operator "reloads" the service. covefs has no reload (a policy
  // change can hide names the kernel has cached): it says so and keeps serving.
  struct sigaction hup {};
  hup.sa_handler = on_sighup;
  sigemptyset(&hup.sa_mask);
  hup.sa_flags = SA_RESTART;
  ::sigaction(SIGHUP, &hup, nullptr);
  auto dev = Device::mount(mo.mountpoint, mo.fsname, mo.passthrough);
  if (!dev) {
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    return dev.error();
  }
  if (auto r = (*dev)->attach(se); !r) {
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    return r.error();
  }
  g_device = dev->get();
  (void)base::write_file_atomic(pidfile, std::to_string(::getpid()) + "\n");
  if (watcher) {
    (*watcher)->start(se);
    g_watching = true;
  }
  if (mo.on_ready) {
    mo.on_ready();
  }
  fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, mo.max_threads);
  fuse_loop_cfg_set_clone_fd(cfg, 0);
  int rc = fuse_session_loop_mt(se, cfg);
  fuse_loop_cfg_destroy(cfg);
  g_watching = false;
  if (watcher) {
    (*watcher)->stop();
    fs.inodes().on_new_dir(nullptr);
  }
  (*dev)->unmount();
  ::unlink(pidfile.c_str());
  g_device = nullptr;
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  if (rc < 0) {
    return base::Error::make(-rc, "FUSE loop ended with an error");
  }
  return {};
}

}  // namespace fusefs
