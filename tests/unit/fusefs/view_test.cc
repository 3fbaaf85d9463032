#include "fusefs/view.h"

#include <gtest/gtest.h>

namespace {

const policy::Policy& sample() {
  static policy::Policy p = *policy::load_policy(std::string(COVE_SOURCE_DIR) + "/docker/policy.json");
  return p;
}

fusefs::Caller container(const std::string& role, const std::string& team = "alpha") {
  fusefs::Caller c;
  c.container = true;
  c.container_id = "x";
  c.role = role;
  c.team = team;
  return c;
}

TEST(Views, AgentWritesExceptProtectedGitPaths) {
  fusefs::Views v(&sample(), "alpha", true);
  auto agent = container("agent");
  EXPECT_EQ(v.access(agent, "src/app.ts"), fusefs::Access::kReadWrite);
  EXPECT_EQ(v.access(agent, ".git/hooks/pre-commit"), fusefs::Access::kReadOnly);
  EXPECT_EQ(v.access(agent, ".git/config"), fusefs::Access::kReadOnly);
  EXPECT_EQ(v.access(agent, ".git/HEAD"), fusefs::Access::kReadWrite);
  EXPECT_FALSE(v.hidden(agent, ".env"));
}

TEST(Views, PreviewReadsAndDoesNotSeeSecrets) {
  fusefs::Views v(&sample(), "alpha", true);
  auto preview = container("preview");
  EXPECT_EQ(v.access(preview, "src/app.ts"), fusefs::Access::kReadOnly);
  EXPECT_TRUE(v.hidden(preview, ".env"));
  EXPECT_TRUE(v.hidden(preview, "web/.env.local"));
  EXPECT_TRUE(v.hidden_for_anyone("web/.env"));
  EXPECT_FALSE(v.hidden_for_anyone("web/app.ts"));
}

TEST(Views, OtherTeamsAndHostCallers) {
  fusefs::Views v(&sample(), "alpha", true);
  EXPECT_EQ(v.access(container("agent", "beta"), "src"), fusefs::Access::kNone);
  fusefs::Caller host;
  EXPECT_EQ(v.access(host, ".git/hooks/x"), fusefs::Access::kReadWrite);
  fusefs::Views ro(&sample(), "alpha", false);
  EXPECT_EQ(ro.access(host, "src"), fusefs::Access::kReadOnly);
}

}  // namespace
