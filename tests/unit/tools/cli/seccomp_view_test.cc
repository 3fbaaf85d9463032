#include "tools/cli/seccomp_view.h"

#include <gtest/gtest.h>

#include "policy/seccomp.h"
#include "tools/cli/docker_default.h"

namespace {

using Strings = std::vector<std::string>;

TEST(SeccompView, DockersDefaultAsAReviewerSeesIt) {
  cli::SeccompView docker(cli::docker_default_seccomp());
  EXPECT_EQ(docker.access("read"), cli::SyscallAccess::kAllowed);
  EXPECT_EQ(docker.access("ptrace"), cli::SyscallAccess::kAllowed);
  EXPECT_EQ(docker.access("clone"), cli::SyscallAccess::kConditional);
  EXPECT_EQ(docker.access("clone3"), cli::SyscallAccess::kDenied);
  EXPECT_EQ(docker.access("mount"), cli::SyscallAccess::kDenied);
  EXPECT_EQ(docker.default_action_text(), "fail with EPERM");
  EXPECT_EQ(cli::docker_default_capabilities().size(), 14u);
}

TEST(SeccompView, TheBaselineIsStricterThanDockerBySixAndLooserByNone) {
  cli::SeccompView docker(cli::docker_default_seccomp());
  cli::SeccompView base(policy::baseline_profile({}));
  auto d = cli::compare_seccomp(docker, base);
  EXPECT_EQ(d.stricter,
            (Strings{"chroot", "io_uring_enter", "io_uring_register", "io_uring_setup", "modify_ldt", "ptrace"}));
  EXPECT_TRUE(d.looser.empty());
  auto reverse = cli::compare_seccomp(base, docker);
  EXPECT_EQ(reverse.looser, d.stricter);
}

TEST(SeccompView, ADefaultAllowProfileIsLooserThanAnyFilter) {
  cli::SeccompView none(nlohmann::ordered_json{});
  EXPECT_TRUE(none.default_allows());
  auto d = cli::compare_seccomp(cli::SeccompView(cli::docker_default_seccomp()), none);
  EXPECT_NE(std::find(d.looser.begin(), d.looser.end(), "mount"), d.looser.end());
  EXPECT_NE(std::find(d.looser.begin(), d.looser.end(), "clone"), d.looser.end());
  EXPECT_TRUE(d.stricter.empty());
}

}  // namespace
