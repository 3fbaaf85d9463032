#include "tools/cli/policy_explain.h"

#include <gtest/gtest.h>

#include <sstream>

#include "policy/policy.h"

namespace {

using Json = nlohmann::ordered_json;
using Strings = std::vector<std::string>;

policy::Policy sample() {
  auto p = policy::load_policy(std::string(COVE_SOURCE_DIR) + "/docker/policy.json");
  EXPECT_TRUE(p) << p.error().message();
  return *p;
}

TEST(PolicyExplain, AgentComparedWithDockersDefault) {
  auto p = sample();
  Json m = cli::explain_role(p, *p.find_role("agent"));
  EXPECT_EQ(m["seccomp"]["vsDocker"]["stricter"].get<Strings>(),
            (Strings{"chroot", "io_uring_enter", "io_uring_register", "io_uring_setup", "modify_ldt", "ptrace"}));
  EXPECT_TRUE(m["seccomp"]["vsDocker"]["looser"].empty());
  EXPECT_EQ(m["capabilities"]["kept"].size(), 8u);
  EXPECT_EQ(m["capabilities"]["droppedFromDocker"].get<Strings>(),
            (Strings{"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"}));
  EXPECT_TRUE(m["capabilities"]["beyondDocker"].empty());
  EXPECT_EQ(m["limits"]["memory"]["limit"], int64_t{2} << 30);
  EXPECT_EQ(m["limits"]["pids"], 512);
  EXPECT_EQ(m["workspace"]["mode"], "rw");
  EXPECT_EQ(m["seccomp"]["denied"][0]["name"], "clone3");
  EXPECT_EQ(m["seccomp"]["denied"][0]["action"], "fail with ENOSYS");
}

TEST(PolicyExplain, ARolesOwnDenialsAreStricterStill) {
  auto p = sample();
  Json m = cli::explain_role(p, *p.find_role("sync"));
  auto stricter = m["seccomp"]["vsDocker"]["stricter"].get<Strings>();
  EXPECT_EQ(stricter.size(), 9u);
  EXPECT_NE(std::find(stricter.begin(), stricter.end(), "mknod"), stricter.end());
  EXPECT_EQ(m["capabilities"]["droppedFromDocker"].size(), 14u);
}

TEST(PolicyExplain, ConditionsInWords) {
  Json rules = Json::parse(R"([[{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                               [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 3, "op": "SCMP_CMP_LE"}]])");
  EXPECT_EQ(cli::describe_conditions(rules), "arg0 & 0x7e020000 == 0 or arg0 == 8 and arg1 <= 3");
}

TEST(PolicyExplain, HumanOutputReadsWithoutTheFormat) {
  auto p = sample();
  std::ostringstream out;
  std::ostringstream err;
  cli::Io io{out, err, false};
  cli::print_explanation(cli::explain_policy(p, std::string("preview")), io, false);
  std::string s = out.str();
  EXPECT_NE(s.find("A container that names no role is refused."), std::string::npos) << s;
  EXPECT_NE(s.find("Role preview"), std::string::npos);
  EXPECT_EQ(s.find("Role agent"), std::string::npos);
  EXPECT_NE(s.find("the team's workspace (/run/cove/teams/<team>, served by covefs) at /workspace, read-only"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("hidden: **/.env, **/.env.*"), std::string::npos) << s;
  EXPECT_NE(s.find("Root fs        read-only"), std::string::npos) << s;
  EXPECT_NE(s.find("0.5 CPUs (quota 50000 us per 100000 us period)"), std::string::npos) << s;
  EXPECT_NE(s.find("looser by 0"), std::string::npos) << s;
  EXPECT_EQ(s.find("\033["), std::string::npos) << "colour without a terminal";
}

}  // namespace
