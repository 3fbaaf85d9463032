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
  std::unique_ptr<EventLoop> make() {
    auto loop = GetParam() ? covesync::make_uring_loop() : covesync::make_epoll_loop();
    if (!loop) {
      return nullptr;
    }
    return std::move(*loop);
  }
};

TEST_P(EventLoopTest, ReaderIsCalledWhenDataArrives) {
  auto loop = make();
  if (!loop) {
    GTEST_SKIP() << "io_uring unavailable";
  }
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
  auto loop = make();
  if (!loop) {
    GTEST_SKIP() << "io_uring unavailable";
  }
  int fired = 0;
  auto start = Clock::now();
  Clock::time_point when{};
  auto t = loop->add_timer([&] {
    fired++;
    when = Clock::now();
    loop->stop();
  });
  loop->arm(t, start + 30ms);
  EXPECT_TRUE(loop->armed(t));
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(fired, 1);
  EXPECT_GE(when - start, 30ms);  // never early
  EXPECT_FALSE(loop->armed(t));
}

TEST_P(EventLoopTest, MovedTimerFiresOnlyAtTheNewDeadline) {
  auto loop = make();
  if (!loop) {
    GTEST_SKIP() << "io_uring unavailable";
  }
  // The debounce pattern: every event pushes the deadline further out.
  int fired = 0;
  auto start = Clock::now();
  Clock::time_point when{};
  auto debounce = loop->add_timer([&] {
    fired++;
    when = Clock::now();
    loop->stop();
  });
  int bumps = 0;
  EventLoop::TimerId ticker = 0;
  ticker = loop->add_timer([&] {
    loop->arm(debounce, Clock::now() + 40ms);
    if (++bumps < 5) {
      loop->arm(ticker, Clock::now() + 10ms);
    }
  });
  loop->arm(debounce, start + 40ms);
  loop->arm(ticker, start + 10ms);
  ASSERT_TRUE(loop->run());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(bumps, 5);
  EXPECT_GE(when - start, 5 * 10ms + 40ms);
}

TEST_P(EventLoopTest, DisarmedTimerDoesNotFire) {
  auto loop = make();
  if (!loop) {
    GTEST_SKIP() << "io_uring unavailable";
  }
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
