#include "sync/uring_loop.h"

#include <liburing.h>
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "sync/log.h"

namespace covesync {

namespace {

// user_data: the low 2 bits say what completed, the rest is the reader or timer index.
enum Tag : uint64_t { kReader = 0, kTimer = 1, kTimerUpdate = 2, kIgnore = 3 };
uint64_t tag(Tag t, size_t index) { return (static_cast<uint64_t>(index) << 2) | t; }

__kernel_timespec to_kernel_ts(Clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  __kernel_timespec ts{};
  ts.tv_sec = ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  return ts;
}

class UringLoop final : public EventLoop {
 public:
  ~UringLoop() override { io_uring_queue_exit(&ring_); }

  static base::Result<std::unique_ptr<EventLoop>> create() {
    auto loop = std::unique_ptr<UringLoop>(new UringLoop());
    int rc = io_uring_queue_init(64, &loop->ring_, 0);
    if (rc < 0) {
      return base::Error(-rc, fmt::format("io_uring_queue_init: {}", std::strerror(-rc)));
    }
    return std::unique_ptr<EventLoop>(std::move(loop));
  }

  const char* name() const override { return "io_uring"; }

  base::Result<void> add_reader(int fd, Callback on_ready) override {
    readers_.push_back(Reader{fd, std::move(on_ready)});
    arm_poll(readers_.size() - 1);
    return {};
  }

  TimerId add_timer(Callback on_fire) override {
    timers_.push_back(std::make_unique<Timer>());
    timers_.back()->cb = std::move(on_fire);
    return timers_.size() - 1;
  }

  void arm(TimerId id, Clock::time_point deadline) override {
    Timer& t = *timers_[id];
    t.deadline = deadline;
    t.wanted = true;
    t.ts = to_kernel_ts(deadline);
    io_uring_sqe* sqe = get_sqe();
    if (t.in_kernel) {
      // Moves the pending timeout; the kernel copies the timespec at submission.
      io_uring_prep_timeout_update(sqe, &t.ts, tag(kTimer, id), IORING_TIMEOUT_ABS);
      io_uring_sqe_set_data64(sqe, tag(kTimerUpdate, id));
    } else {
      io_uring_prep_timeout(sqe, &t.ts, 0, IORING_TIMEOUT_ABS);
      io_uring_sqe_set_data64(sqe, tag(kTimer, id));
      t.in_kernel = true;
    }
    // Submit now: t.ts may be rewritten by the next arm() before the loop would submit.
    submit();
  }

  void disarm(TimerId id) override {
    // The kernel's timeout, if any, is left to complete and then ignored: cheaper than a
    // removal, and a later arm() moves it again.
    timers_[id]->wanted = false;
  }

  bool armed(TimerId id) const override { return timers_[id]->wanted; }

  base::Result<void> run() override {
    stopping_ = false;
    while (!stopping_) {
      int rc = io_uring_submit_and_wait(&ring_, 1);
      if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        return base::Error(-rc, fmt::format("io_uring_submit_and_wait: {}", std::strerror(-rc)));
      }
      // Copy the completions out first: callbacks queue new submissions.
      completions_.clear();
      io_uring_cqe* cqe = nullptr;
      unsigned head = 0;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        completions_.push_back(Completion{io_uring_cqe_get_data64(cqe), cqe->res, cqe->flags});
      }
      io_uring_cq_advance(&ring_, static_cast<unsigned>(completions_.size()));
      for (const auto& c : completions_) {
        dispatch(c);
        if (stopping_) {
          break;
        }
      }
    }
    return {};
  }

  void stop() override { stopping_ = true; }

 private:
  struct Reader {
    int fd;
    Callback cb;
  };
  struct Timer {
    Callback cb;
    Clock::time_point deadline{};
    __kernel_timespec ts{};
    bool wanted = false;     // armed from the caller's point of view
    bool in_kernel = false;  // an IORING_OP_TIMEOUT is pending
  };
  struct Completion {
    uint64_t data;
    int32_t res;
    uint32_t flags;
  };

  UringLoop() = default;

  io_uring_sqe* get_sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  void submit() {
    int rc = io_uring_submit(&ring_);
    if (rc < 0 && rc != -EBUSY && rc != -EAGAIN) {
      log_error("io_uring_submit: {}", std::strerror(-rc));
    }
  }

  void arm_poll(size_t index) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_poll_multishot(sqe, readers_[index].fd, POLLIN);
    io_uring_sqe_set_data64(sqe, tag(kReader, index));
    submit();
  }

  void dispatch(const Completion& c) {
    size_t index = c.data >> 2;
    switch (static_cast<Tag>(c.data & 3)) {
      case kReader:
        if ((c.flags & IORING_CQE_F_MORE) == 0) {
          // The kernel ended the multishot poll (overflow, or an error): arm it again.
          if (c.res < 0 && c.res != -ECANCELED) {
            log_warn("io_uring poll on fd {}: {}", readers_[index].fd, std::strerror(-c.res));
          }
          arm_poll(index);
        }
        if (c.res >= 0 || c.res == -ECANCELED) {
          readers_[index].cb();
        }
        return;
      case kTimer: {
        Timer& t = *timers_[index];
        t.in_kernel = false;
        if (!t.wanted) {
          return;
        }
        if (Clock::now() < t.deadline) {
          arm(index, t.deadline);  // fired for an old deadline: the update came too late
          return;
        }
        t.wanted = false;
        t.cb();
        return;
      }
      case kTimerUpdate:
        if (c.res < 0 && c.res != -ENOENT && c.res != -EALREADY) {
          log_warn("io_uring timeout update: {}", std::strerror(-c.res));
        }
        return;
      case kIgnore:
        return;
    }
  }

  io_uring ring_{};
  std::vector<Reader> readers_;
  std::vector<std::unique_ptr<Timer>> timers_;
  std::vector<Completion> completions_;
  bool stopping_ = false;
};

}  // namespace

base::Result<std::unique_ptr<EventLoop>> make_uring_loop() { return UringLoop::create(); }

base::Result<std::unique_ptr<EventLoop>> make_event_loop(bool force_epoll) {
  if (!force_epoll) {
    auto loop = make_uring_loop();
    if (loop) {
      return loop;
    }
    // Docker >= 25's default seccomp profile denies io_uring_setup; kernel.io_uring_disabled=2
    // forbids it for everyone.
    log_warn("io_uring unavailable ({}); using epoll", loop.error().message());
  }
  return make_epoll_loop();
}

}  // namespace covesync
