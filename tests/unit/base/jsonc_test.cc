#include "base/jsonc.h"

#include <gtest/gtest.h>

namespace {

TEST(Jsonc, StripsLineAndBlockCommentsButNotStrings) {
  auto r = base::parse_jsonc(R"({
    // a comment
    "a": "http://x//y", /* block
    comment */ "b": 2
  })", "t.json");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["a"], "http://x//y");
  EXPECT_EQ((*r)["b"], 2);
}

TEST(Jsonc, ErrorNamesFileLineAndColumn) {
  auto r = base::parse_jsonc("{\n  \"a\": 1,\n  \"b\": ]\n}", "policy.json");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("policy.json:3:", 0), 0u) << r.error().message();
}

TEST(Jsonc, TruncatedDocumentIsAnError) {
  auto r = base::parse_json("{\"ociVersion\": \"1.0", "config.json");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("config.json"), std::string::npos);
}

TEST(Jsonc, KeepsKeyOrder) {
  auto r = base::parse_json(R"({"z":1,"a":2,"m":3})", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->dump(), R"({"z":1,"a":2,"m":3})");
}

}  // namespace
