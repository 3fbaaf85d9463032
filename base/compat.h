#pragma once
// Kernel constants newer than Debian 12's headers (linux-libc-dev 6.1, FUSE protocol 7.38).
// Each names the kernel version that introduced it; code checks at run time whether the kernel
// has the feature (the FUSE INIT flags, an ioctl's EINVAL/ENOTTY) and falls back without it.

#include <linux/fuse.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace base::compat {

// FUSE 7.36 (Linux 5.17): flags2 in fuse_init_in/out is valid.
inline constexpr uint32_t kFuseInitExt = 1u << 30;
// FUSE 7.40 (Linux 6.9): FUSE_PASSTHROUGH = 1ULL << 37, i.e. bit 5 of flags2.
inline constexpr uint32_t kFusePassthroughFlags2 = 1u << 5;
// FUSE 7.40: FOPEN_PASSTHROUGH in fuse_open_out.open_flags.
inline constexpr uint32_t kFopenPassthrough = 1u << 7;
inline constexpr uint32_t kFusePassthroughMinor = 40;

// FUSE 7.40: registering a backing file on the /dev/fuse fd.
struct FuseBackingMap {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
inline constexpr unsigned long kFuseDevIocBackingOpen = _IOW(229, 1, FuseBackingMap);
inline constexpr unsigned long kFuseDevIocBackingClose = _IOW(229, 2, uint32_t);

// Offsets in fuse_init_out (7.40 layout) of the fields libfuse 3.14 does not know.
inline constexpr size_t kInitOutFlags2Offset = 32;
inline constexpr size_t kInitOutMaxStackDepthOffset = 36;
// Offset in fuse_init_in of flags2 (7.36 layout).
inline constexpr size_t kInitInFlags2Offset = 16;

}  // namespace base::compat
