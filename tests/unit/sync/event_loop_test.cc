#include "sync/event_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/fd.h"

namespace {

using covesync::Clock;
using covesync::EventLoop;
using namespace std::chrono_literals;

class EventLoopTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto made = GetParam() ? covesync::make_uring_loop() : covesync::make_epoll_loop();
    if (!made) {
      GTEST_SKIP() << "io_uring unavailable";
    }
    loop = std::move(*made);
  }

  /// A timer that counts its calls, keeps the time of the last one and stops the loop.
  struct StopTimer {
    EventLoop::TimerId id = 0;
    int fired = 0;
    Clock::time_point when{};
  };
  void add_stop_timer(StopTimer& t) {
    t.id = loop->add_timer([this, &t] {
      t.fired++;
      t.when = Clock::now();
      loop->stop();
    });
  }

  std::unique_ptr<EventLoop> loop;
};

TEST_P(EventLoopTest, ReaderIsCalledWhenDataArrives) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  base::Fd rd(p[0]), wr(p[1]);
  int calls = 0;
  std::string got;
  ASSERT_TRUE(loop->add_reader(rd.get(), [&] {
    char buf[64];
    ssize_t n;
    while ((n = ::read(rd.get(), buf, sizeof buf)) > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
    if (++calls == 2) {
      loop->stop();
    } else {
      ASSERT_EQ(::write(wr.get(), "second", 6), 6);
    }
  }));
  ASSERT_EQ(::write(wr.get(), "first", 5), 5);
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(got, "firstsecond");
}

TEST_P(EventLoopTest, TimerFiresOnceAtItsDeadline) {
  StopTimer t;
  add_stop_timer(t);
  auto start = Clock::now();
  loop->arm(t.id, start + 30ms);
  EXPECT_TRUE(loop->armed(t.id));
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(t.fired, 1);
  EXPECT_GE(t.when - start, 30ms);  // never early
  EXPECT_FALSE(loop->armed(t.id));
}

TEST_P(EventLoopTest, MovedTimerFiresOnlyAtTheNewDeadline) {
  // The debounce pattern: every event pushes the deadline further out.
  StopTimer debounce;
  add_stop_timer(debounce);
  auto start = Clock::now();
  int bumps = 0;
  EventLoop::TimerId ticker = 0;
  ticker = loop->add_timer([&] {
    loop->arm(debounce.id, Clock::now() + 40ms);
    if (++bumps < 5) {
      loop->arm(ticker, Clock::now() + 10ms);
    }
  });
  loop->arm(debounce.id, start + 40ms);
  loop->arm(ticker, start + 10ms);
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(debounce.fired, 1);
  EXPECT_EQ(bumps, 5);
  EXPECT_GE(debounce.when - start, 5 * 10ms + 40ms);
}

TEST_P(EventLoopTest, DisarmedTimerDoesNotFire) {
  bool fired = false;
  auto t = loop->add_timer([&] { fired = true; });
  auto end = loop->add_timer([&] { loop->stop(); });
  loop->arm(t, Clock::now() + 5ms);
  loop->disarm(t);
  loop->arm(end, Clock::now() + 30ms);
  ASSERT_TRUE(loop->run());
  EXPECT_FALSE(fired);
}

INSTANTIATE_TEST_SUITE_P(Loops, EventLoopTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "io_uring" : "epoll"; });

TEST(EventLoop, ForcedEpollIsEpoll) {
  auto loop = covesync::make_event_loop(true);
  ASSERT_TRUE(loop);
  EXPECT_STREQ((*loop)->name(), "epoll");
}

}  // namespace
