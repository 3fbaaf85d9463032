#include "tools/cli/policy_bpf.h"

#include <gtest/gtest.h>

#include "policy/seccomp.h"

namespace {

using Json = nlohmann::ordered_json;

TEST(PolicyBpf, CompilingIsDeterministic) {
  Json profile = policy::baseline_profile({});
  auto a = cli::compile_seccomp(profile, cli::BpfFormat::kBpf);
  auto b = cli::compile_seccomp(profile, cli::BpfFormat::kBpf);
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size() % 8, 0u);  // struct sock_filter is 8 bytes
  EXPECT_GT(a->size(), 8u * 100);
}

TEST(PolicyBpf, PfcAllowsWhatTheProfileAllowsAndNothingElse) {
  auto pfc = cli::compile_seccomp(policy::baseline_profile({"mknod"}), cli::BpfFormat::kPfc);
  ASSERT_TRUE(pfc) << pfc.error().message();
  EXPECT_NE(pfc->find("filter for syscall \"read\""), std::string::npos);
  EXPECT_EQ(pfc->find("filter for syscall \"ptrace\""), std::string::npos);
  EXPECT_EQ(pfc->find("filter for syscall \"mknod\""), std::string::npos);
  EXPECT_NE(pfc->find("filter for syscall \"clone3\""), std::string::npos);  // its own ENOSYS
  EXPECT_NE(pfc->find("action ERRNO(38)"), std::string::npos);
  EXPECT_NE(pfc->find("filter for arch x86_64"), std::string::npos);
  EXPECT_NE(pfc->find("filter for arch x32"), std::string::npos);
}

TEST(PolicyBpf, ConditionsOnOneArgumentBecomeSeparateRules) {
  Json profile = Json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                 {"names": ["not_a_syscall_at_all", "read"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["write"], "action": "SCMP_ACT_ERRNO"}]})");
  auto pfc = cli::compile_seccomp(profile, cli::BpfFormat::kPfc);
  ASSERT_TRUE(pfc) << pfc.error().message();
  EXPECT_NE(pfc->find("filter for syscall \"personality\""), std::string::npos);
  EXPECT_NE(pfc->find("filter for syscall \"read\""), std::string::npos);
  EXPECT_EQ(pfc->find("filter for syscall \"write\""), std::string::npos);  // same as the default
}

TEST(PolicyBpf, UnknownActionsAndArchitecturesAreErrors) {
  auto bad_action = cli::compile_seccomp(Json::parse(R"({"defaultAction": "SCMP_ACT_PANIC"})"), cli::BpfFormat::kPfc);
  ASSERT_FALSE(bad_action);
  EXPECT_NE(bad_action.error().message().find("SCMP_ACT_PANIC"), std::string::npos);
  auto bad_arch = cli::compile_seccomp(
      Json::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]})"), cli::BpfFormat::kPfc);
  ASSERT_FALSE(bad_arch);
  EXPECT_NE(bad_arch.error().message().find("SCMP_ARCH_VAX"), std::string::npos);
}

}  // namespace
