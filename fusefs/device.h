#pragma once
// The FUSE device: mounting with our own /dev/fuse descriptor, and kernel FUSE passthrough
// (Linux >= 6.9) on top of libfuse 3.14, which predates it.
//
// libfuse 3.14 answers the kernel's INIT itself and cannot negotiate FUSE_PASSTHROUGH. It does
// let a program supply the transport (fuse_session_custom_io), so covefs reads and writes the
// device itself: it notes the kernel's INIT request, and when the kernel offers passthrough it
// rewrites libfuse's INIT reply in flight (protocol minor 40, FUSE_INIT_EXT, FUSE_PASSTHROUGH in
// flags2, max_stack_depth 1). Later, an OPEN or CREATE reply for a file registered with
// FUSE_DEV_IOC_BACKING_OPEN gets FOPEN_PASSTHROUGH and the backing id; the kernel then reads and
// writes the source file directly, at native speed, and covefs sees only open and release.
// The rewrite happens in the writev that libfuse calls from fuse_reply_open/create on the same
// thread, so a thread-local "pending backing id" identifies the reply.
//
// Everything else (other replies, splice of data for non-passthrough files) passes untouched.
// Without kernel support, or with passthrough disabled, nothing is rewritten.

#include <cstdint>
#include <memory>
#include <string>

#include "base/fd.h"
#include "base/result.h"

struct fuse_session;

namespace fusefs {

class Device {
 public:
  /// Opens /dev/fuse and mounts it at `mountpoint` (nosuid, nodev, allow_other,
  /// default_permissions). `want_passthrough` false never offers passthrough.
  static base::Result<std::unique_ptr<Device>> mount(const std::string& mountpoint, const std::string& fsname,
                                                     bool want_passthrough);
  ~Device();

  /// Hands the descriptor to libfuse with covefs' reader and writer.
  base::Result<void> attach(fuse_session* se);
  /// Unmounts (if still mounted).
  void unmount();

  /// True once the kernel accepted passthrough in INIT.
  bool passthrough() const;
  /// Registers `fd` as a backing file; returns its id, or 0 when passthrough is off or refused.
  int32_t open_backing(int fd);
  void close_backing(int32_t id);
  /// Makes the next OPEN/CREATE reply written by this thread use backing `id` (0: none).
  static void set_pending_backing(int32_t id);

  int fd() const { return raw_fd_; }

 private:
  Device() = default;
  base::Fd fd_;      // until attach() hands it to libfuse
  int raw_fd_ = -1;  // the same descriptor, for ioctls after attach()
  std::string mountpoint_;
  bool mounted_ = false;
};

}  // namespace fusefs
