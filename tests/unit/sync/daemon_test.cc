#include "sync/daemon.h"

#include <thread>

#include <nlohmann/json.hpp>

#include "base/journal.h"
#include "fixture.h"
#include "sync/cursor.h"

namespace {

using base::Attribution;
using base::JournalOp;
using covesync::Daemon;
using covesync::SyncOptions;
using namespace synctest;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = seeded_repo(tmp_, "seed.txt", "seed\n");
    opts_.team = "alpha";
    opts_.repo = repo_;
    opts_.journal = tmp_.path() + "/journal";
    opts_.state_dir = tmp_.path() + "/state";
    opts_.sync_id = "alpha@test";
    opts_.quiet_ms = 20;
    opts_.max_delay_ms = 1000;
    opts_.watch_host = false;
    auto w = base::JournalWriter::open(opts_.journal);
    ASSERT_TRUE(w) << w.error().message();
    writer_ = std::move(*w);
  }
  void TearDown() override { stop(); }

  void start() {
    auto d = Daemon::create(opts_);
    ASSERT_TRUE(d) << d.error().message();
    daemon_ = std::move(*d);
    thread_ = std::thread([this] {
      auto r = daemon_->run();
      EXPECT_TRUE(r) << (r ? "" : r.error().message());
    });
  }
  /// Starts the daemon and waits until its start-up catch-up (and scan) is done.
  void start_settled() {
    start();
    ASSERT_TRUE(wait_for([&] { return status().contains("lastSeqCommitted"); }));
  }
  void stop() {
    if (thread_.joinable()) {
      daemon_->request_stop();
      thread_.join();
    }
    daemon_.reset();
  }
  nlohmann::json status() {
    try {
      return nlohmann::json::parse(read(opts_.state_dir + "/status.json"));
    } catch (...) {
      return nlohmann::json::object();
    }
  }
  /// Waits until the status says every journaled change is committed.
  bool wait_acknowledged() {
    return wait_for([&] {
      auto s = status();
      return s.is_object() && s.value("lastSeqCommitted", 0ull) == writer_->last_seq() && s.value("pendingCount", 1) == 0;
    });
  }
  void agent_writes(const std::string& agent, const std::string& rel, const std::string& data) {
    bool existed = fs::exists(repo_ + "/" + rel);
    write(repo_ + "/" + rel, data);
    ASSERT_TRUE(writer_->append(existed ? JournalOp::write : JournalOp::create, rel, "",
                                Attribution{"ctr-" + agent, agent, "agent"}));
  }

  TempDir tmp_;
  std::string repo_;
  SyncOptions opts_;
  std::unique_ptr<base::JournalWriter> writer_;
  std::unique_ptr<Daemon> daemon_;
  std::thread thread_;
};

TEST_F(DaemonTest, JournaledChangesBecomeOneCommitPerAgent) {
  // Journaled before the start, so they are one batch (the catch-up at start).
  agent_writes("alice", "src/a.ts", "export const a = 1\n");
  agent_writes("bob", "src/b.ts", "export const b = 2\n");
  agent_writes("alice", "README.md", "hello\n");
  start();
  ASSERT_TRUE(wait_acknowledged()) << status().dump();
  EXPECT_EQ(git(repo_, "log -2 --format=%an --reverse"), "alice\nbob\n");
  EXPECT_EQ(git(repo_, "show --name-only --format= HEAD~1"), "README.md\nsrc/a.ts\n");
  EXPECT_EQ(git(repo_, "show --name-only --format= HEAD"), "src/b.ts\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
  // The index follows: git sees a clean checkout.
  EXPECT_EQ(git(repo_, "status --porcelain"), "");
  stop();
  auto cur = covesync::load_cursor(opts_.state_dir);
  ASSERT_TRUE(cur && *cur);
  EXPECT_EQ((*cur)->seq, writer_->last_seq());
}

TEST_F(DaemonTest, LiveWritesAreAttributedToTheirAgents) {
  start_settled();
  agent_writes("alice", "src/a.ts", "1\n");
  agent_writes("bob", "src/b.ts", "2\n");
  agent_writes("alice", "src/c.ts", "3\n");
  ASSERT_TRUE(wait_acknowledged()) << status().dump();
  EXPECT_EQ(git(repo_, "log --format=%an -- src/a.ts src/c.ts | sort -u"), "alice\n");
  EXPECT_EQ(git(repo_, "log --format=%an -- src/b.ts"), "bob\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(DaemonTest, RenameAndRemoveThroughTheJournal) {
  write(repo_ + "/old/x.txt", "x\n");
  write(repo_ + "/gone.txt", "g\n");
  commit_all(repo_);
  start_settled();
  fs::rename(repo_ + "/old", repo_ + "/new");
  ASSERT_TRUE(writer_->append(JournalOp::rename, "old", "new", Attribution{"c1", "alice", "agent"}));
  fs::remove(repo_ + "/gone.txt");
  ASSERT_TRUE(writer_->append(JournalOp::unlink, "gone.txt", "", Attribution{"c1", "alice", "agent"}));
  ASSERT_TRUE(wait_acknowledged());
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
  EXPECT_EQ(head_files(repo_), "new/x.txt\nseed.txt\n");
}

TEST_F(DaemonTest, CursorComesBackFromTheTrailerWhenTheFileIsLost) {
  start_settled();
  agent_writes("alice", "a.txt", "1\n");
  ASSERT_TRUE(wait_acknowledged());
  stop();
  std::string head = trim(git(repo_, "rev-parse HEAD"));
  fs::remove(covesync::cursor_path(opts_.state_dir));
  auto d = Daemon::create(opts_);
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)->cursor(), writer_->last_seq());
  // Running again commits nothing new: every change exactly once.
  opts_.once = true;
  d = Daemon::create(opts_);
  ASSERT_TRUE(d);
  ASSERT_TRUE((*d)->run());
  EXPECT_EQ(trim(git(repo_, "rev-parse HEAD")), head);
}

TEST_F(DaemonTest, KilledBeforeTheRefUpdateCommitsOnRestart) {
  // A batch whose records are journaled but were never committed (the process died before the
  // ref moved): the next start reads them again from the cursor.
  agent_writes("alice", "a.txt", "1\n");
  agent_writes("bob", "b.txt", "2\n");
  opts_.once = true;
  opts_.startup_scan = false;  // only the journal can bring these back
  auto d = Daemon::create(opts_);
  ASSERT_TRUE(d);
  ASSERT_TRUE((*d)->run());
  EXPECT_EQ(git(repo_, "log -2 --format=%an --reverse"), "alice\nbob\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(DaemonTest, RescanRecordCommitsWhatTheJournalMissed) {
  opts_.startup_scan = false;
  start_settled();
  write(repo_ + "/unjournaled.txt", "x\n");
  ASSERT_TRUE(writer_->append(JournalOp::rescan, "", "", Attribution{}));
  ASSERT_TRUE(wait_acknowledged());
  EXPECT_EQ(git(repo_, "log -1 --format=%an"), "cove-sync\n");
  EXPECT_EQ(git(repo_, "show HEAD:unjournaled.txt"), "x\n");
  EXPECT_EQ(status().value("fullScans", 0), 1);
}

TEST_F(DaemonTest, JournalGapAfterRetentionCostsOneFullScan) {
  // Records deleted by retention while cove-sync was not running.
  start();
  agent_writes("alice", "first.txt", "1\n");
  ASSERT_TRUE(wait_acknowledged());
  stop();
  writer_.reset();
  base::JournalOptions small;
  small.segment_bytes = 4096;
  small.max_bytes = 8192;
  auto w = base::JournalWriter::open(opts_.journal, small);
  ASSERT_TRUE(w);
  writer_ = std::move(*w);
  for (int i = 0; i < 300; i++) {
    agent_writes("alice", "many/f" + std::to_string(i) + ".txt", std::to_string(i));
  }
  opts_.startup_scan = false;
  start();
  ASSERT_TRUE(wait_acknowledged()) << status().dump();
  EXPECT_GE(status().value("fullScans", 0), 1);
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(DaemonTest, HostEditOutsideTheJournalIsCommitted) {
  opts_.watch_host = true;
  start_settled();
  write(repo_ + "/host/edit.txt", "made on the host\n");
  // The file may first be committed empty (created, then written): wait for its content.
  ASSERT_TRUE(wait_for([&] { return git(repo_, "show HEAD:host/edit.txt", true) == "made on the host\n"; }));
  EXPECT_EQ(git(repo_, "log -1 --format=%an"), "cove-sync\n");
}

TEST_F(DaemonTest, StartupScanFindsEditsMadeWhileStopped) {
  write(repo_ + "/while-down.txt", "x\n");
  opts_.once = true;
  auto d = Daemon::create(opts_);
  ASSERT_TRUE(d);
  ASSERT_TRUE((*d)->run());
  EXPECT_EQ(git(repo_, "show HEAD:while-down.txt"), "x\n");
}

TEST_F(DaemonTest, EpollFallbackWorksTheSame) {
  opts_.force_epoll = true;
  start_settled();
  agent_writes("carol", "c.txt", "c\n");
  ASSERT_TRUE(wait_acknowledged());
  EXPECT_EQ(status().value("loop", ""), "epoll");
  EXPECT_EQ(git(repo_, "log -1 --format=%an"), "carol\n");
}

TEST_F(DaemonTest, HotFileDoesNotHoldBackTheOthers) {
  // The quiet period is per path: a file rewritten without pause does not delay a file written
  // once. The hot writer stops as soon as the cold file is committed (or after 20 s: fail).
  opts_.quiet_ms = 100;
  opts_.max_delay_ms = 600000;
  start_settled();
  agent_writes("alice", "cold.txt", "once\n");
  bool cold_committed = false;
  int rewrites = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < end) {
    agent_writes("bob", "hot.log", std::to_string(rewrites++));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (git(repo_, "show HEAD:cold.txt", true) == "once\n") {
      cold_committed = true;
      break;
    }
  }
  EXPECT_TRUE(cold_committed);
  // The hot file is still pending, and the cursor stays below its oldest record.
  auto s = status();
  EXPECT_LT(s.value("lastSeqCommitted", 0ull), writer_->last_seq());
  EXPECT_EQ(git(repo_, "log --format=%an -- cold.txt"), "alice\n");
  stop();  // commits what is pending
  EXPECT_EQ(git(repo_, "show HEAD:hot.log"), std::to_string(rewrites - 1));
  auto cur = covesync::load_cursor(opts_.state_dir);
  ASSERT_TRUE(cur && *cur);
  EXPECT_EQ((*cur)->seq, writer_->last_seq());
}

TEST_F(DaemonTest, StopRefreshesTheIndexForEveryBatch) {
  // Index refreshes are at most once a second; the ones still waiting happen at the stop.
  start_settled();
  agent_writes("alice", "one.txt", "1\n");
  ASSERT_TRUE(wait_acknowledged());
  agent_writes("alice", "two.txt", "2\n");
  ASSERT_TRUE(wait_acknowledged());
  stop();
  EXPECT_EQ(git(repo_, "-c core.hooksPath=/dev/null status --porcelain"), "");
}

TEST_F(DaemonTest, MaxDelayCommitsUnderContinuousWrites) {
  opts_.quiet_ms = 100000;  // never quiet
  opts_.max_delay_ms = 50;
  start_settled();
  agent_writes("alice", "a.txt", "1\n");
  ASSERT_TRUE(wait_acknowledged());
  EXPECT_EQ(git(repo_, "show HEAD:a.txt"), "1\n");
}

}  // namespace
