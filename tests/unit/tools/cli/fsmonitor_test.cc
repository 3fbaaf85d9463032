#include "tools/cli/fsmonitor.h"

#include <gtest/gtest.h>

#include <map>

#include "base/journal.h"
#include "tests/unit/tools/cli/cli_temp_dir.h"

namespace {

using base::Attribution;
using base::JournalOp;
using base::JournalWriter;
using cli::FsmonitorToken;
using cli::MappedPath;

TEST(FsmonitorToken, RoundTrip) {
  FsmonitorToken t{"1234.1732430000123456789", 41, 1732430000999999999};
  EXPECT_EQ(cli::format_token(t), "cove:1234.1732430000123456789:41:1732430000999999999");
  auto back = cli::parse_token(cli::format_token(t));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, t);
  auto empty = cli::parse_token("cove:none:0:0");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->seq, 0u);
}

TEST(FsmonitorToken, RejectsEverythingElse) {
  for (const char* bad : {"", "1732430000123456789", "cove:", "cove::1:2", "cove:w:1", "cove:w:1:2:3",
                          "cove:w:01:2", "cove:w:-1:2", "cove:w:1:x", "cove:W:1:2", "cove:w:1:2 ",
                          "cove:w:18446744073709551616:1", "watchman:c:1:2"}) {
    EXPECT_FALSE(cli::parse_token(bad)) << bad;
  }
}

TEST(FsmonitorPaths, MainWorktree) {
  EXPECT_EQ(cli::map_journal_path("src/a.ts", "").kind, MappedPath::kReport);
  EXPECT_EQ(cli::map_journal_path("src/a.ts", "").path, "src/a.ts");
  EXPECT_EQ(cli::map_journal_path("", "").kind, MappedPath::kEverything);
  EXPECT_EQ(cli::map_journal_path(".git/index", "").kind, MappedPath::kIgnore);
  EXPECT_EQ(cli::map_journal_path(".git", "").kind, MappedPath::kIgnore);
  EXPECT_EQ(cli::map_journal_path(".gitignore", "").kind, MappedPath::kReport);
  EXPECT_EQ(cli::map_journal_path(".worktrees/s1/a", "").kind, MappedPath::kReport);
}

TEST(FsmonitorPaths, SessionWorktree) {
  const char* p = ".worktrees/s1";
  auto in = cli::map_journal_path(".worktrees/s1/src/a.ts", p);
  EXPECT_EQ(in.kind, MappedPath::kReport);
  EXPECT_EQ(in.path, "src/a.ts");
  EXPECT_EQ(cli::map_journal_path("src/a.ts", p).kind, MappedPath::kIgnore);
  EXPECT_EQ(cli::map_journal_path(".worktrees/s10/a", p).kind, MappedPath::kIgnore);
  EXPECT_EQ(cli::map_journal_path(".worktrees/s1", p).kind, MappedPath::kEverything);
  EXPECT_EQ(cli::map_journal_path(".worktrees", p).kind, MappedPath::kEverything);
  EXPECT_EQ(cli::map_journal_path("", p).kind, MappedPath::kEverything);
  EXPECT_EQ(cli::map_journal_path(".worktrees/s1/.git", p).kind, MappedPath::kIgnore);
  EXPECT_EQ(cli::map_journal_path(".worktree", p).kind, MappedPath::kIgnore);
}

base::JournalRecord rec(JournalOp op, std::string path, std::string path2 = "") {
  base::JournalRecord r;
  r.op = op;
  r.path = std::move(path);
  r.path2 = std::move(path2);
  return r;
}

TEST(FsmonitorChanges, PerOp) {
  cli::ChangeSet c("");
  c.add(rec(JournalOp::create, "a"));
  c.add(rec(JournalOp::write, "a"));
  c.add(rec(JournalOp::mkdir, "d"));
  c.add(rec(JournalOp::chmod, "x.sh"));
  c.add(rec(JournalOp::link, "a", "b"));
  c.add(rec(JournalOp::write, ".git/index"));
  EXPECT_FALSE(c.is_everything());
  EXPECT_EQ(c.paths(), (std::vector<std::string>{"a", "d", "d/", "x.sh", "x.sh/", "b"}));
}

TEST(FsmonitorChanges, FileRenameReportsBothSides) {
  cli::ChangeSet c("");
  c.add(rec(JournalOp::rename, "a.tmp", "a"));
  c.check_renames([](const std::string&) { return 0; });
  EXPECT_FALSE(c.is_everything());
  EXPECT_EQ(c.paths(), (std::vector<std::string>{"a.tmp", "a.tmp/", "a", "a/"}));
}

TEST(FsmonitorChanges, DirectoryOrVanishedRenameIsEverything) {
  cli::ChangeSet dir("");
  dir.add(rec(JournalOp::rename, "d1", "d2"));
  dir.check_renames([](const std::string&) { return 1; });
  EXPECT_TRUE(dir.is_everything());
  cli::ChangeSet gone("");
  gone.add(rec(JournalOp::rename, "a", "b"));
  gone.check_renames([](const std::string&) { return -1; });
  EXPECT_TRUE(gone.is_everything());
  cli::ChangeSet later("");
  later.add(rec(JournalOp::rename, "a", "b"));
  later.add(rec(JournalOp::unlink, "b/x"));
  EXPECT_TRUE(later.is_everything());
}

TEST(FsmonitorChanges, RescanAndWorktreeRootAreEverything) {
  cli::ChangeSet c("");
  c.add(rec(JournalOp::rescan, ""));
  EXPECT_TRUE(c.is_everything());
  EXPECT_TRUE(c.paths().empty());
  cli::ChangeSet s(".worktrees/s1");
  s.add(rec(JournalOp::rename, ".worktrees/s1", ".worktrees/s2"));
  EXPECT_TRUE(s.is_everything());
}

TEST(FsmonitorChanges, RenameOutsideTheWorktreeIsIgnored) {
  cli::ChangeSet s(".worktrees/s1");
  s.add(rec(JournalOp::rename, "src/a", "src/b"));
  s.add(rec(JournalOp::write, ".worktrees/s1/src/a"));
  EXPECT_FALSE(s.has_unchecked_renames());
  EXPECT_EQ(s.paths(), (std::vector<std::string>{"src/a"}));
}

class FsmonitorAnswer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = JournalWriter::open(dir_ / "journal");
    ASSERT_TRUE(w) << w.error().message();
    writer_ = std::move(*w);
    auto r = base::JournalReader::open(dir_ / "journal");
    ASSERT_TRUE(r);
    reader_ = std::move(*r);
  }
  cli::FsmonitorAnswer ask(const std::string& token, const std::string& prefix = "") {
    return cli::answer_fsmonitor(*reader_, std::string("7.1"), token, prefix, [](const std::string&) { return 0; });
  }
  void append(JournalOp op, const std::string& p, const std::string& p2 = "") {
    ASSERT_TRUE(writer_->append(op, p, p2, Attribution{}));
  }

  cove_test::TempTree dir_;
  std::unique_ptr<JournalWriter> writer_;
  std::unique_ptr<base::JournalReader> reader_;
};

TEST_F(FsmonitorAnswer, UnknownTokenIsEverythingWithAFreshToken) {
  append(JournalOp::create, "a");
  for (const char* bad : {"", "1732430000123456789", "cove:7.1:99:5", "cove:7.2:1:0", "garbage"}) {
    auto a = ask(bad);
    EXPECT_TRUE(a.everything) << bad;
    EXPECT_EQ(a.token.writer, "7.1");
    EXPECT_EQ(a.token.seq, 1u);
    EXPECT_EQ(cli::fsmonitor_output(a), cli::format_token(a.token) + std::string("\0/\0", 3));
  }
}

TEST_F(FsmonitorAnswer, ReportsWhatChangedSinceTheToken) {
  auto first = ask("");
  ASSERT_TRUE(first.everything);
  EXPECT_EQ(first.token.seq, 0u);
  append(JournalOp::create, "a");
  append(JournalOp::write, "a");
  append(JournalOp::write, ".git/index");
  auto second = ask(cli::format_token(first.token));
  ASSERT_FALSE(second.everything) << second.reason;
  EXPECT_EQ(second.paths, (std::vector<std::string>{"a"}));
  EXPECT_EQ(second.token.seq, 3u);
  auto same = ask(cli::format_token(second.token));
  ASSERT_FALSE(same.everything);
  EXPECT_TRUE(same.paths.empty());
  EXPECT_EQ(same.token, second.token);
  EXPECT_EQ(cli::fsmonitor_output(same), cli::format_token(same.token) + std::string(1, '\0'));
  append(JournalOp::unlink, "b");
  auto third = ask(cli::format_token(second.token));
  EXPECT_EQ(third.paths, (std::vector<std::string>{"b"}));
}

TEST_F(FsmonitorAnswer, StampMustMatch) {
  append(JournalOp::create, "a");
  auto a = ask("");
  FsmonitorToken forged = a.token;
  forged.stamp += 1;  // the same seq in a recreated journal has another time
  EXPECT_TRUE(ask(cli::format_token(forged)).everything);
}

TEST_F(FsmonitorAnswer, NotRunningIsEverything) {
  append(JournalOp::create, "a");
  auto a = ask("");
  auto b = cli::answer_fsmonitor(*reader_, std::nullopt, cli::format_token(a.token), "",
                                 [](const std::string&) { return 0; });
  EXPECT_TRUE(b.everything);
  EXPECT_EQ(b.token.writer, "none");
}

TEST_F(FsmonitorAnswer, RescanRecordIsEverything) {
  auto a = ask("");
  append(JournalOp::rescan, "");
  EXPECT_TRUE(ask(cli::format_token(a.token)).everything);
}

TEST(FsmonitorWriterId, RunningOnly) {
  cove_test::TempTree dir;
  EXPECT_FALSE(cli::writer_id(dir.path()));
  {
    auto w = JournalWriter::open(dir / "journal");
    ASSERT_TRUE(w);
    auto id = cli::writer_id(dir / "journal");
    ASSERT_TRUE(id);
    EXPECT_TRUE(cli::parse_token("cove:" + *id + ":0:0")) << *id;
  }
  EXPECT_FALSE(cli::writer_id(dir / "journal"));  // stopped
}

}  // namespace
