#pragma once
// The io_uring implementation of EventLoop (liburing 2.3, Linux >= 5.13 for multishot poll and
// in-place timeout updates, both present on Debian 12's 6.1).
//
// One ring holds:
//   - a multishot IORING_OP_POLL_ADD per reader: one submission, a completion each time the fd
//     becomes readable; re-armed only if the kernel ends it (no IORING_CQE_F_MORE);
//   - an IORING_OP_TIMEOUT per armed timer with an absolute CLOCK_MONOTONIC deadline; arm() on
//     an armed timer submits IORING_OP_TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE, which moves the
//     pending timeout in place (the debounce deadline moves on every burst of writes).
// A timeout that completes before its deadline (it fired while an update was in flight, so the
// update found nothing to move: -ENOENT) is re-armed for the current deadline instead of
// calling back early.

#include "sync/event_loop.h"

namespace covesync {
// make_uring_loop() is declared in event_loop.h.
}  // namespace covesync
