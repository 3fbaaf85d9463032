#include "oci/spec.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/file.h"

namespace {

const std::string kFixture = std::string(COVE_SOURCE_DIR) + "/tests/fixtures/docker-20.10-config.json";

TEST(Spec, Docker2010ConfigRoundTripsLosslessly) {
  auto text = base::read_file(kFixture);
  ASSERT_TRUE(text);
  auto doc = nlohmann::ordered_json::parse(*text);
  // Same document after a dump and parse: every field, in order.
  EXPECT_EQ(nlohmann::ordered_json::parse(oci::dump_spec(doc)), doc);
  EXPECT_EQ(oci::dump_spec(doc), doc.dump());
}

TEST(Spec, UnknownFieldsSurviveLoadAndSave) {
  char tmpl[] = "/tmp/cove-spec-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(base::write_file_atomic(dir + "/config.json",
                                      R"({"ociVersion":"1.0.2","x-vendor":{"k":[1,2.5,"s"]},"process":{"args":["sh"],"futureField":true}})"));
  auto b = oci::load_bundle(dir);
  ASSERT_TRUE(b) << b.error().message();
  b->spec["process"]["noNewPrivileges"] = true;
  ASSERT_TRUE(oci::save_bundle(*b));
  auto again = oci::load_bundle(dir);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->spec["x-vendor"]["k"][1], 2.5);
  EXPECT_EQ(again->spec["process"]["futureField"], true);
  EXPECT_EQ(again->spec["process"]["noNewPrivileges"], true);
  std::system(("rm -rf " + dir).c_str());
}

TEST(Spec, EnvAndAnnotations) {
  auto spec = nlohmann::ordered_json::parse(
      R"({"process":{"env":["A=1","COVE_ROLE=agent","COVE_ROLE=preview","B"]},"annotations":{"dev.cove.team":"alpha"}})");
  EXPECT_EQ(oci::env_value(spec, "COVE_ROLE"), "preview");  // the last one wins, as in execve
  EXPECT_EQ(oci::env_value(spec, "B"), std::nullopt);
  EXPECT_EQ(oci::annotation(spec, "dev.cove.team"), "alpha");
  EXPECT_EQ(oci::annotation(spec, "dev.cove.role"), std::nullopt);
}

TEST(Spec, ShapeErrorsNameTheField) {
  auto bad = nlohmann::ordered_json::parse(R"({"process":{"env":"A=1"}})");
  auto r = oci::check_shape(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("process.env"), std::string::npos);
  auto mounts = nlohmann::ordered_json::parse(R"({"mounts":[{"source":"/x"}]})");
  auto m = oci::check_shape(mounts);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("mounts[0].destination"), std::string::npos);
  EXPECT_FALSE(oci::check_shape(nlohmann::ordered_json::array()));
}

TEST(Spec, MissingAndMalformedBundleErrorsNameConfigJson) {
  auto missing = oci::load_bundle("/nonexistent-bundle");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("/nonexistent-bundle/config.json"), std::string::npos);
  char tmpl[] = "/tmp/cove-spec-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(base::write_file_atomic(dir + "/config.json", "{\"process\": {"));
  auto bad = oci::load_bundle(dir);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find(dir + "/config.json:1:"), std::string::npos) << bad.error().message();
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
