#include "tools/cli/json_path.h"

#include <gtest/gtest.h>

namespace {

using Json = nlohmann::ordered_json;

TEST(JsonPath, ResolvesKeysWithDotsAgainstTheDocument) {
  Json doc = Json::parse(R"({"roles": {"team": {}, "team.agent": {"caps": ["a", "b"]}}})");
  auto rp = cli::resolve_path(doc, "roles.team.agent.caps[1]");
  ASSERT_TRUE(rp.exists);
  ASSERT_EQ(rp.steps.size(), 4u);
  EXPECT_EQ(std::get<std::string>(rp.steps[1]), "team.agent");
  EXPECT_EQ(std::get<size_t>(rp.steps[3]), 1u);
  EXPECT_EQ(cli::format_path(rp.steps), "roles.team.agent.caps[1]");
  EXPECT_EQ(*cli::node_at(doc, rp.steps), "b");
}

TEST(JsonPath, AMissingKeyIsTheLastStep) {
  Json doc = Json::parse(R"({"roles": {"a": {"x": 1}}})");
  auto rp = cli::resolve_path(doc, "roles.a.backend");
  EXPECT_FALSE(rp.exists);
  ASSERT_EQ(rp.steps.size(), 3u);
  EXPECT_EQ(std::get<std::string>(rp.steps[2]), "backend");
  EXPECT_TRUE(cli::resolve_path(doc, "roles.a[").steps.empty());
}

TEST(JsonPath, EraseRemovesMembersAndElements) {
  Json doc = Json::parse(R"({"a": [1, 2, 3], "b": {"c": 1}})");
  EXPECT_TRUE(cli::erase_at(doc, cli::resolve_path(doc, "a[1]").steps));
  EXPECT_TRUE(cli::erase_at(doc, cli::resolve_path(doc, "b.c").steps));
  EXPECT_EQ(doc.dump(), R"({"a":[1,3],"b":{}})");
  EXPECT_FALSE(cli::erase_at(doc, cli::resolve_path(doc, "b.c").steps));
}

}  // namespace
