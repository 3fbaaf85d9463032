#include "sync/session.h"

#include <thread>

#include "base/journal.h"
#include "fixture.h"
#include "sync/daemon.h"

namespace {

using namespace synctest;

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override { repo_ = seeded_repo(tmp_, "a.txt", "main\n"); }
  TempDir tmp_;
  std::string repo_;
};

TEST_F(SessionTest, AddCreatesAnIgnoredWorktreeOnItsOwnBranch) {
  auto s = covesync::add_session(repo_, "s1");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->path, repo_ + "/.worktrees/s1");
  EXPECT_EQ(read(s->path + "/a.txt"), "main\n");
  EXPECT_EQ(trim(git(s->path, "rev-parse --abbrev-ref HEAD")), "cove/session/s1");
  EXPECT_EQ(read(repo_ + "/.gitignore"), "/.worktrees/\n");
  EXPECT_EQ(git(repo_, "status --porcelain --ignored=no"), "?? .gitignore\n");
  EXPECT_FALSE(covesync::add_session(repo_, "s1"));
  EXPECT_FALSE(covesync::add_session(repo_, "../evil"));
  auto l = covesync::list_sessions(repo_);
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].name, "s1");
}

TEST_F(SessionTest, DaemonCommitsTheSessionOnItsBranch) {
  ASSERT_TRUE(covesync::add_session(repo_, "s1"));
  std::string main_head = trim(git(repo_, "rev-parse main"));
  auto w = base::JournalWriter::open(tmp_.path() + "/journal");
  ASSERT_TRUE(w);
  // An agent writes in the session's worktree, another in the main checkout.
  write(repo_ + "/.worktrees/s1/feature.txt", "session work\n");
  ASSERT_TRUE((*w)->append(base::JournalOp::create, ".worktrees/s1/feature.txt", "", {"c1", "alice", "agent"}));
  write(repo_ + "/main.txt", "main work\n");
  ASSERT_TRUE((*w)->append(base::JournalOp::create, "main.txt", "", {"c2", "bob", "agent"}));
  covesync::SyncOptions o;
  o.team = "alpha";
  o.repo = repo_;
  o.journal = tmp_.path() + "/journal";
  o.state_dir = tmp_.path() + "/state-s1";
  o.session = "s1";
  o.once = true;
  o.watch_host = false;
  auto d = covesync::Daemon::create(o);
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_TRUE((*d)->run());
  EXPECT_EQ(git(repo_, "show cove/session/s1:feature.txt"), "session work\n");
  EXPECT_EQ(git(repo_, "log -1 --format=%an cove/session/s1"), "alice\n");
  EXPECT_EQ(git(repo_, "ls-tree -r --name-only cove/session/s1"), "a.txt\nfeature.txt\n");
  EXPECT_EQ(trim(git(repo_, "rev-parse main")), main_head);  // the main checkout is another daemon's
  // The main checkout's daemon never commits the session's files.
  o.session.clear();
  o.state_dir = tmp_.path() + "/state-main";
  d = covesync::Daemon::create(o);
  ASSERT_TRUE(d);
  ASSERT_TRUE((*d)->run());
  EXPECT_EQ(git(repo_, "ls-tree -r --name-only main"), ".gitignore\na.txt\nmain.txt\n");
  // Removing the session keeps its branch.
  ASSERT_TRUE(covesync::remove_session(repo_, "s1", false));
  EXPECT_FALSE(fs::exists(repo_ + "/.worktrees/s1"));
  EXPECT_EQ(git(repo_, "show cove/session/s1:feature.txt"), "session work\n");
}

TEST_F(SessionTest, RemoveRefusesUncommittedWork) {
  auto s = covesync::add_session(repo_, "s2");
  ASSERT_TRUE(s);
  write(s->path + "/wip.txt", "not committed\n");
  auto r = covesync::remove_session(repo_, "s2", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EBUSY);
  EXPECT_TRUE(fs::exists(s->path + "/wip.txt"));
  EXPECT_TRUE(covesync::remove_session(repo_, "s2", true));
  EXPECT_FALSE(fs::exists(s->path));
}

TEST(SessionName, Rules) {
  EXPECT_TRUE(covesync::valid_session_name("agent-1.fix_x"));
  EXPECT_FALSE(covesync::valid_session_name(""));
  EXPECT_FALSE(covesync::valid_session_name(".hidden"));
  EXPECT_FALSE(covesync::valid_session_name("a/b"));
  EXPECT_FALSE(covesync::valid_session_name("a..b"));
  EXPECT_FALSE(covesync::valid_session_name("x.lock"));
  EXPECT_FALSE(covesync::valid_session_name("-rf"));
}

}  // namespace
