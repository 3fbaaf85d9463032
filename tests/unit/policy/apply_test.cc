#include "policy/apply.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/file.h"
#include "oci/spec.h"
#include "policy/seccomp.h"
#include "tests/unit/policy/fake_host.h"

namespace {

using policy::Json;

const std::string kDir = COVE_SOURCE_DIR;

struct Fixture {
  policy::Policy pol;
  Json spec;
  testing_support::FakeHost host;
  policy::Identity id;

  explicit Fixture(const std::string& role = "agent") {
    auto p = policy::load_policy(kDir + "/docker/policy.json");
    EXPECT_TRUE(p) << (p ? "" : p.error().message());
    pol = *p;
    spec = Json::parse(*base::read_file(kDir + "/tests/fixtures/docker-20.10-config.json"));
    host.links["/var/run"] = "/run";
    id.role = role;
  }
  policy::Decision apply(const std::string& role) {
    policy::ApplyContext ctx{pol, *pol.find_role(role), id, host};
    return policy::apply_role(ctx, spec);
  }
};

std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  for (const auto& e : j) {
    out.push_back(e.get<std::string>());
  }
  return out;
}

bool has_refusal(const policy::Decision& d, const std::string& rule) {
  return std::any_of(d.refusals.begin(), d.refusals.end(), [&](const policy::Refusal& r) { return r.rule == rule; });
}

// Docker 20.10's real config.json (captured from dockerd 20.10.24 on this host): labels absent,
// env present, capabilities with bounding/effective/permitted only, cgroupsPath /docker/<id>.
TEST(ApplyDocker2010, AgentTightensEverything) {
  Fixture f;
  auto d = f.apply("agent");
  ASSERT_FALSE(d.refused()) << d.refusal_message();
  const Json& p = f.spec["process"];
  std::vector<std::string> want = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
                                   "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE", "CAP_KILL"};
  EXPECT_EQ(strings(p["capabilities"]["bounding"]), want);  // Docker's order, role's subset
  EXPECT_EQ(strings(p["capabilities"]["effective"]), want);
  EXPECT_FALSE(p["capabilities"].contains("inheritable"));  // absent stays absent (means empty)
  EXPECT_EQ(p["noNewPrivileges"], true);
  EXPECT_EQ(p["user"]["uid"], 1000);
  EXPECT_EQ(p["user"]["gid"], 1000);
  EXPECT_TRUE(p["user"]["additionalGids"].empty());  // gid 0 dropped
  const Json& res = f.spec["linux"]["resources"];
  EXPECT_EQ(res["memory"]["limit"], 2LL << 30);
  EXPECT_EQ(res["memory"]["reservation"], 512LL << 20);
  EXPECT_EQ(res["cpu"]["quota"], 100000);
  EXPECT_EQ(res["cpu"]["period"], 100000);
  EXPECT_EQ(res["cpu"]["shares"], 0);  // untouched
  EXPECT_EQ(res["pids"]["limit"], 512);
  EXPECT_EQ(f.spec["linux"]["cgroupsPath"].get<std::string>().rfind("/docker/", 0), 0u);
  // /tmp as tmpfs, appended after Docker's mounts.
  EXPECT_EQ(f.spec["mounts"].back()["destination"], "/tmp");
  EXPECT_EQ(f.spec["mounts"].back()["type"], "tmpfs");
  // Docker's seccomp profile was merged, not replaced: still x86 arches, ptrace gone.
  EXPECT_EQ(f.spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(f.spec["hostname"].get<std::string>().size(), 12u);  // unknown-to-us fields kept
}

TEST(ApplyDocker2010, ApplyingTwiceChangesNothing) {
  for (const char* role : {"agent", "preview", "sync"}) {
    Fixture f;
    auto first = f.apply(role);
    ASSERT_FALSE(first.refused()) << role << ": " << first.refusal_message();
    EXPECT_FALSE(first.changes.empty());
    std::string once = f.spec.dump();
    auto second = f.apply(role);
    EXPECT_TRUE(second.changes.empty()) << role << ": " << second.changes.front().field;
    EXPECT_EQ(f.spec.dump(), once) << role;
  }
}

TEST(ApplyDocker2010, PreviewIsReadOnly) {
  Fixture f;
  auto d = f.apply("preview");
  ASSERT_FALSE(d.refused());
  EXPECT_EQ(f.spec["root"]["readonly"], true);
  EXPECT_EQ(strings(f.spec["process"]["capabilities"]["bounding"]), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_EQ(f.spec["linux"]["resources"]["cpu"]["quota"], 50000);
}

TEST(ApplyLimits, CallerLowerLimitsAreKept) {
  Fixture f;
  f.spec["linux"]["resources"]["memory"]["limit"] = 100 << 20;
  f.spec["linux"]["resources"]["cpu"]["quota"] = 20000;
  f.spec["linux"]["resources"]["cpu"]["period"] = 100000;
  f.spec["linux"]["resources"]["pids"]["limit"] = 50;
  f.apply("agent");
  const Json& res = f.spec["linux"]["resources"];
  EXPECT_EQ(res["memory"]["limit"], 100 << 20);
  EXPECT_EQ(res["memory"]["reservation"], 100 << 20);  // never above the limit
  EXPECT_EQ(res["cpu"]["quota"], 20000);
  EXPECT_EQ(res["pids"]["limit"], 50);
}

TEST(ApplyLimits, UnlimitedAndLooserLimitsAreLowered) {
  Fixture f;
  f.spec["linux"]["resources"]["memory"]["limit"] = -1;
  f.spec["linux"]["resources"]["memory"]["swap"] = -1;
  f.spec["linux"]["resources"]["memory"]["disableOOMKiller"] = true;
  f.spec["linux"]["resources"]["cpu"]["quota"] = 400000;
  f.spec["linux"]["resources"]["cpu"]["period"] = 100000;
  f.spec["linux"]["resources"]["pids"]["limit"] = -1;
  f.spec["process"]["rlimits"] = Json::parse(R"([{"type":"RLIMIT_NOFILE","hard":1048576,"soft":1048576}])");
  f.apply("sync");
  const Json& res = f.spec["linux"]["resources"];
  EXPECT_EQ(res["memory"]["limit"], 128 << 20);
  EXPECT_EQ(res["memory"]["swap"], 128 << 20);
  EXPECT_EQ(res["memory"]["disableOOMKiller"], false);
  EXPECT_EQ(res["cpu"]["quota"], 10000);
  EXPECT_EQ(res["pids"]["limit"], 128);
  EXPECT_EQ(f.spec["process"]["rlimits"][0]["hard"], 4096);
}

TEST(ApplyLimits, SwapIsBoundedWhereTheKernelAccountsIt) {
  Fixture f;
  f.apply("agent");
  EXPECT_EQ(f.spec["linux"]["resources"]["memory"]["swap"], 2LL << 30);
  Fixture g;
  g.host.swap = false;
  g.apply("agent");
  EXPECT_FALSE(g.spec["linux"]["resources"]["memory"].contains("swap"));
}

TEST(ApplyMounts, DockerSocketIsRefusedEvenThroughASymlinkOrParent) {
  for (const char* source : {"/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run", "/"}) {
    Fixture f;
    f.spec["mounts"].push_back(Json{{"destination", "/var/run/docker.sock"}, {"type", "bind"}, {"source", source},
                                    {"options", {"rbind", "rprivate"}}});
    auto d = f.apply("agent");
    EXPECT_TRUE(has_refusal(d, "roles.agent.mounts.deny")) << source;
    EXPECT_NE(d.refusal_message().find(source), std::string::npos);
  }
}

TEST(ApplyMounts, SymlinkToDeniedPathIsRefused) {
  Fixture f;
  f.host.links["/home/u/innocent"] = "/run/docker.sock";
  f.spec["mounts"].push_back(Json{{"destination", "/x"}, {"type", "bind"}, {"source", "/home/u/innocent"}});
  auto d = f.apply("agent");
  EXPECT_TRUE(has_refusal(d, "roles.agent.mounts.deny"));
}

TEST(ApplyMounts, BindOutsideAllowListIsRefusedAndVolumesForcedReadOnlyForPreview) {
  Fixture f;
  f.spec["mounts"].push_back(Json{{"destination", "/etc/shadow"}, {"type", "bind"}, {"source", "/etc/shadow"}});
  auto d = f.apply("agent");
  EXPECT_TRUE(has_refusal(d, "roles.agent.mounts.allow"));

  Fixture g;
  g.spec["mounts"].push_back(Json{{"destination", "/data"}, {"type", "bind"},
                                  {"source", "/var/lib/docker/volumes/v/_data"}, {"options", {"rbind", "rw"}}});
  auto e = g.apply("preview");
  ASSERT_FALSE(e.refused()) << e.refusal_message();
  Json opts;
  for (const auto& m : g.spec["mounts"]) {
    if (m["destination"] == "/data") {
      opts = m["options"];
    }
  }
  EXPECT_EQ(strings(opts), (std::vector<std::string>{"rbind", "ro"}));
}

TEST(ApplyMounts, BlockDeviceFilesystemIsRefused) {
  Fixture f;
  f.spec["mounts"].push_back(Json{{"destination", "/mnt"}, {"type", "ext4"}, {"source", "/dev/vda"}});
  EXPECT_TRUE(has_refusal(f.apply("agent"), "roles.agent.mounts"));
}

TEST(ApplyWorkspace, NotMountedIsRefusedWithTheCommandThatMountsIt) {
  Fixture f;
  f.id.team = "alpha";
  auto d = f.apply("agent");
  ASSERT_TRUE(has_refusal(d, "roles.agent.workspace"));
  EXPECT_NE(d.refusal_message().find("cove ws mount alpha"), std::string::npos);
  EXPECT_NE(d.refusal_message().find("/run/cove/teams/alpha"), std::string::npos);
}

TEST(ApplyWorkspace, MountedWorkspaceIsBoundWithTheRoleMode) {
  for (auto [role, mode] : {std::pair<const char*, const char*>{"agent", "rw"}, {"preview", "ro"}}) {
    Fixture f;
    f.id.team = "alpha";
    f.host.mountpoints.insert("/run/cove/teams/alpha");
    auto d = f.apply(role);
    ASSERT_FALSE(d.refused()) << d.refusal_message();
    const Json& m = f.spec["mounts"].back();
    EXPECT_EQ(m["destination"], "/workspace");
    EXPECT_EQ(m["source"], "/run/cove/teams/alpha");
    EXPECT_EQ(m["options"].back(), mode);
    auto again = f.apply(role);
    EXPECT_TRUE(again.changes.empty());
  }
}

TEST(ApplyWorkspace, NoTeamMeansNoWorkspace) {
  Fixture f;
  f.apply("agent");
  for (const auto& m : f.spec["mounts"]) {
    EXPECT_NE(m["destination"], "/workspace");
  }
}

TEST(ApplyNamespaces, HostNetworkAndPidAreRefused) {
  Fixture f;
  auto& ns = f.spec["linux"]["namespaces"];
  ns.erase(std::remove_if(ns.begin(), ns.end(), [](const Json& n) { return n["type"] == "network"; }), ns.end());
  auto d = f.apply("agent");
  EXPECT_TRUE(has_refusal(d, "roles.agent.hostNamespaces.network"));
  EXPECT_NE(d.refusal_message().find("--network host"), std::string::npos);

  Fixture g;
  for (auto& n : g.spec["linux"]["namespaces"]) {
    if (n["type"] == "pid") {
      n["path"] = "/proc/1/ns/pid";
    }
  }
  g.host.host_ns_paths.insert("/proc/1/ns/pid");
  EXPECT_TRUE(has_refusal(g.apply("agent"), "roles.agent.hostNamespaces.pid"));
}

TEST(ApplyPrivileged, AllDevicesRuleIsRefused) {
  Fixture f;
  f.spec["linux"]["resources"]["devices"] = Json::parse(R"([{"allow":true,"access":"rwm"}])");
  auto d = f.apply("agent");
  EXPECT_TRUE(d.refused());
  EXPECT_NE(d.refusal_message().find("privileged"), std::string::npos);
}

TEST(ApplyProcess, MissingCapabilitiesBecomeTheRoleList) {
  Fixture f;
  f.spec["process"].erase("capabilities");
  f.apply("preview");
  EXPECT_EQ(strings(f.spec["process"]["capabilities"]["permitted"]), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
}

TEST(ApplyProcess, EveryChangeNamesItsRule) {
  Fixture f;
  auto d = f.apply("agent");
  for (const auto& c : d.changes) {
    EXPECT_EQ(c.rule.rfind("roles.agent", 0), 0u) << c.field;
  }
  auto has = [&](const std::string& field) {
    return std::any_of(d.changes.begin(), d.changes.end(), [&](const policy::Change& c) { return c.field == field; });
  };
  EXPECT_TRUE(has("process.noNewPrivileges"));
  EXPECT_TRUE(has("linux.resources.memory.limit"));
  EXPECT_TRUE(has("linux.seccomp"));
}

}  // namespace
