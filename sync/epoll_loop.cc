// The epoll implementation of EventLoop, for kernels or sandboxes without io_uring. Readers are
// level-triggered epoll registrations; timers are kept in user space and bound epoll_wait's
// timeout, so the process still only wakes when something is due.
#include <sys/epoll.h>

#include <cerrno>
#include <climits>
#include <vector>

#include "base/fd.h"
#include "sync/event_loop.h"

namespace covesync {

namespace {

class EpollLoop final : public EventLoop {
 public:
  static base::Result<std::unique_ptr<EventLoop>> create() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
      return base::Error::sys("epoll_create1");
    }
    auto loop = std::unique_ptr<EpollLoop>(new EpollLoop(base::Fd(fd)));
    return std::unique_ptr<EventLoop>(std::move(loop));
  }

  const char* name() const override { return "epoll"; }

  base::Result<void> add_reader(int fd, Callback on_ready) override {
    readers_.push_back(std::move(on_ready));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = readers_.size() - 1;
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      readers_.pop_back();
      return base::Error::sys("epoll_ctl add fd {}", fd);
    }
    return {};
  }

  TimerId add_timer(Callback on_fire) override {
    timers_.push_back(Timer{std::move(on_fire), {}, false});
    return timers_.size() - 1;
  }
  void arm(TimerId id, Clock::time_point deadline) override {
    timers_[id].deadline = deadline;
    timers_[id].armed = true;
  }
  void disarm(TimerId id) override { timers_[id].armed = false; }
  bool armed(TimerId id) const override { return timers_[id].armed; }

  base::Result<void> run() override {
    stopping_ = false;
    epoll_event events[16];
    while (!stopping_) {
      int timeout = -1;
      auto now = Clock::now();
      for (const auto& t : timers_) {
        if (t.armed) {
          auto ms = std::chrono::ceil<std::chrono::milliseconds>(t.deadline - now).count();
          int v = ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
          timeout = timeout < 0 ? v : std::min(timeout, v);
        }
      }
      int n = ::epoll_wait(ep_.get(), events, 16, timeout);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return base::Error::sys("epoll_wait");
      }
      for (int i = 0; i < n && !stopping_; i++) {
        readers_[events[i].data.u64]();
      }
      now = Clock::now();
      for (size_t i = 0; i < timers_.size() && !stopping_; i++) {
        if (timers_[i].armed && timers_[i].deadline <= now) {
          timers_[i].armed = false;
          timers_[i].cb();
        }
      }
    }
    return {};
  }

  void stop() override { stopping_ = true; }

 private:
  struct Timer {
    Callback cb;
    Clock::time_point deadline;
    bool armed;
  };
  explicit EpollLoop(base::Fd ep) : ep_(std::move(ep)) {}

  base::Fd ep_;
  std::vector<Callback> readers_;
  std::vector<Timer> timers_;
  bool stopping_ = false;
};

}  // namespace

base::Result<std::unique_ptr<EventLoop>> make_epoll_loop() { return EpollLoop::create(); }

}  // namespace covesync
