#include "sync/remote.h"

#include "fixture.h"

namespace {

using covesync::ChangeGroup;
using covesync::Committer;
using covesync::RemoteAction;
using covesync::RemoteSync;
using namespace synctest;

class RemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bare_ = tmp_.path() + "/remote.git";
    repo_ = tmp_.path() + "/repo";
    other_ = tmp_.path() + "/other";
    sh("git init -q --bare -b main " + quote(bare_));
    sh("git clone -q " + quote(bare_) + " " + quote(other_));
    write(other_ + "/shared.txt", "base\n");
    sh("cd " + quote(other_) + " && git add -A && git commit -q -m seed && git push -q origin main");
    sh("git clone -q " + quote(bare_) + " " + quote(repo_));
    auto c = Committer::open({repo_, "alpha", "alpha@test"});
    ASSERT_TRUE(c) << c.error().message();
    committer_ = std::move(*c);
    remote_ = std::make_unique<RemoteSync>(*committer_, covesync::RemoteOptions{bare_, "main"});
  }
  void local_change(const std::string& rel, const std::string& data) {
    write(repo_ + "/" + rel, data);
    auto r = committer_->commit({ChangeGroup{covesync::author_for("alice", "", "alpha"), {{rel}}}}, ++seq_);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->commits.size(), 1u);
  }
  void other_pushes(const std::string& rel, const std::string& data) {
    write(other_ + "/" + rel, data);
    sh("cd " + quote(other_) + " && git pull -q --no-rebase origin main && git add -A && git commit -q -m other && git push -q origin main");
  }
  covesync::RemoteOutcome sync() {
    auto r = remote_->sync(seq_);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : covesync::RemoteOutcome{};
  }
  std::string remote_main() { return trim(sh("git --git-dir=" + quote(bare_) + " rev-parse main")); }
  std::string local_main() { return trim(git(repo_, "rev-parse main")); }

  TempDir tmp_;
  std::string bare_, repo_, other_;
  std::unique_ptr<Committer> committer_;
  std::unique_ptr<RemoteSync> remote_;
  uint64_t seq_ = 0;
};

TEST_F(RemoteTest, PushesLocalCommits) {
  local_change("a.txt", "local\n");
  auto out = sync();
  EXPECT_EQ(out.action, RemoteAction::kPushed);
  EXPECT_EQ(remote_main(), local_main());
  EXPECT_EQ(sync().action, RemoteAction::kUpToDate);
}

TEST_F(RemoteTest, FastForwardsWhenOnlyTheRemoteMoved) {
  other_pushes("b.txt", "remote\n");
  auto out = sync();
  EXPECT_EQ(out.action, RemoteAction::kFastForward);
  EXPECT_EQ(local_main(), remote_main());
  EXPECT_EQ(read(repo_ + "/b.txt"), "remote\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(RemoteTest, MergesDivergedHistories) {
  local_change("a.txt", "local\n");
  other_pushes("b.txt", "remote\n");
  auto out = sync();
  EXPECT_EQ(out.action, RemoteAction::kMerged);
  EXPECT_EQ(local_main(), remote_main());
  EXPECT_EQ(trim(git(repo_, "log -1 --format=%P")).size(), 81u);  // two parents
  EXPECT_EQ(read(repo_ + "/a.txt"), "local\n");
  EXPECT_EQ(read(repo_ + "/b.txt"), "remote\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
  EXPECT_NE(git(repo_, "log -1 --format=%B").find("Cove-Journal-Seq: 1"), std::string::npos);
}

TEST_F(RemoteTest, ConflictKeepsBothSides) {
  local_change("shared.txt", "local version\n");
  std::string local_commit = local_main();
  other_pushes("shared.txt", "remote version\n");
  auto out = sync();
  ASSERT_EQ(out.action, RemoteAction::kConflict);
  ASSERT_TRUE(out.conflict);
  EXPECT_EQ(out.conflict->paths, std::vector<std::string>{"shared.txt"});
  // The local work is on the side branch, on the remote too; the branch follows the remote.
  std::string side = out.conflict->branch;
  EXPECT_EQ(side.rfind("cove/conflict/", 0), 0u);
  EXPECT_EQ(trim(sh("git --git-dir=" + quote(bare_) + " rev-parse " + quote(side))), local_commit);
  EXPECT_EQ(sh("git --git-dir=" + quote(bare_) + " show " + quote(side) + ":shared.txt"), "local version\n");
  EXPECT_EQ(local_main(), remote_main());
  EXPECT_EQ(read(repo_ + "/shared.txt"), "remote version\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(RemoteTest, UncommittedEditIsNeverOverwritten) {
  other_pushes("shared.txt", "remote version\n");
  write(repo_ + "/shared.txt", "agent is still typing\n");  // not committed yet
  auto r = remote_->sync(seq_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EAGAIN);
  EXPECT_EQ(read(repo_ + "/shared.txt"), "agent is still typing\n");
}

}  // namespace
