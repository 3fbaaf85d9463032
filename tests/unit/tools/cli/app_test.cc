#include "tools/cli/cli.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct CoveRun {
  int rc;
  std::string out;
  std::string err;
};

CoveRun cove(std::vector<std::string> args) {
  args.insert(args.begin(), "cove");
  std::vector<const char*> argv;
  for (const auto& a : args) {
    argv.push_back(a.c_str());
  }
  std::ostringstream out;
  std::ostringstream err;
  int rc = cli::run(static_cast<int>(argv.size()), argv.data(), out, err, false);
  return CoveRun{rc, out.str(), err.str()};
}

const std::string kDir = COVE_SOURCE_DIR;

TEST(CoveCli, UsageErrorsExitTwoWithAMessage) {
  CoveRun none = cove({});
  EXPECT_EQ(none.rc, 2);
  EXPECT_NE(none.err.find("A subcommand is required"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("Subcommands of cove: policy, audit"), std::string::npos) << none.err;
  CoveRun policy = cove({"policy"});
  EXPECT_EQ(policy.rc, 2);
  EXPECT_NE(policy.err.find("Subcommands of cove policy: lint, explain, diff, bpf"), std::string::npos) << policy.err;
  CoveRun flag = cove({"policy", "lint", "--bogus", "x"});
  EXPECT_EQ(flag.rc, 2);
  EXPECT_NE(flag.err.find("cove policy lint: "), std::string::npos) << flag.err;
  EXPECT_EQ(cove({"policy", "bpf", kDir + "/docker/policy.json"}).rc, 2);  // --role is required
  EXPECT_EQ(cove({"--color", "sometimes", "policy", "lint", "x"}).rc, 2);
  EXPECT_TRUE(cove({"policy", "lint"}).out.empty());
  CoveRun deep = cove({"ws", "session", "add"});  // three levels: the whole command is named
  EXPECT_EQ(deep.rc, 2);
  EXPECT_NE(deep.err.find("cove ws session add: "), std::string::npos) << deep.err;
}

TEST(CoveCli, HelpExitsZero) {
  CoveRun help = cove({"--help"});
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("Exit codes: 0 ok, 1 findings"), std::string::npos) << help.out;
  EXPECT_EQ(cove({"audit", "live", "--help"}).rc, 0);
}

TEST(CoveCli, ExitCodesOfLint) {
  EXPECT_EQ(cove({"policy", "lint", "--no-host", kDir + "/docker/policy.json"}).rc, 0);
  CoveRun bad = cove({"policy", "lint", "--json", kDir + "/tests/fixtures/policy-mistakes.json"});
  EXPECT_EQ(bad.rc, 1);
  auto j = nlohmann::json::parse(bad.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_GE(j["errors"].get<int>(), 10);
  EXPECT_EQ(cove({"policy", "lint", kDir + "/no/such/file.json"}).rc, 2);
}

TEST(CoveCli, ColourOnlyWhenAskedOrOnATerminal) {
  CoveRun plain = cove({"policy", "lint", kDir + "/tests/fixtures/policy-mistakes.json"});
  EXPECT_EQ(plain.out.find("\033["), std::string::npos);
  CoveRun colour = cove({"--color", "always", "policy", "lint", kDir + "/tests/fixtures/policy-mistakes.json"});
  EXPECT_NE(colour.out.find("\033[31merror\033[0m"), std::string::npos);
}

}  // namespace
