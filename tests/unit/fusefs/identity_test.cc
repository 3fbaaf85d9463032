#include "fusefs/identity.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/records.h"

namespace {

TEST(CgroupPaths, SystemdFormBecomesAScopePath) {
  EXPECT_EQ(fusefs::cgroup_dir_of("/docker/abc"), "/docker/abc");
  EXPECT_EQ(fusefs::cgroup_dir_of("system.slice:docker:abc"), "/system.slice/docker-abc.scope");
  EXPECT_EQ(fusefs::cgroup_dir_of("kubepods-besteffort-podx.slice:cri-containerd:abc"),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podx.slice/cri-containerd-abc.scope");
}

TEST(CgroupPaths, ParsesV1AndV2Lines) {
  auto p = fusefs::cgroup_paths("12:pids:/docker/abc\n4:memory:/docker/abc\n0::/docker/abc\n");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "/docker/abc");
  EXPECT_EQ(p[2], "/docker/abc");
}

TEST(Identifier, MapsCgroupsToRecordsIncludingSubCgroups) {
  char tmpl[] = "/tmp/cove-id-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  base::ContainerRecord r;
  r.id = "abc";
  r.team = "alpha";
  r.role = "preview";
  r.agent = "a1";
  r.cgroups_path = "/docker/abc";
  ASSERT_TRUE(base::save_record(dir, r));
  fusefs::Identifier ids(dir);
  // First identify() loads the records.
  (void)ids.identify(1);
  auto c = ids.identify_cgroup("4:memory:/docker/abc\n");
  EXPECT_TRUE(c->container);
  EXPECT_EQ(c->role, "preview");
  EXPECT_EQ(c->team, "alpha");
  EXPECT_TRUE(ids.identify_cgroup("0::/docker/abc/sub\n")->container);
  EXPECT_FALSE(ids.identify_cgroup("0::/docker/abcdef\n")->container);
  EXPECT_FALSE(ids.identify_cgroup("0::/user.slice/session-1.scope\n")->container);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
