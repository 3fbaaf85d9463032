#include "sync/host_watch.h"

#include <poll.h>
#include <unistd.h>

#include <set>

#include "fixture.h"

namespace {

using covesync::HostWatch;
using namespace synctest;

std::set<std::string> collect(HostWatch& w, const std::set<std::string>& want, std::set<std::string>* deep = nullptr) {
  std::set<std::string> got;
  wait_for([&] {
    pollfd p{w.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    for (auto& c : w.drain().changes) {
      if (c.deep && deep != nullptr) {
        deep->insert(c.path);
      }
      got.insert(c.path);
    }
    for (const auto& x : want) {
      if (got.count(x) == 0) {
        return false;
      }
    }
    return true;
  }, 5);
  return got;
}

/// A temp tree with one file written before the watch is opened.
class HostWatchTest : public ::testing::Test {
 protected:
  /// Writes `first` (relative) and opens the watch on the tree.
  void open(const std::string& first, HostWatch::SkipDir skip = nullptr) {
    write(t / first, "1");
    auto opened = HostWatch::open(t.path(), std::move(skip));
    ASSERT_TRUE(opened) << opened.error().message();
    w = std::move(*opened);
  }

  TempDir t;
  std::unique_ptr<HostWatch> w;
};

TEST_F(HostWatchTest, ReportsEditsNewDirectoriesAndFilesInThem) {
  fs::create_directories(t.path() + "/.git/objects");
  fs::create_directories(t.path() + "/node_modules/x");
  ASSERT_NO_FATAL_FAILURE(open("src/a.txt", [](const std::string& rel) { return rel == "node_modules"; }));
  EXPECT_EQ(w->watches(), 2u);  // root and src; not .git, not the ignored directory
  write(t.path() + "/src/a.txt", "2");
  write(t.path() + "/.git/objects/x", "ignored");
  write(t.path() + "/node_modules/x/y", "ignored");
  std::set<std::string> deep;
  auto got = collect(*w, {"src/a.txt"});
  EXPECT_EQ(got.count(".git/objects/x"), 0u);
  EXPECT_EQ(got.count("node_modules/x/y"), 0u);
  // A new directory is watched at once, and reported deep for what was created before that.
  fs::create_directories(t.path() + "/new/sub");
  got = collect(*w, {"new"}, &deep);
  EXPECT_EQ(deep.count("new"), 1u);
  write(t.path() + "/new/sub/later.txt", "x");
  got = collect(*w, {"new/sub/later.txt"});
  EXPECT_EQ(got.count("new/sub/later.txt"), 1u);
}

TEST_F(HostWatchTest, ReadingAFileIsNoEditButChmodIs) {
  ASSERT_NO_FATAL_FAILURE(open("a.txt"));
  write(t.path() + "/a.txt", "2");
  collect(*w, {"a.txt"});
  // Past the timestamp granularity of the write, so the read's access time is newer.
  ::usleep(20 * 1000);
  std::string text = read(t.path() + "/a.txt");
  ASSERT_EQ(text, "2");
  struct stat st {};
  ASSERT_EQ(::stat((t.path() + "/a.txt").c_str(), &st), 0);
  ASSERT_GT(st.st_atim.tv_sec * 1000000000LL + st.st_atim.tv_nsec, st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec)
      << "the read did not update the access time (noatime mount?)";
  write(t.path() + "/sentinel", "x");
  auto got = collect(*w, {"sentinel"});
  EXPECT_EQ(got.count("a.txt"), 0u) << "an access-time update was reported as an edit";
  ASSERT_EQ(::chmod((t.path() + "/a.txt").c_str(), 0755), 0);
  got = collect(*w, {"a.txt"});
  EXPECT_EQ(got.count("a.txt"), 1u);
}

TEST_F(HostWatchTest, FollowsMovedDirectories) {
  ASSERT_NO_FATAL_FAILURE(open("d/f.txt"));
  fs::rename(t.path() + "/d", t.path() + "/e");
  std::set<std::string> deep;
  collect(*w, {"d", "e"}, &deep);
  EXPECT_EQ(deep.count("e"), 1u);
  write(t.path() + "/e/g.txt", "2");
  auto got = collect(*w, {"e/g.txt"});
  EXPECT_EQ(got.count("e/g.txt"), 1u);
  EXPECT_EQ(got.count("d/g.txt"), 0u);
}

}  // namespace
