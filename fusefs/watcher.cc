#include "fusefs/watcher.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace fusefs {

namespace {

constexpr uint64_t kMask = FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | FAN_MODIFY |
                           FAN_ONDIR | FAN_EVENT_ON_CHILD;

// How long the watcher gathers events after a batch before it reads again (see run()).
constexpr int kCoalesceMs = 2;

}  // namespace

base::Result<std::unique_ptr<Watcher>> Watcher::create(InodeTable& inodes) {
  std::unique_ptr<Watcher> w(new Watcher(inodes));
  int fd = ::fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return base::Error::sys("fanotify_init");
  }
  w->fan_ = base::Fd(fd);
  int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    return base::Error::sys("eventfd");
  }
  w->stop_fd_ = base::Fd(efd);
  return w;
}

Watcher::~Watcher() { stop(); }

void Watcher::watch_dir(int opath_fd) {
  // Through our own fd's magic link: it names the directory itself, whatever its path now is.
  std::string proc = "/proc/self/fd/" + std::to_string(opath_fd);
  ::fanotify_mark(fan_.get(), FAN_MARK_ADD, kMask, AT_FDCWD, proc.c_str());
}

void Watcher::start(fuse_session* se) {
  se_ = se;
  thread_ = std::thread([this] { run(); });
}

void Watcher::stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
    thread_.join();
  }
}

void Watcher::run() {
  pid_t self = ::getpid();
  alignas(fanotify_event_metadata) char buf[64 * 1024];
  for (bool coalesce = false;;) {
    if (coalesce) {
      // Every change covefs makes itself also reaches this group (fanotify cannot filter by
      // pid), one event per create, chown or unlink. Waking for each one doubled the context
      // switches of a metadata-heavy workload (13 per created file instead of 6 on 2 CPUs),
      // so after each batch the thread waits kCoalesce for more events before reading again.
      // The price: an edit made outside FUSE is invalidated up to kCoalesce later, on top of
      // fanotify's own asynchronous delivery.
      pollfd s = {stop_fd_.get(), POLLIN, 0};
      if (::poll(&s, 1, kCoalesceMs) > 0) {
        return;
      }
    }
    pollfd p[2] = {{fan_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (p[1].revents != 0) {
      return;
    }
    ssize_t len = ::read(fan_.get(), buf, sizeof buf);
    if (len <= 0) {
      continue;
    }
    coalesce = true;
    for (auto* m = reinterpret_cast<fanotify_event_metadata*>(buf); FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
      if (m->vers != FANOTIFY_METADATA_VERSION) {
        return;
      }
      if (m->mask & FAN_Q_OVERFLOW) {
        // Events were lost: every cached name may be stale. The kernel has no "invalidate all";
        // the entry timeout bounds the staleness. Rare: the queue holds 16,384 events.
        std::fprintf(stderr, "covefs: fanotify queue overflowed; cached names may be stale until they time out\n");
        continue;
      }
      if (m->pid == self) {
        continue;  // covefs' own operation: the kernel's cache is already right
      }
      auto* info = reinterpret_cast<fanotify_event_info_fid*>(m + 1);
      if (m->event_len <= sizeof *m || info->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME) {
        continue;
      }
      auto* fh = reinterpret_cast<struct file_handle*>(info->handle);
      const char* name = reinterpret_cast<const char*>(fh->f_handle + fh->handle_bytes);
      std::string handle(reinterpret_cast<const char*>(fh), sizeof(struct file_handle) + fh->handle_bytes);
      auto parent = inodes_.find_by_handle(handle);
      if (!parent) {
        continue;
      }
      std::string child = name;
      // Content and attribute changes invalidate the inode only. Name changes also invalidate the
      // dentry, which takes the directory's lock in the kernel: never done for plain writes, so
      // that a writer blocked on covefs in that directory cannot deadlock the watcher if covefs
      // is killed mid-request.
      bool names_changed = (m->mask & (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)) != 0;
      if (child.empty() || child == ".") {
        fuse_lowlevel_notify_inval_inode(se_, *parent, 0, 0);
      } else {
        if (names_changed) {
          fuse_lowlevel_notify_inval_entry(se_, *parent, child.c_str(), child.size());
          fuse_lowlevel_notify_inval_inode(se_, *parent, 0, 0);  // its cached listing
        }
        if (auto c = inodes_.find_child(*parent, child)) {
          fuse_lowlevel_notify_inval_inode(se_, *c, 0, 0);
        }
      }
      invalidations_++;
    }
  }
}

}  // namespace fusefs
