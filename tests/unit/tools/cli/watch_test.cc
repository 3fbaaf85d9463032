#include "tools/cli/watch.h"

#include <gtest/gtest.h>

#include <sstream>

#include "base/journal.h"
#include "tests/unit/tools/cli/cli_temp_dir.h"

namespace {

using base::Attribution;
using base::JournalOp;
using base::JournalWriter;
using Json = nlohmann::ordered_json;

std::vector<Json> lines_of(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(Json::parse(line));
  }
  return out;
}

TEST(Watch, RecordLineIsTheJournalLineWithTimeAndTeam) {
  base::JournalRecord r;
  r.seq = 12;
  r.time_ns = 1732430000123456789;
  r.op = JournalOp::rename;
  r.path = "src/a.ts";
  r.path2 = "src/b.ts";
  r.agent = "a1";
  std::string line = cli::watch_record_line(r, "alpha");
  EXPECT_EQ(line,
            "{\"seq\":12,\"time\":\"2024-11-24T06:33:20.123456789Z\",\"t\":1732430000123456789,\"op\":\"rename\","
            "\"path\":\"src/a.ts\",\"path2\":\"src/b.ts\",\"agent\":\"a1\",\"team\":\"alpha\"}\n");
}

TEST(Watch, InvalidUtf8PathKeepsTheJournalsEscape) {
  base::JournalRecord r;
  r.seq = 1;
  r.op = JournalOp::create;
  r.path = std::string("caf\xe9.txt");
  std::string line = cli::watch_record_line(r, "alpha");
  EXPECT_NE(line.find("caf\\udce9.txt"), std::string::npos) << line;
}

TEST(Watch, NoFollowPrintsRecordsAfterSince) {
  cove_test::TempTree dir;
  {
    auto w = JournalWriter::open(dir / "journal");
    ASSERT_TRUE(w) << w.error().message();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*w)->append(JournalOp::write, "f" + std::to_string(i), "", Attribution{"c1", "a1", "agent"}));
    }
  }
  std::ostringstream out, err;
  cli::Io io{out, err, false};
  cli::WatchOptions o{"alpha", 2, dir / "journal", false, -1, -1};
  EXPECT_EQ(cli::watch(o, io), 0) << err.str();
  auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(lines[0]["seq"], 3);
  EXPECT_EQ(lines[0]["path"], "f2");
  EXPECT_EQ(lines[0]["container"], "c1");
  EXPECT_EQ(lines[0]["team"], "alpha");
  EXPECT_EQ(lines[2]["seq"], 5);

  // Without --since: from now on, so nothing yet.
  std::ostringstream out2;
  cli::Io io2{out2, err, false};
  o.since = -1;
  EXPECT_EQ(cli::watch(o, io2), 0);
  EXPECT_EQ(out2.str(), "");
}

TEST(Watch, GapBeforeTheRetainedJournal) {
  cove_test::TempTree dir;
  {
    base::JournalOptions small;
    small.segment_bytes = 256;
    small.max_bytes = 600;
    auto w = JournalWriter::open(dir / "journal", small);
    ASSERT_TRUE(w) << w.error().message();
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE((*w)->append(JournalOp::write, "file-" + std::to_string(i), "", Attribution{}));
    }
  }
  std::ostringstream out, err;
  cli::Io io{out, err, false};
  cli::WatchOptions o{"alpha", 0, dir / "journal", false, -1, -1};
  EXPECT_EQ(cli::watch(o, io), 0) << err.str();
  auto lines = lines_of(out.str());
  ASSERT_FALSE(lines.empty());
  ASSERT_TRUE(lines[0].contains("gap")) << out.str();
  EXPECT_EQ(lines[0]["gap"]["after"], 0);
  EXPECT_EQ(lines[0]["gap"]["reason"], "retention");
  uint64_t first = lines[0]["gap"]["firstRetained"];
  EXPECT_GT(first, 1u);
  EXPECT_EQ(lines[1]["seq"], first);
  EXPECT_EQ(lines.back()["seq"], 40);
}

TEST(Watch, RescanRecordIsAGap) {
  cove_test::TempTree dir;
  {
    auto w = JournalWriter::open(dir / "journal");
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->append(JournalOp::create, "a", "", Attribution{}));
    ASSERT_TRUE((*w)->append(JournalOp::rescan, "", "", Attribution{}));
  }
  std::ostringstream out, err;
  cli::Io io{out, err, false};
  cli::WatchOptions o{"alpha", 1, dir / "journal", false, -1, -1};
  EXPECT_EQ(cli::watch(o, io), 0);
  auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(lines[0]["gap"]["reason"], "rescan");
  EXPECT_EQ(lines[1]["op"], "rescan");
}

TEST(Watch, MissingJournalIsAnInputError) {
  cove_test::TempTree dir;
  std::ostringstream out, err;
  cli::Io io{out, err, false};
  cli::WatchOptions o{"alpha", 0, dir / "nope", false, -1, -1};
  EXPECT_EQ(cli::watch(o, io), 2);
  o.team = "../etc";
  EXPECT_EQ(cli::watch(o, io), 2);
}

TEST(Watch, FollowStopsOnStopFd) {
  cove_test::TempTree dir;
  auto w = JournalWriter::open(dir / "journal");
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->append(JournalOp::create, "a", "", Attribution{}));
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "x", 1), 1);  // already readable: the first wait returns
  std::ostringstream out, err;
  cli::Io io{out, err, false};
  cli::WatchOptions o{"alpha", 0, dir / "journal", true, -1, p[0]};
  EXPECT_EQ(cli::watch(o, io), 0);
  EXPECT_EQ(lines_of(out.str()).size(), 1u);
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
