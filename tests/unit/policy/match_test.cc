#include "policy/match.h"

#include <gtest/gtest.h>

namespace {

using Json = nlohmann::ordered_json;

policy::Policy policy_with(const std::string& unmatched) {
  auto p = policy::parse_policy(R"({"roles": {"agent": {"backend": "/r"}, "preview": {"backend": "/r"}}, "unmatched": )" +
                                    unmatched + "}",
                                "p.json");
  EXPECT_TRUE(p) << (p ? "" : p.error().message());
  return *p;
}

Json spec(const std::string& env, const std::string& annotations = "{}") {
  return Json::parse(R"({"process": {"env": )" + env + R"(}, "annotations": )" + annotations + "}");
}

TEST(RoleMatch, EnvAsDocker2010PassesIt) {
  auto p = policy_with(R"({"action": "refuse"})");
  auto s = policy::select_role(p, spec(R"(["COVE_ROLE=agent", "COVE_TEAM=alpha", "COVE_AGENT=a1"])"), std::nullopt);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->role->name, "agent");
  EXPECT_EQ(s->id.team, "alpha");
  EXPECT_EQ(s->id.agent, "a1");
  EXPECT_EQ(s->id.role_source, "env COVE_ROLE");
}

TEST(RoleMatch, AnnotationBeatsEnvAndRuntimeArgsBeatBoth) {
  auto p = policy_with(R"({"action": "refuse"})");
  Json sp = spec(R"(["COVE_ROLE=agent"])", R"({"dev.cove.role": "preview", "dev.cove.team": "beta"})");
  auto a = policy::select_role(p, sp, std::nullopt);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->role->name, "preview");
  EXPECT_EQ(a->id.team, "beta");
  auto f = policy::select_role(p, sp, std::string("agent"));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->role->name, "agent");
  EXPECT_EQ(f->id.role_source, "runtime-args");
}

TEST(RoleMatch, UnmatchedActions) {
  auto refuse = policy::select_role(policy_with(R"({"action": "refuse"})"), spec("[]"), std::nullopt);
  ASSERT_FALSE(refuse);
  EXPECT_NE(refuse.error().message().find("unmatched.action"), std::string::npos);
  auto pass = policy::select_role(policy_with(R"({"action": "passthrough"})"), spec("[]"), std::nullopt);
  ASSERT_TRUE(pass);
  EXPECT_EQ(pass->role, nullptr);
  auto def = policy::select_role(policy_with(R"({"action": "role", "role": "preview"})"), spec("[]"), std::nullopt);
  ASSERT_TRUE(def);
  EXPECT_EQ(def->role->name, "preview");
}

TEST(RoleMatch, UnknownRoleAndBadNamesAreRefusedNamingTheSource) {
  auto p = policy_with(R"({"action": "refuse"})");
  auto unknown = policy::select_role(p, spec(R"(["COVE_ROLE=admin"])"), std::nullopt);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find("\"admin\" (from env COVE_ROLE)"), std::string::npos);
  EXPECT_NE(unknown.error().message().find("agent, preview"), std::string::npos);
  auto team = policy::select_role(p, spec(R"(["COVE_ROLE=agent", "COVE_TEAM=../../etc"])"), std::nullopt);
  ASSERT_FALSE(team);
  EXPECT_NE(team.error().message().find("COVE_TEAM"), std::string::npos);
}

}  // namespace
