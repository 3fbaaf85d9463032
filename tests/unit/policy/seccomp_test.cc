#include "policy/seccomp.h"

#include <gtest/gtest.h>

#include <set>

#include "base/file.h"

namespace {

using policy::Json;

Json docker_default() {
  auto spec = Json::parse(*base::read_file(std::string(COVE_SOURCE_DIR) + "/tests/fixtures/docker-20.10-config.json"));
  return spec["linux"]["seccomp"];
}

// Syscalls a profile lets through with at least one ALLOW-like rule (conditional or not), and
// whether the default action allows.
std::set<std::string> allowed(const Json& profile, bool unconditional_only = false) {
  std::set<std::string> out;
  for (const auto& r : profile["syscalls"]) {
    if (policy::seccomp_action_denies(r.value("action", ""))) {
      continue;
    }
    bool cond = r.contains("args") && !r["args"].is_null() && !r["args"].empty();
    if (unconditional_only && cond) {
      continue;
    }
    for (const auto& n : r["names"]) {
      out.insert(n.get<std::string>());
    }
  }
  return out;
}

TEST(Seccomp, BaselineIsAtLeastAsStrictAsDockersDefault) {
  Json base = policy::baseline_profile({});
  Json docker = docker_default();
  EXPECT_EQ(base["defaultAction"], "SCMP_ACT_ERRNO");
  auto ours = allowed(base);
  auto theirs = allowed(docker);
  for (const auto& s : ours) {
    EXPECT_TRUE(theirs.count(s)) << s << " is allowed by cove's baseline but not by Docker's default";
  }
  // Conditions are no looser: what Docker allows only with conditions, cove allows only with them.
  auto docker_uncond = allowed(docker, true);
  for (const auto& s : allowed(base, true)) {
    EXPECT_TRUE(docker_uncond.count(s)) << s;
  }
  EXPECT_LT(ours.size(), theirs.size());
}

TEST(Seccomp, BaselineDeniesTheDangerousSet) {
  auto ours = allowed(policy::baseline_profile({}));
  for (const char* s : {"ptrace", "mount", "unshare", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
                        "userfaultfd", "io_uring_setup", "io_uring_enter", "setns", "kexec_load", "init_module",
                        "open_by_handle_at", "chroot", "modify_ldt", "clone3"}) {
    EXPECT_FALSE(ours.count(s)) << s;
  }
  EXPECT_TRUE(ours.count("read"));
  EXPECT_TRUE(ours.count("clone"));  // with the namespace-flag condition
}

TEST(Seccomp, Clone3AnswersEnosysSoGlibcFallsBack) {
  Json base = policy::baseline_profile({});
  bool found = false;
  for (const auto& r : base["syscalls"]) {
    if (r["names"] == Json::array({"clone3"})) {
      found = true;
      EXPECT_EQ(r["action"], "SCMP_ACT_ERRNO");
      EXPECT_EQ(r["errnoRet"], 38);
    }
  }
  EXPECT_TRUE(found);
}

TEST(Seccomp, MergeWithDockersProfileIntersects) {
  Json merged = policy::merge_seccomp(docker_default(), {"socket"});
  auto got = allowed(merged);
  EXPECT_FALSE(got.count("ptrace"));          // Docker allows it, the baseline does not
  EXPECT_FALSE(got.count("io_uring_setup"));  // likewise
  EXPECT_FALSE(got.count("socket"));          // the role's extra denial
  EXPECT_TRUE(got.count("openat"));
  EXPECT_EQ(merged["architectures"], docker_default()["architectures"]);
}

TEST(Seccomp, CallerDenialsSurvive) {
  Json req = Json::parse(R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["chmod","fchmod"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]})");
  Json merged = policy::merge_seccomp(req, {});
  auto got = allowed(merged);
  EXPECT_FALSE(got.count("chmod"));
  EXPECT_TRUE(got.count("read"));
  EXPECT_FALSE(got.count("mount"));  // the caller's ALLOW default does not loosen the baseline
  bool kept = false;
  for (const auto& r : merged["syscalls"]) {
    if (r["names"] == Json::array({"chmod"}) && r["errnoRet"] == 13) {
      kept = true;
    }
  }
  EXPECT_TRUE(kept);
}

TEST(Seccomp, KillDefaultIsKept) {
  Json req = Json::parse(R"({"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]})");
  Json merged = policy::merge_seccomp(req, {});
  EXPECT_EQ(merged["defaultAction"], "SCMP_ACT_KILL_PROCESS");
  EXPECT_EQ(allowed(merged), (std::set<std::string>{"read", "write"}));
}

TEST(Seccomp, MergeIsIdempotent) {
  for (const Json& req : {Json(), docker_default()}) {
    Json once = policy::merge_seccomp(req, {"mknod"});
    Json twice = policy::merge_seccomp(once, {"mknod"});
    EXPECT_EQ(once.dump(), twice.dump());
  }
}

}  // namespace
