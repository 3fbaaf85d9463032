#include "fusefs/device.h"

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "base/compat.h"

namespace fusefs {

namespace compat = base::compat;

namespace {

// One covefs mount per process: the device state the transport callbacks need.
std::atomic<uint64_t> g_init_unique{0};
std::atomic<bool> g_want_passthrough{false};
std::atomic<bool> g_offer_passthrough{false};
std::atomic<bool> g_passthrough{false};
thread_local int32_t t_pending_backing = 0;

uint32_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }

ssize_t dev_read(int fd, void* buf, size_t len, void* /*userdata*/) {
  ssize_t n = ::read(fd, buf, len);
  if (n >= static_cast<ssize_t>(sizeof(fuse_in_header) + 16)) {
    const auto* in = static_cast<const fuse_in_header*>(buf);
    if (in->opcode == FUSE_INIT) {
      const char* arg = static_cast<const char*>(buf) + sizeof(fuse_in_header);
      uint32_t major = load32(arg);
      uint32_t minor = load32(arg + 4);
      uint32_t flags = load32(arg + 12);
      uint32_t flags2 = 0;
      if ((flags & compat::kFuseInitExt) != 0 &&
          n >= static_cast<ssize_t>(sizeof(fuse_in_header) + compat::kInitInFlags2Offset + 4)) {
        flags2 = load32(arg + compat::kInitInFlags2Offset);
      }
      bool offered = major == 7 && minor >= compat::kFusePassthroughMinor &&
                     (flags2 & compat::kFusePassthroughFlags2) != 0;
      g_init_unique = in->unique;
      g_offer_passthrough = offered && g_want_passthrough.load();
      if (g_want_passthrough && !offered) {
        std::fprintf(stderr, "covefs: kernel FUSE %u.%u offers no passthrough; serving data through covefs\n",
                     major, minor);
      }
    }
  }
  return n;
}

ssize_t dev_writev(int fd, struct iovec* iov, int count, void* /*userdata*/) {
  if (count < 1 || iov[0].iov_len < sizeof(fuse_out_header)) {
    return ::writev(fd, iov, count);
  }
  fuse_out_header hdr;
  std::memcpy(&hdr, iov[0].iov_base, sizeof hdr);
  std::vector<struct iovec> v(iov, iov + count);
  alignas(8) char init_buf[64];
  alignas(8) char open_buf[256];
  if (hdr.error == 0 && hdr.unique == g_init_unique.load() && g_offer_passthrough.load() && count >= 2) {
    // libfuse's INIT reply: add what passthrough needs (7.40 layout, 64 bytes).
    std::memset(init_buf, 0, sizeof init_buf);
    size_t have = std::min(v[1].iov_len, sizeof init_buf);
    std::memcpy(init_buf, v[1].iov_base, have);
    store32(init_buf + 4, compat::kFusePassthroughMinor);
    store32(init_buf + 12, load32(init_buf + 12) | compat::kFuseInitExt);
    store32(init_buf + compat::kInitOutFlags2Offset,
            load32(init_buf + compat::kInitOutFlags2Offset) | compat::kFusePassthroughFlags2);
    store32(init_buf + compat::kInitOutMaxStackDepthOffset, 1);
    hdr.len = static_cast<uint32_t>(hdr.len - v[1].iov_len + sizeof init_buf);
    v[1] = {init_buf, sizeof init_buf};
    v[0] = {&hdr, sizeof hdr};
    g_passthrough = true;
    g_init_unique = 0;
    return ::writev(fd, v.data(), count);
  }
  if (t_pending_backing != 0 && hdr.error == 0 && count >= 2 && v[count - 1].iov_len >= sizeof(fuse_open_out) &&
      v[count - 1].iov_len <= sizeof open_buf) {
    // The OPEN or CREATE reply this thread is sending: fuse_open_out is the payload's tail.
    size_t len = v[count - 1].iov_len;
    std::memcpy(open_buf, v[count - 1].iov_base, len);
    char* out = open_buf + len - sizeof(fuse_open_out);
    store32(out + 8, load32(out + 8) | compat::kFopenPassthrough);  // open_flags
    int32_t id = t_pending_backing;
    std::memcpy(out + 12, &id, sizeof id);                            // backing_id (was padding)
    v[count - 1] = {open_buf, len};
    t_pending_backing = 0;
    return ::writev(fd, v.data(), count);
  }
  return ::writev(fd, iov, count);
}

ssize_t dev_splice_receive(int fdin, off_t* offin, int fdout, off_t* offout, size_t len, unsigned flags,
                           void* /*userdata*/) {
  return ::splice(fdin, offin, fdout, offout, len, flags);
}

ssize_t dev_splice_send(int fdin, off_t* offin, int fdout, off_t* offout, size_t len, unsigned flags,
                        void* /*userdata*/) {
  return ::splice(fdin, offin, fdout, offout, len, flags);
}

}  // namespace

base::Result<std::unique_ptr<Device>> Device::mount(const std::string& mountpoint, const std::string& fsname,
                                                    bool want_passthrough) {
  std::unique_ptr<Device> d(new Device());
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return base::Error::sys("open /dev/fuse");
  }
  d->fd_ = base::Fd(fd);
  d->raw_fd_ = fd;
  std::string opts = "fd=" + std::to_string(fd) +
                     ",rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
  if (::mount(fsname.c_str(), mountpoint.c_str(), "fuse.covefs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    return base::Error::sys("mount covefs at {}", mountpoint);
  }
  d->mountpoint_ = mountpoint;
  d->mounted_ = true;
  g_want_passthrough = want_passthrough;
  return d;
}

Device::~Device() { unmount(); }

base::Result<void> Device::attach(fuse_session* se) {
  static const fuse_custom_io io = {dev_writev, dev_read, dev_splice_receive, dev_splice_send};
  // libfuse owns the descriptor from here on (fuse_session_destroy closes it); keep the number
  // for the backing ioctls.
  if (fuse_session_custom_io(se, &io, fd_.get()) != 0) {
    return base::Error::make(EINVAL, "fuse_session_custom_io failed");
  }
  raw_fd_ = fd_.release();
  return {};
}

void Device::unmount() {
  if (mounted_) {
    ::umount2(mountpoint_.c_str(), MNT_DETACH);
    mounted_ = false;
  }
}

bool Device::passthrough() const { return g_passthrough.load(); }

int32_t Device::open_backing(int fd) {
  if (!g_passthrough.load()) {
    return 0;
  }
  compat::FuseBackingMap map{fd, 0, 0};
  int id = ::ioctl(raw_fd_, compat::kFuseDevIocBackingOpen, &map);
  return id > 0 ? id : 0;
}

void Device::close_backing(int32_t id) {
  if (id > 0) {
    uint32_t v = static_cast<uint32_t>(id);
    ::ioctl(raw_fd_, compat::kFuseDevIocBackingClose, &v);
  }
}

void Device::set_pending_backing(int32_t id) { t_pending_backing = id; }

}  // namespace fusefs
