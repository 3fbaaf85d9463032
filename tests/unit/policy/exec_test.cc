#include "policy/exec.h"

#include <gtest/gtest.h>

namespace {

using policy::Json;

const policy::Policy& sample() {
  static policy::Policy p = *policy::load_policy(std::string(COVE_SOURCE_DIR) + "/docker/policy.json");
  return p;
}

const std::vector<std::string> kDockerDefaultCaps = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

Json docker_exec_process(const std::vector<std::string>& caps) {
  Json p = Json::parse(R"({"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/bin"],"cwd":"/"})");
  for (const char* set : {"bounding", "effective", "permitted"}) {
    p["capabilities"][set] = caps;
  }
  return p;
}

policy::CreatedWith created() { return policy::CreatedWith{kDockerDefaultCaps, "", ""}; }

TEST(ExecClamp, PlainDockerExecIsClampedToTheRole) {
  Json p = docker_exec_process(kDockerDefaultCaps);
  auto d = policy::clamp_exec_process(*sample().find_role("preview"), created(), p);
  ASSERT_FALSE(d.refused()) << d.refusal_message();
  EXPECT_EQ(p["capabilities"]["bounding"], Json::array({"CAP_NET_BIND_SERVICE"}));
  EXPECT_EQ(p["user"]["uid"], 1000);
  EXPECT_EQ(p["noNewPrivileges"], true);
}

TEST(ExecClamp, PrivilegedExecIsRefused) {
  std::vector<std::string> all = kDockerDefaultCaps;
  all.push_back("CAP_SYS_ADMIN");
  Json p = docker_exec_process(all);
  auto d = policy::clamp_exec_process(*sample().find_role("agent"), created(), p);
  ASSERT_TRUE(d.refused());
  EXPECT_NE(d.refusal_message().find("CAP_SYS_ADMIN"), std::string::npos);
  EXPECT_NE(d.refusal_message().find("privileged exec"), std::string::npos);
}

TEST(ExecClamp, UnconfinedApparmorIsReset) {
  Json p = docker_exec_process(kDockerDefaultCaps);
  p["apparmorProfile"] = "unconfined";
  auto d = policy::clamp_exec_process(*sample().find_role("agent"), policy::CreatedWith{kDockerDefaultCaps, "docker-default", ""}, p);
  EXPECT_EQ(p["apparmorProfile"], "docker-default");
}

oci::Invocation inv(std::vector<std::string> argv) { return *oci::parse_invocation(argv); }

TEST(ExecFlags, PrivilegeRaisingFlagsAreRefused) {
  const auto& agent = *sample().find_role("agent");
  EXPECT_TRUE(policy::check_exec_flags(agent, inv({"runc", "exec", "--cap", "CAP_SYS_ADMIN", "x", "sh"})).refused());
  EXPECT_FALSE(policy::check_exec_flags(agent, inv({"runc", "exec", "--cap", "CAP_KILL", "x", "sh"})).refused());
  EXPECT_TRUE(policy::check_exec_flags(agent, inv({"runc", "exec", "--no-new-privs=false", "x", "sh"})).refused());
  EXPECT_TRUE(policy::check_exec_flags(agent, inv({"runc", "exec", "-u", "0", "x", "sh"})).refused());
  EXPECT_FALSE(policy::check_exec_flags(agent, inv({"runc", "exec", "-u", "1000:1000", "x", "sh"})).refused());
  EXPECT_TRUE(policy::check_exec_flags(agent, inv({"runc", "exec", "--apparmor", "unconfined", "x", "sh"})).refused());
  EXPECT_FALSE(policy::check_exec_flags(agent, inv({"runc", "exec", "-t", "x", "sh"})).refused());
}

TEST(UpdateCheck, RaisesAreRefusedLowersPass) {
  const auto& agent = *sample().find_role("agent");
  auto big = policy::check_update_resources(agent, Json::parse(R"({"memory":{"limit":8589934592}})"));
  ASSERT_TRUE(big.refused());
  EXPECT_NE(big.refusal_message().find("roles.agent.memory.limit"), std::string::npos);
  EXPECT_NE(big.refusal_message().find("8GiB"), std::string::npos);
  EXPECT_FALSE(policy::check_update_resources(agent, Json::parse(R"({"memory":{"limit":1073741824}})")).refused());
  EXPECT_TRUE(policy::check_update_resources(agent, Json::parse(R"({"memory":{"limit":-1}})")).refused());
  EXPECT_TRUE(policy::check_update_resources(agent, Json::parse(R"({"pids":{"limit":100000}})")).refused());
  EXPECT_TRUE(policy::check_update_resources(agent, Json::parse(R"({"cpu":{"quota":200000,"period":100000}})")).refused());
  EXPECT_FALSE(policy::check_update_resources(agent, Json::parse(R"({"cpu":{"quota":50000,"period":100000}})")).refused());
  // Docker's `docker update --memory` document: zero fields mean "unchanged".
  EXPECT_FALSE(policy::check_update_resources(
                   agent, Json::parse(R"({"memory":{"limit":1073741824,"reservation":0,"swap":0},"cpu":{"shares":0,"quota":0,"period":0},"pids":{"limit":0}})"))
                   .refused());
}

TEST(UpdateCheck, Flags) {
  const auto& agent = *sample().find_role("agent");
  EXPECT_TRUE(policy::check_update_flags(agent, inv({"runc", "update", "--memory", "8g", "x"})).refused());
  EXPECT_FALSE(policy::check_update_flags(agent, inv({"runc", "update", "--memory=1g", "x"})).refused());
  EXPECT_TRUE(policy::check_update_flags(agent, inv({"runc", "update", "--pids-limit", "-1", "x"})).refused());
  EXPECT_TRUE(policy::check_update_flags(agent, inv({"runc", "update", "--cpu-quota", "300000", "x"})).refused());
}

}  // namespace
