#include "sync/committer.h"

#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

namespace {

using covesync::Author;
using covesync::ChangeGroup;
using covesync::Committer;
using covesync::PathChange;
using namespace synctest;

class CommitterTest : public ::testing::Test {
 protected:
  void SetUp() override { repo_ = new_repo(tmp_); }
  std::unique_ptr<Committer> open() {
    auto c = Committer::open({repo_, "alpha", "alpha@test"});
    EXPECT_TRUE(c) << (c ? "" : c.error().message());
    return c ? std::move(*c) : nullptr;
  }
  covesync::BatchOutcome commit(Committer& c, std::vector<ChangeGroup> groups, uint64_t seq = 1) {
    auto r = c.commit(groups, seq);
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : covesync::BatchOutcome{};
  }
  static ChangeGroup group(const std::string& agent, std::vector<PathChange> paths) {
    return ChangeGroup{covesync::author_for(agent, "", "alpha"), std::move(paths)};
  }
  std::string file(const std::string& rel) const { return repo_ + "/" + rel; }

  TempDir tmp_;
  std::string repo_;
};

TEST_F(CommitterTest, CommitsOnlyTheListedPaths) {
  write(file("a.txt"), "a1\n");
  write(file("b.txt"), "b1\n");
  commit_all(repo_);
  write(file("a.txt"), "a2\n");
  write(file("b.txt"), "b2\n");
  auto c = open();
  auto out = commit(*c, {group("alice", {{"a.txt"}})});
  ASSERT_EQ(out.commits.size(), 1u);
  EXPECT_EQ(git(repo_, "show HEAD:a.txt"), "a2\n");
  EXPECT_EQ(git(repo_, "show HEAD:b.txt"), "b1\n");  // not listed: untouched
  EXPECT_EQ(git(repo_, "diff-tree --no-commit-id --name-only -r HEAD"), "a.txt\n");
}

TEST_F(CommitterTest, BlobsHoldTheExactBytes) {
  commit_all(repo_);
  std::string bytes("bin\0ary\r\nline\r\n\xff\xfe", 17);
  write(file("data.bin"), bytes);
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) {
    big[i] = static_cast<char>(i / 4096);
  }
  write(file("big/blob"), big);
  auto c = open();
  commit(*c, {group("alice", {{"data.bin"}, {"big/blob"}})});
  EXPECT_EQ(git(repo_, "cat-file blob HEAD:data.bin"), bytes);
  EXPECT_EQ(git(repo_, "cat-file blob HEAD:big/blob"), big);
}

TEST_F(CommitterTest, OneCommitPerAgentAuthoredByIt) {
  commit_all(repo_);
  write(file("a.txt"), "from alice\n");
  write(file("b.txt"), "from bob\n");
  auto c = open();
  auto out = commit(*c, {group("alice", {{"a.txt"}}), group("bob", {{"b.txt"}})}, 7);
  ASSERT_EQ(out.commits.size(), 2u);
  EXPECT_EQ(git(repo_, "log -1 --format=%an/%ae/%cn HEAD"), "bob/bob@alpha.cove/cove-sync\n");
  EXPECT_EQ(git(repo_, "log -1 --format=%an/%ae HEAD~1"), "alice/alice@alpha.cove\n");
  EXPECT_EQ(git(repo_, "diff-tree --no-commit-id --name-only -r HEAD~1"), "a.txt\n");
  EXPECT_EQ(git(repo_, "diff-tree --no-commit-id --name-only -r HEAD"), "b.txt\n");
  // Only the last commit of the batch carries the cursor.
  EXPECT_EQ(git(repo_, "log -1 '--format=%(trailers:key=Cove-Journal-Seq,valueonly)' HEAD"), "7\n\n");
  EXPECT_EQ(git(repo_, "log -1 '--format=%(trailers:key=Cove-Journal-Seq,valueonly)' HEAD~1"), "\n");
  EXPECT_NE(git(repo_, "log -1 --format=%B HEAD").find("A\tb.txt"), std::string::npos);
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(CommitterTest, RemovalsRenamesModesAndSymlinks) {
  write(file("gone.txt"), "x\n");
  write(file("old/name.txt"), "moved\n");
  write(file("old/other.txt"), "stays\n");
  write(file("run.sh"), "#!/bin/sh\n");
  write(file("dir/a/b.txt"), "deep\n");
  commit_all(repo_);
  ::unlink(file("gone.txt").c_str());
  ::rename(file("old/name.txt").c_str(), file("new.txt").c_str());
  ::chmod(file("run.sh").c_str(), 0755);
  ASSERT_EQ(::symlink("new.txt", file("link").c_str()), 0);
  ::rename(file("dir").c_str(), file("dir2").c_str());
  auto c = open();
  commit(*c, {group("alice", {{"gone.txt"}, {"old/name.txt", true}, {"new.txt", true}, {"run.sh"}, {"link"},
                              {"dir", true}, {"dir2", true}})});
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
  EXPECT_EQ(git(repo_, "ls-tree HEAD run.sh").substr(0, 6), "100755");
  EXPECT_EQ(git(repo_, "ls-tree HEAD link").substr(0, 6), "120000");
  EXPECT_EQ(git(repo_, "cat-file blob HEAD:link"), "new.txt");
  EXPECT_EQ(git(repo_, "show HEAD:dir2/a/b.txt"), "deep\n");
  EXPECT_EQ(head_files(repo_), "dir2/a/b.txt\nlink\nnew.txt\nold/other.txt\nrun.sh\n");
}

TEST_F(CommitterTest, FileAndDirectorySwapPlaces) {
  write(file("x"), "file\n");
  write(file("y/inner.txt"), "in y\n");
  commit_all(repo_);
  ::unlink(file("x").c_str());
  write(file("x/now-a-dir.txt"), "dir\n");
  fs::remove_all(file("y"));
  write(file("y"), "now a file\n");
  auto c = open();
  commit(*c, {group("alice", {{"x", true}, {"x/now-a-dir.txt"}, {"y", true}, {"y/inner.txt"}})});
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(CommitterTest, IgnoredPathsAreSkippedUnlessTracked) {
  write(file(".gitignore"), "*.log\nbuild/\n");
  write(file("tracked.log"), "v1\n");
  sh("cd " + quote(repo_) + " && git add -f tracked.log .gitignore && git commit -q -m seed");
  write(file("tracked.log"), "v2\n");
  write(file("new.log"), "noise\n");
  write(file("build/out.o"), "obj\n");
  write(file("src.c"), "int x;\n");
  auto c = open();
  commit(*c, {group("alice", {{"tracked.log"}, {"new.log"}, {"build", true}, {"build/out.o"}, {"src.c"}})});
  EXPECT_EQ(head_files(repo_), ".gitignore\nsrc.c\ntracked.log\n");
  EXPECT_EQ(git(repo_, "show HEAD:tracked.log"), "v2\n");
}

TEST_F(CommitterTest, GitDirectoriesAndWorktreesAreNeverCommitted) {
  commit_all(repo_);
  write(file("sub/.git/config"), "x\n");
  write(file(".worktrees/s1/a.txt"), "x\n");
  write(file("SUB2/.GIT/x"), "x\n");
  auto c = open();
  auto out = commit(*c, {group("alice", {{".git/config"}, {".git/HEAD"}, {"sub/.git/config"}, {".worktrees", true},
                                          {".worktrees/s1/a.txt"}, {"SUB2/.GIT/x"}})});
  EXPECT_TRUE(out.commits.empty());
  EXPECT_EQ(head_files(repo_), "");
}

TEST_F(CommitterTest, NothingChangedMakesNoCommit) {
  write(file("a.txt"), "same\n");
  commit_all(repo_);
  std::string before = trim(git(repo_, "rev-parse HEAD"));
  auto c = open();
  auto out = commit(*c, {group("alice", {{"a.txt"}, {"missing.txt"}})});
  EXPECT_TRUE(out.commits.empty());
  EXPECT_EQ(trim(git(repo_, "rev-parse HEAD")), before);
}

TEST_F(CommitterTest, SymlinkedParentIsNotFollowed) {
  commit_all(repo_);
  TempDir outside;
  write(outside.path() + "/secret", "host secret\n");
  ASSERT_EQ(::symlink(outside.path().c_str(), file("evil").c_str()), 0);
  auto c = open();
  commit(*c, {group("mallory", {{"evil/secret"}, {"evil", true}})});
  // The symlink itself is committed as a link; nothing behind it is.
  EXPECT_EQ(head_files(repo_), "evil\n");
  EXPECT_EQ(git(repo_, "ls-tree HEAD evil").substr(0, 6), "120000");
}

TEST_F(CommitterTest, NewDirectoryIsTakenWhole) {
  commit_all(repo_);
  write(file("d/e/f/1.txt"), "1\n");
  write(file("d/e/2.txt"), "2\n");
  write(file("d/3.txt"), "3\n");
  auto c = open();
  commit(*c, {group("alice", {{"d", true}})});
  EXPECT_EQ(head_files(repo_), "d/3.txt\nd/e/2.txt\nd/e/f/1.txt\n");
}

TEST_F(CommitterTest, DeepWalkLeavesOutPathsPendingOnTheirOwn) {
  commit_all(repo_);
  write(file("d/mine.txt"), "1\n");
  write(file("d/theirs.txt"), "still being written\n");
  write(file("d/sub/x.txt"), "x\n");
  auto c = open();
  auto r = c->commit({group("cove-sync", {{"d", true}})}, 1,
                     [](const std::string& p) { return p == "d/theirs.txt" || p == "d/sub"; });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(head_files(repo_), "d/mine.txt\n");
}

TEST_F(CommitterTest, WholeTreeWalkFromTheRoot) {
  write(file("keep.txt"), "k\n");
  write(file("gone.txt"), "g\n");
  commit_all(repo_);
  write(file("keep.txt"), "k2\n");
  ::unlink(file("gone.txt").c_str());
  write(file("new/n.txt"), "n\n");
  auto c = open();
  commit(*c, {group("cove-sync", {{"", true}})});
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
  EXPECT_EQ(head_files(repo_), "keep.txt\nnew/n.txt\n");
}

TEST_F(CommitterTest, NestedRepositoryIsLeftOut) {
  commit_all(repo_);
  write(file("vendor/lib/.git/HEAD"), "ref: refs/heads/main\n");
  write(file("vendor/lib/code.c"), "x\n");
  write(file("vendor/own.c"), "y\n");
  auto c = open();
  commit(*c, {group("alice", {{"vendor", true}})});
  EXPECT_EQ(head_files(repo_), "vendor/own.c\n");
}

TEST_F(CommitterTest, UnbornBranchGetsItsFirstCommit) {
  write(file("first.txt"), "1\n");
  auto c = open();
  auto out = commit(*c, {group("alice", {{"first.txt"}})}, 3);
  ASSERT_EQ(out.commits.size(), 1u);
  EXPECT_EQ(out.branch, "refs/heads/main");
  EXPECT_EQ(git(repo_, "log --format=%an HEAD"), "alice\n");
  auto seq = c->committed_seq();
  ASSERT_TRUE(seq);
  EXPECT_EQ(seq->value_or(0), 3u);
}

TEST_F(CommitterTest, BuildsOnCommitsMadeByOthers) {
  write(file("a.txt"), "1\n");
  commit_all(repo_);
  auto c = open();
  write(file("a.txt"), "2\n");
  commit(*c, {group("alice", {{"a.txt"}})}, 10);
  write(file("b.txt"), "by a person\n");
  commit_all(repo_, "person");
  write(file("a.txt"), "3\n");
  commit(*c, {group("alice", {{"a.txt"}})}, 11);
  EXPECT_EQ(git(repo_, "log --format=%s"), "alice: update a.txt\nperson\nalice: update a.txt\nseed\n");
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(CommitterTest, CommittedSeqIsTheNewestOfThisSyncId) {
  write(file("a.txt"), "1\n");
  commit_all(repo_);
  auto c = open();
  EXPECT_FALSE(c->committed_seq()->has_value());
  write(file("a.txt"), "2\n");
  commit(*c, {group("alice", {{"a.txt"}})}, 41);
  write(file("a.txt"), "3\n");
  commit(*c, {group("alice", {{"a.txt"}})}, 42);
  // A commit with another node's trailer on top does not count.
  sh("cd " + quote(repo_) + " && git commit -q --allow-empty -m 'x' -m 'Cove-Journal-Seq: 999' -m 'Cove-Sync: other@node'");
  EXPECT_EQ(c->committed_seq()->value_or(0), 42u);
}

TEST_F(CommitterTest, ScanFindsEveryDifferenceButIgnoredFiles) {
  write(file(".gitignore"), "*.tmp\n");
  write(file("keep.txt"), "k\n");
  write(file("mod.txt"), "1\n");
  write(file("del.txt"), "d\n");
  commit_all(repo_);
  write(file("mod.txt"), "2\n");
  ::unlink(file("del.txt").c_str());
  write(file("new/dir/file.txt"), "n\n");
  write(file("x.tmp"), "t\n");
  auto c = open();
  auto paths = c->scan();
  ASSERT_TRUE(paths) << paths.error().message();
  EXPECT_EQ(*paths, (std::vector<std::string>{"del.txt", "mod.txt", "new/dir/file.txt"}));
  std::vector<PathChange> changes;
  for (const auto& p : *paths) {
    changes.push_back({p});
  }
  commit(*c, {group("cove-sync", changes)});
  EXPECT_EQ(head_tree(repo_), workdir_tree(repo_));
}

TEST_F(CommitterTest, StaleRefLockOfADeadProcessIsCleared) {
  write(file("a.txt"), "1\n");
  commit_all(repo_);
  auto c = open();
  // A fresh lock belongs to a live git: refuse, and leave it alone.
  std::string lock = repo_ + "/.git/refs/heads/main.lock";
  write(lock, "");
  write(file("a.txt"), "2\n");
  auto r = c->commit({group("alice", {{"a.txt"}})}, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EBUSY);
  EXPECT_TRUE(fs::exists(lock));
  // A minute-old one was left by a kill -9 during a ref update.
  sh("touch -d '1 minute ago' " + quote(lock));
  commit(*c, {group("alice", {{"a.txt"}})});
  EXPECT_FALSE(fs::exists(lock));
  EXPECT_EQ(git(repo_, "show HEAD:a.txt"), "2\n");
}

TEST_F(CommitterTest, AuthorNamesAreSanitized) {
  auto a = covesync::author_for("eve <x@y>", "", "team one");
  EXPECT_EQ(a.name, "eve _x@y_");
  EXPECT_EQ(a.email, "eve-_x-y_@team-one.cove");
  EXPECT_EQ(covesync::author_for("", "0123456789abcdef", "t").name, "0123456789ab");
  EXPECT_EQ(covesync::author_for("", "", "t").name, "cove-sync");
}

TEST(CommittablePath, Rules) {
  using covesync::committable_path;
  EXPECT_TRUE(committable_path("a/b.txt"));
  EXPECT_TRUE(committable_path(".gitignore"));
  EXPECT_TRUE(committable_path(".github/workflows/x.yml"));
  EXPECT_FALSE(committable_path(".git"));
  EXPECT_FALSE(committable_path(".git/config"));
  EXPECT_FALSE(committable_path("a/.Git/x"));
  EXPECT_FALSE(committable_path(".worktrees/s/a"));
  EXPECT_TRUE(committable_path("x/.worktrees/a"));
  EXPECT_FALSE(committable_path(""));
  EXPECT_FALSE(committable_path("/abs"));
  EXPECT_FALSE(committable_path("a/../b"));
  EXPECT_FALSE(committable_path("a//b"));
}

}  // namespace
