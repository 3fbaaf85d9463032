#include "policy/policy.h"

#include <gtest/gtest.h>

namespace {

const std::string kSample = std::string(COVE_SOURCE_DIR) + "/docker/policy.json";

std::string minimal(const std::string& role_body) {
  return R"({"roles": {"agent": {"backend": "/usr/bin/runc")" + role_body + "}}}";
}

std::string error_of(const std::string& text) {
  auto r = policy::parse_policy(text, "p.json");
  return r ? std::string("(no error)") : r.error().message();
}

TEST(PolicyFile, SamplePolicyLoadsWithTheDesignLimits) {
  auto p = policy::load_policy(kSample);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->role_names(), "agent, preview, sync");
  const auto* agent = p->find_role("agent");
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(agent->memory_limit, 2LL << 30);
  EXPECT_EQ(agent->memory_reservation, 512LL << 20);
  EXPECT_DOUBLE_EQ(agent->cpu->cpus, 1.0);
  EXPECT_EQ(agent->pids, 512);
  EXPECT_EQ(agent->user->uid, 1000u);
  EXPECT_FALSE(agent->workspace->read_only);
  const auto* preview = p->find_role("preview");
  EXPECT_EQ(preview->memory_limit, 1LL << 30);
  EXPECT_DOUBLE_EQ(preview->cpu->cpus, 0.5);
  EXPECT_TRUE(preview->workspace->read_only);
  EXPECT_TRUE(preview->readonly_rootfs);
  const auto* sync = p->find_role("sync");
  EXPECT_EQ(sync->memory_limit, 128LL << 20);
  EXPECT_EQ(sync->pids, 128);
  EXPECT_EQ(p->digest.rfind("sha256:", 0), 0u);
  EXPECT_EQ(p->digest.size(), 7u + 64u);
}

TEST(PolicyFile, UnknownKeyIsNamedWithItsPath) {
  EXPECT_EQ(error_of(minimal(R"(, "memory": {"limt": "1GiB"})")), "policy p.json: roles.agent.memory.limt: unknown key");
  EXPECT_EQ(error_of(R"({"roles": {"a": {"backend": "/r"}}, "auditlog": "/x"})"),
            "policy p.json: auditlog: unknown key");
}

TEST(PolicyFile, BadValuesNameFieldAndReason) {
  EXPECT_NE(error_of(minimal(R"(, "capabilities": ["CAP_SYS_ADMN"])")).find("roles.agent.capabilities[0]: unknown capability \"CAP_SYS_ADMN\""),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "seccomp": {"deny": ["mount", "not_a_syscall"]})")).find("roles.agent.seccomp.deny[1]: unknown syscall \"not_a_syscall\""),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "memory": {"limit": "2 gigs"})")).find("roles.agent.memory.limit"), std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "memory": {"limit": "1GiB", "reservation": "2GiB"})")).find("exceeds limit"),
            std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "pids": 0)")).find("roles.agent.pids: 0 is out of range"), std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "workspace": {"mode": "rwx"})")).find("roles.agent.workspace.mode"), std::string::npos);
  EXPECT_NE(error_of(R"({"roles": {"agent": {"backend": "runc"}}})").find("must be an absolute path"), std::string::npos);
  EXPECT_NE(error_of(minimal(R"(, "mounts": {"deny": ["/a"], "allow": ["/a"]})")).find("both allowed and denied"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"roles": {"agent": {"backend": "/r"}}, "unmatched": {"action": "role", "role": "x"}})")
                .find("unmatched.role: \"x\" is not a role"),
            std::string::npos);
}

TEST(PolicyFile, SyntaxErrorNamesFileLineAndColumn) {
  auto r = policy::parse_policy("{\n \"roles\": {,\n}", "/etc/cove/policy.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("/etc/cove/policy.json:2:", 0), 0u) << r.error().message();
}

TEST(PolicyFile, Sizes) {
  EXPECT_EQ(*policy::parse_size("2GiB"), 2LL << 30);
  EXPECT_EQ(*policy::parse_size("512m"), 512LL << 20);
  EXPECT_EQ(*policy::parse_size("4096"), 4096);
  EXPECT_FALSE(policy::parse_size("0"));
  EXPECT_FALSE(policy::parse_size("1.5GiB"));
  EXPECT_FALSE(policy::parse_size("9999999999999TiB"));
  EXPECT_FALSE(policy::parse_size("12 MiB"));
}

}  // namespace
