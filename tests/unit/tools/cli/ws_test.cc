#include "tools/cli/ws.h"

#include <gtest/gtest.h>

namespace cli {
namespace {

TEST(WsDuration, ParsesAndFormats) {
  EXPECT_EQ(*parse_duration("90s"), 90);
  EXPECT_EQ(*parse_duration("15m"), 900);
  EXPECT_EQ(*parse_duration("2h"), 7200);
  EXPECT_EQ(*parse_duration("7d"), 604800);
  EXPECT_EQ(*parse_duration("1h30m"), 5400);
  EXPECT_EQ(*parse_duration("45"), 45);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("2x"));
  EXPECT_FALSE(parse_duration("h"));
  EXPECT_FALSE(parse_duration("1h30"));
  EXPECT_EQ(format_duration(45), "45s");
  EXPECT_EQ(format_duration(3 * 3600 + 12 * 60), "3h12m");
  EXPECT_EQ(format_duration(2 * 86400 + 4 * 3600), "2d4h");
}

TEST(WsOwner, Parses) {
  auto o = parse_owner("1000:1001");
  ASSERT_TRUE(o);
  ASSERT_TRUE(*o);
  EXPECT_EQ((*o)->first, 1000u);
  EXPECT_EQ((*o)->second, 1001u);
  auto none = parse_owner("none");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  EXPECT_FALSE(parse_owner("1000"));
  EXPECT_FALSE(parse_owner("1000:1000x"));
}

base::JournalRecord rec(uint64_t seq, int64_t t, const std::string& container, base::JournalOp op = base::JournalOp::write) {
  base::JournalRecord r;
  r.seq = seq;
  r.time_ns = t;
  r.container = container;
  r.op = op;
  r.path = "f";
  return r;
}

TEST(WsGc, FoldsLastWritesPerContainer) {
  std::map<std::string, LastWrite> last;
  fold_last_writes({rec(1, 100, "a"), rec(2, 200, "b"), rec(3, 300, "a"), rec(4, 400, ""),
                    rec(5, 500, "b", base::JournalOp::rescan)},
                   last);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last["a"].seq, 3u);
  EXPECT_EQ(last["a"].time_ns, 300);
  EXPECT_EQ(last["b"].seq, 2u);
  fold_last_writes({rec(9, 900, "b")}, last);
  EXPECT_EQ(last["b"].seq, 9u);
}

TEST(WsGc, IdleOnlyPastTheBound) {
  const int64_t s = 1000000000;
  base::ContainerRecord r;
  r.id = "c1";
  r.team = "alpha";
  r.created = "2026-01-01T00:00:00Z";
  int64_t created_ns = int64_t{1767225600} * s;
  // Wrote 30 minutes ago, bound 1 hour: busy.
  GcCandidate busy = gc_decide(r, LastWrite{7, created_ns + 3600 * s}, created_ns + 5400 * s, 3600);
  EXPECT_FALSE(busy.idle);
  EXPECT_EQ(busy.idle_seconds, 1800);
  // Wrote 2 hours ago: idle.
  EXPECT_TRUE(gc_decide(r, LastWrite{7, created_ns}, created_ns + 7200 * s, 3600).idle);
  // Never wrote: quiet since it was created.
  GcCandidate never = gc_decide(r, std::nullopt, created_ns + 7200 * s, 3600);
  EXPECT_TRUE(never.idle);
  EXPECT_EQ(never.idle_seconds, 7200);
  EXPECT_FALSE(gc_decide(r, std::nullopt, created_ns + 60 * s, 3600).idle);
  // No write and no creation time: nothing says it is idle.
  r.created = "";
  EXPECT_FALSE(gc_decide(r, std::nullopt, created_ns + 7200 * s, 3600).idle);
}

}  // namespace
}  // namespace cli
