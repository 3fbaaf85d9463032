#include "base/records.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <cstdlib>

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/cove-state-XXXXXX";
  return ::mkdtemp(tmpl);
}

TEST(State, RecordRoundTrip) {
  std::string dir = temp_dir();
  base::ContainerRecord r;
  r.id = "abc";
  r.team = "alpha";
  r.role = "agent";
  r.agent = "a1";
  r.backend = "/usr/bin/runc";
  r.cgroups_path = "/docker/abc";
  r.created_bounding = {"CAP_CHOWN"};
  ASSERT_TRUE(base::save_record(dir, r));
  auto got = base::load_record(dir, "abc");
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->team, "alpha");
  EXPECT_EQ((*got)->cgroups_path, "/docker/abc");
  EXPECT_EQ((*got)->created_bounding, std::vector<std::string>{"CAP_CHOWN"});
  struct stat st {};
  ASSERT_EQ(::stat(base::record_path(dir, "abc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto none = base::load_record(dir, "nosuch");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  std::system(("rm -rf " + dir).c_str());
}

TEST(State, IdsThatAreNotFileNamesAreRejected) {
  EXPECT_FALSE(base::valid_container_id("../etc/passwd"));
  EXPECT_FALSE(base::valid_container_id("a/b"));
  EXPECT_FALSE(base::valid_container_id(".hidden"));
  EXPECT_TRUE(base::valid_container_id("98e9ce39f0025269f20218686e03a945aa733b1254153b5122b4a393dc78ae91"));
}

TEST(State, SweepRemovesOnlyOldRecordsOfGoneContainers) {
  std::string dir = temp_dir();
  std::string root = dir + "/root";
  ::mkdir(root.c_str(), 0700);
  ::mkdir((root + "/alive").c_str(), 0700);
  for (const char* id : {"alive", "gone", "young"}) {
    base::ContainerRecord r;
    r.id = id;
    r.root = root;
    ASSERT_TRUE(base::save_record(dir, r));
  }
  utimbuf old{1000, 1000};
  ::utime(base::record_path(dir, "alive").c_str(), &old);
  ::utime(base::record_path(dir, "gone").c_str(), &old);
  EXPECT_EQ(base::sweep_records(dir, 60), 1u);
  EXPECT_TRUE(base::load_record(dir, "alive")->has_value());
  EXPECT_FALSE(base::load_record(dir, "gone")->has_value());
  EXPECT_TRUE(base::load_record(dir, "young")->has_value());
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
