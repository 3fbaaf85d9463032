#include "sync/index_sync.h"

#include <sys/stat.h>

#include "fixture.h"
#include "sync/committer.h"

namespace {

using namespace synctest;

TEST(IndexSync, IndexFollowsTheCommitAndRunsNoRepositoryProgram) {
  TempDir t;
  std::string repo = new_repo(t);
  write(repo + "/a.txt", "1\n");
  write(repo + "/gone.txt", "g\n");
  commit_all(repo);
  // A program-valued fsmonitor and a hook that would leave a mark if git ran them.
  std::string mark = t.path() + "/ran";
  write(repo + "/.git/hooks/fsmon", "#!/bin/sh\ntouch " + mark + "\n");
  write(repo + "/.git/hooks/post-index-change", "#!/bin/sh\ntouch " + mark + "\n");
  ::chmod((repo + "/.git/hooks/fsmon").c_str(), 0755);
  ::chmod((repo + "/.git/hooks/post-index-change").c_str(), 0755);
  git(repo, "config core.fsmonitor .git/hooks/fsmon");

  write(repo + "/a.txt", "2\n");
  ::unlink((repo + "/gone.txt").c_str());
  write(repo + "/new/b.txt", "b\n");
  auto c = covesync::Committer::open({repo, "alpha", "alpha@test"});
  ASSERT_TRUE(c);
  auto out = (*c)->commit({covesync::ChangeGroup{covesync::author_for("alice", "", "alpha"),
                                                 {{"a.txt"}, {"gone.txt"}, {"new", true}}}},
                          1);
  ASSERT_TRUE(out && out->commits.size() == 1);
  // Before: the index still has the old entries, git sees staged reversals.
  EXPECT_NE(git(repo, "-c core.fsmonitor=false -c core.hooksPath=/dev/null status --porcelain"), "");
  std::vector<std::string> paths;
  for (auto& e : out->commits[0].edits) {
    paths.push_back(e.path);
  }
  auto r = covesync::sync_index(repo, paths);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(git(repo, "-c core.fsmonitor=false -c core.hooksPath=/dev/null status --porcelain"), "");
  EXPECT_FALSE(fs::exists(mark)) << "cove-sync's git ran a repository program";
}

}  // namespace
