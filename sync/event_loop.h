#pragma once
// The event loop of cove-sync: readable descriptors (the journal's inotify wake fd, the inotify
// fd on the working tree, a signalfd) and one-shot timers (the debounce deadline, the fetch
// period), all waited on in one place. There is no polling and no sleep: the process blocks in
// io_uring_submit_and_wait (uring_loop.cc) or epoll_wait (epoll_loop.cc) until something happens.
//
// Readers are edge-triggered under io_uring's multishot poll: a callback must drain its
// descriptor (read until EAGAIN), or it may not be called again for data already there.
// Timers are on CLOCK_MONOTONIC (std::chrono::steady_clock). arm() on an armed timer moves it.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"

namespace covesync {

using Clock = std::chrono::steady_clock;

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using TimerId = size_t;

  virtual ~EventLoop() = default;

  /// "io_uring" or "epoll".
  virtual const char* name() const = 0;

  /// Calls `on_ready` whenever `fd` (non-blocking, owned by the caller, open for the loop's
  /// lifetime) becomes readable.
  [[nodiscard]] virtual base::Result<void> add_reader(int fd, Callback on_ready) = 0;

  /// A timer that calls `on_fire` once per arm() whose deadline passes.
  virtual TimerId add_timer(Callback on_fire) = 0;
  /// Arms `id` for `deadline`, or moves it there if it is armed (io_uring: updated in place).
  virtual void arm(TimerId id, Clock::time_point deadline) = 0;
  virtual void disarm(TimerId id) = 0;
  virtual bool armed(TimerId id) const = 0;

  /// Dispatches events until stop() is called from a callback; returns an error only when the
  /// kernel interface itself fails.
  [[nodiscard]] virtual base::Result<void> run() = 0;
  virtual void stop() = 0;
};

/// io_uring (sync/uring_loop.cc); fails when the kernel or a seccomp filter refuses io_uring.
[[nodiscard]] base::Result<std::unique_ptr<EventLoop>> make_uring_loop();
/// epoll (sync/epoll_loop.cc).
[[nodiscard]] base::Result<std::unique_ptr<EventLoop>> make_epoll_loop();

/// io_uring unless `force_epoll`, else (or when io_uring is unavailable, with one log line) epoll.
[[nodiscard]] base::Result<std::unique_ptr<EventLoop>> make_event_loop(bool force_epoll);

}  // namespace covesync
