#include "tools/cli/policy_diff.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/jsonc.h"
#include "policy/policy.h"
#include "tools/cli/policy_explain.h"

namespace {

using Json = nlohmann::ordered_json;

Json sample_doc() {
  auto text = base::read_file(std::string(COVE_SOURCE_DIR) + "/docker/policy.json");
  auto doc = base::parse_jsonc(*text, "policy.json");
  EXPECT_TRUE(doc);
  return *doc;
}

Json model(const Json& doc) {
  auto p = policy::parse_policy(doc.dump(), "p.json");
  EXPECT_TRUE(p) << p.error().message();
  return cli::explain_policy(*p, std::nullopt);
}

std::vector<cli::PolicyChange> diff(const std::function<void(Json&)>& edit) {
  Json before = sample_doc();
  Json after = before;
  edit(after);
  return cli::diff_policies(model(before), model(after));
}

std::string show(const std::vector<cli::PolicyChange>& cs) {
  std::string out;
  for (const auto& c : cs) {
    out += std::string(cli::effect_name(c.effect)) + " " + c.role + " " + c.field + " " + c.summary + "\n";
  }
  return out;
}

TEST(PolicyDiff, NoChangeNoOutput) {
  EXPECT_TRUE(diff([](Json&) {}).empty());
}

TEST(PolicyDiff, SpellingIsNotAChange) {
  // 2GiB and 2048MiB are the same limit.
  EXPECT_TRUE(diff([](Json& d) { d["roles"]["agent"]["memory"]["limit"] = "2048MiB"; }).empty());
}

TEST(PolicyDiff, LooseningComesFirst) {
  auto cs = diff([](Json& d) {
    d["roles"]["sync"]["pids"] = 64;
    d["roles"]["agent"]["capabilities"].push_back("CAP_SYS_ADMIN");
    d["roles"]["agent"]["hostNamespaces"]["network"] = true;
    d["roles"]["preview"]["backend"] = "/usr/bin/crun";
  });
  ASSERT_EQ(cs.size(), 4u) << show(cs);
  EXPECT_EQ(show(cs),
            "loosens agent capabilities + CAP_SYS_ADMIN\n"
            "loosens agent hostNamespaces.network false -> true\n"
            "tightens sync limits.pids 128 -> 64\n"
            "other preview backend /usr/bin/runc -> /usr/bin/crun\n");
}

TEST(PolicyDiff, EffectsOfEachKindOfField) {
  auto cs = diff([](Json& d) {
    Json& a = d["roles"]["agent"];
    a["memory"].erase("limit");                         // loosens: no limit
    a["seccomp"]["deny"] = Json::array({"mknod"});      // tightens
    a["mounts"]["deny"].erase(0);                       // loosens
    a["workspace"]["protected"] = Json::array();        // loosens
    d["roles"]["preview"]["workspace"]["mode"] = "rw";  // loosens
    d["roles"]["preview"]["readonlyRootfs"] = false;    // loosens
    d.erase("auditLog");                                // loosens
    d["roles"].erase("sync");                           // tightens: role removed
    d["roles"]["extra"] = d["roles"]["agent"];          // loosens: role added
  });
  std::string s = show(cs);
  for (const char* want :
       {"loosens agent limits.memory.limit 2 GiB -> none", "tightens agent seccomp newly denied: mknod",
        "loosens agent mounts.deny - /var/run/docker.sock",
        "loosens agent workspace.protected - .git/config, .git/hooks/**", "loosens preview workspace.mode ro -> rw",
        "loosens preview filesystem.readonlyRootfs true -> false",
        "loosens  auditLog /var/log/cove/audit.jsonl -> none", "tightens sync role role removed",
        "loosens extra role role added"}) {
    EXPECT_NE(s.find(want), std::string::npos) << "missing: " << want << "\n" << s;
  }
  // Every loosening change is listed before every other.
  bool seen_other = false;
  for (const auto& c : cs) {
    if (c.effect != cli::Effect::kLoosens) {
      seen_other = true;
    } else {
      EXPECT_FALSE(seen_other) << s;
    }
  }
}

}  // namespace
