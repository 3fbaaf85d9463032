#include "tools/cli/audit_log.h"

#include <gtest/gtest.h>

namespace {

using Json = nlohmann::ordered_json;

TEST(AuditLog, Rfc3339) {
  auto t = cli::parse_rfc3339("2026-11-24T06:17:00.5Z");
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_DOUBLE_EQ(*t, 1795501020.5);
  auto offset = cli::parse_rfc3339("2026-11-24T08:17:00+02:00");
  ASSERT_TRUE(offset);
  EXPECT_DOUBLE_EQ(*offset, 1795501020.0);
  auto nanos = cli::parse_rfc3339("2026-11-24T06:17:00.123456789Z");
  ASSERT_TRUE(nanos);
  EXPECT_NEAR(*nanos, 1795501020.123456789, 1e-6);
  EXPECT_FALSE(cli::parse_rfc3339("2026-11-24 06:17"));
  EXPECT_FALSE(cli::parse_rfc3339("2026-11-24T06:17:00"));
}

TEST(AuditLog, Since) {
  double now = 1795501020.0;
  EXPECT_DOUBLE_EQ(*cli::parse_since("90s", now), now - 90);
  EXPECT_DOUBLE_EQ(*cli::parse_since("15m", now), now - 900);
  EXPECT_DOUBLE_EQ(*cli::parse_since("2h", now), now - 7200);
  EXPECT_DOUBLE_EQ(*cli::parse_since("7d", now), now - 7 * 86400);
  EXPECT_DOUBLE_EQ(*cli::parse_since("2026-11-24", now), 1795478400.0);
  EXPECT_DOUBLE_EQ(*cli::parse_since("2026-11-24T06:17:00Z", now), now);
  auto bad = cli::parse_since("yesterday", now);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("duration"), std::string::npos);
}

TEST(AuditLog, Filters) {
  Json allow = Json::parse(R"({"time": "2026-11-24T06:17:00Z", "container": "abcdef", "role": "agent",
                               "decision": "allow", "futureField": 1})");
  Json refuse = Json::parse(R"({"time": "2026-11-24T07:00:00Z", "container": "xyz", "role": "preview",
                                "decision": "refuse"})");
  cli::AuditQuery q;
  EXPECT_TRUE(cli::audit_matches(allow, q));
  q.refused_only = true;
  EXPECT_FALSE(cli::audit_matches(allow, q));
  EXPECT_TRUE(cli::audit_matches(refuse, q));
  q = {};
  q.container = "abc";
  EXPECT_TRUE(cli::audit_matches(allow, q));
  EXPECT_FALSE(cli::audit_matches(refuse, q));
  q = {};
  q.role = "preview";
  EXPECT_FALSE(cli::audit_matches(allow, q));
  EXPECT_TRUE(cli::audit_matches(refuse, q));
  q = {};
  q.since = *cli::parse_rfc3339("2026-11-24T06:30:00Z");
  EXPECT_FALSE(cli::audit_matches(allow, q));
  EXPECT_TRUE(cli::audit_matches(refuse, q));
  EXPECT_FALSE(cli::audit_matches(Json::parse(R"({"decision": "allow"})"), q));  // no time: not "since"
}

}  // namespace
