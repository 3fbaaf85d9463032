#include "oci/cli.h"

#include <gtest/gtest.h>

namespace {

oci::Invocation parse(std::vector<std::string> argv) {
  auto r = oci::parse_invocation(argv);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? *r : oci::Invocation{};
}

// The argv containerd-shim-runc-v2 passes for a Docker 20.10 container (captured on this host).
TEST(RuntimeCli, DockerCreateArgv) {
  auto inv = parse({"cove-runtime", "--root", "/run/docker/runtime-runc/moby", "--log", "/b/log.json",
                    "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "/b/init.pid", "abc123"});
  EXPECT_EQ(inv.verb, "create");
  EXPECT_EQ(inv.verb_class(), oci::VerbClass::kCreate);
  EXPECT_EQ(inv.id(), "abc123");
  EXPECT_EQ(inv.flag("bundle"), "/b");
  EXPECT_EQ(inv.global("root"), "/run/docker/runtime-runc/moby");
  EXPECT_EQ(inv.global("log-format"), "json");
  EXPECT_EQ(inv.backend_argv.size(), 13u);
}

TEST(RuntimeCli, EqualsFormAndSingleDash) {
  auto inv = parse({"cove-runtime", "--root=/r", "-log=/l", "run", "-b=/b", "--detach", "id1"});
  EXPECT_EQ(inv.global("root"), "/r");
  EXPECT_EQ(inv.global("log"), "/l");
  EXPECT_EQ(inv.flag("bundle"), "/b");
  EXPECT_EQ(inv.flag("detach"), "true");
  EXPECT_EQ(inv.id(), "id1");
}

TEST(RuntimeCli, CoveFlagsAreRemovedFromBackendArgv) {
  // Docker 20.10 runs runtimeArgs first: "<path> --cove-role agent $@".
  auto inv = parse({"cove-runtime", "--cove-role", "agent", "--cove-policy=/p.json", "--root", "/r", "state", "x"});
  EXPECT_EQ(inv.cove_role, "agent");
  EXPECT_EQ(inv.cove_policy, "/p.json");
  std::vector<std::string> want = {"cove-runtime", "--root", "/r", "state", "x"};
  EXPECT_EQ(inv.backend_argv, want);
}

TEST(RuntimeCli, FlagsAfterIdAreReorderedExceptForExec) {
  auto del = parse({"runc", "delete", "x", "--force"});
  EXPECT_EQ(del.id(), "x");
  EXPECT_EQ(del.flag("force"), "true");
  EXPECT_EQ(del.positionals.size(), 1u);

  auto ex = parse({"runc", "exec", "-t", "x", "ls", "--color"});
  EXPECT_EQ(ex.id(), "x");
  EXPECT_EQ(ex.flag("tty"), "true");
  std::vector<std::string> want = {"x", "ls", "--color"};
  EXPECT_EQ(ex.positionals, want);
}

TEST(RuntimeCli, RepeatedFlagsAndBoolValues) {
  auto inv = parse({"runc", "exec", "--cap", "CAP_A", "-c", "CAP_B", "--no-new-privs=false", "x", "sh"});
  std::vector<std::string> caps = {"CAP_A", "CAP_B"};
  EXPECT_EQ(inv.flag_all("cap"), caps);
  EXPECT_EQ(inv.flag("no-new-privs"), "false");
}

TEST(RuntimeCli, UnknownFlagOfPolicedVerbIsAnError) {
  auto r = oci::parse_invocation({"runc", "create", "--bundel", "/b", "x"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("--bundel"), std::string::npos);
}

TEST(RuntimeCli, UnknownFlagOfOtherVerbPassesThrough) {
  auto inv = parse({"runc", "state", "--some-new-flag", "x"});
  EXPECT_EQ(inv.id(), "x");
  EXPECT_EQ(inv.backend_argv.size(), 4u);
}

TEST(RuntimeCli, VersionAndNoVerb) {
  auto v = parse({"runc", "--version"});
  EXPECT_EQ(v.verb, "");
  EXPECT_EQ(v.global("version"), "true");
  auto none = parse({"runc"});
  EXPECT_EQ(none.verb, "");
}

TEST(RuntimeCli, MissingValueIsAnError) {
  EXPECT_FALSE(oci::parse_invocation({"runc", "--root"}));
  EXPECT_FALSE(oci::parse_invocation({"runc", "create", "--bundle"}));
  EXPECT_FALSE(oci::parse_invocation({"runc", "--cove-policy"}));
}

TEST(RuntimeCli, BareUnknownGlobalFlagIsAnErrorButEqualsFormPasses) {
  EXPECT_FALSE(oci::parse_invocation({"runc", "--frobnicate", "state", "x"}));
  auto inv = parse({"crun", "--cgroup-manager=systemd", "state", "x"});
  EXPECT_EQ(inv.verb, "state");
  EXPECT_EQ(inv.global("cgroup-manager"), "systemd");
}

TEST(RuntimeCli, UpdateResourcesFromStdin) {
  auto inv = parse({"runc", "--root", "/r", "update", "--resources", "-", "x"});
  EXPECT_EQ(inv.verb_class(), oci::VerbClass::kUpdate);
  EXPECT_EQ(inv.flag("resources"), "-");
  EXPECT_EQ(inv.id(), "x");
}

}  // namespace
