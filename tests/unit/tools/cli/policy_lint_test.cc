#include "tools/cli/policy_lint.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/file.h"

namespace {

const std::string kDir = COVE_SOURCE_DIR;

// A host with 8 CPUs, 16 GiB, pid_max 4194304, where only /opt/cove/no-such-runtime is missing.
cli::LintHost fake_host() {
  cli::LintHost h;
  h.mem_total = int64_t{16} << 30;
  h.cpus = 8;
  h.pid_max = 4194304;
  h.is_executable = [](const std::string& p) { return p != "/opt/cove/no-such-runtime"; };
  return h;
}

std::vector<cli::Finding> lint_file(const std::string& rel, const cli::LintHost& host = fake_host()) {
  auto text = base::read_file(kDir + "/" + rel);
  EXPECT_TRUE(text) << rel;
  return cli::lint_policy(text ? *text : "", rel, host);
}

std::vector<cli::Finding> lint_text(const std::string& text) { return cli::lint_policy(text, "p.json", fake_host()); }

const cli::Finding* find(const std::vector<cli::Finding>& fs, const std::string& check, const std::string& path) {
  auto it =
      std::find_if(fs.begin(), fs.end(), [&](const cli::Finding& f) { return f.check == check && f.path == path; });
  return it == fs.end() ? nullptr : &*it;
}

std::string dump(const std::vector<cli::Finding>& fs) {
  std::string out;
  for (const auto& f : fs) {
    out += std::string(cli::severity_name(f.severity)) + " " + f.check + " @" + f.path + ": " + f.message + "\n";
  }
  return out;
}

std::string minimal_role(const std::string& extra) {
  return R"({"auditLog": "/var/log/cove/audit.jsonl", "roles": {"agent": {"backend": "/usr/bin/runc",
    "user": {"uid": 1000, "gid": 1000}, "memory": {"limit": "1GiB"}, "cpu": {"cpus": 1}, "pids": 100)" +
         extra + "}}}";
}

TEST(PolicyLint, ShippedPolicyIsClean) {
  auto fs = lint_file("docker/policy.json");
  EXPECT_TRUE(fs.empty()) << dump(fs);
}

struct Expected {
  cli::Severity severity;
  const char* check;
  const char* path;
  const char* words;  // a fragment of the message
};

TEST(PolicyLint, FindsEverySeededMistake) {
  auto fs = lint_file("tests/fixtures/policy-mistakes.json");
  const Expected expected[] = {
      {cli::Severity::kError, "unknown-capability", "roles.agent.capabilities[1]", "did you mean CAP_SYS_ADMIN?"},
      {cli::Severity::kError, "capability-dangerous", "roles.agent.capabilities[2]", "CAP_SYS_PTRACE"},
      {cli::Severity::kWarning, "capability-beyond-docker", "roles.agent.capabilities[3]", "CAP_SYS_NICE"},
      {cli::Severity::kError, "unknown-syscall", "roles.agent.seccomp.deny[0]", "did you mean ptrace?"},
      {cli::Severity::kWarning, "syscall-not-on-all-architectures", "roles.agent.seccomp.deny[1]",
       "\"mmap2\" is a syscall on x86 but not on x86_64, x32"},
      {cli::Severity::kError, "rejected-by-loader", "roles.agent.memory.limt", "unknown key"},
      {cli::Severity::kError, "no-memory-limit", "roles.agent.memory", "no memory.limit"},
      {cli::Severity::kError, "no-new-privileges", "roles.agent.noNewPrivileges", "noNewPrivileges is false"},
      {cli::Severity::kError, "host-namespace", "roles.agent.hostNamespaces.pid", "pid namespace"},
      {cli::Severity::kWarning, "limit-exceeds-host", "roles.agent.cpu.cpus", "8 CPUs"},
      {cli::Severity::kWarning, "limit-exceeds-host", "roles.agent.pids", "pid_max (4194304)"},
      {cli::Severity::kError, "mount-allow-docker-socket", "roles.agent.mounts.allow[0]", "/run/docker.sock"},
      {cli::Severity::kError, "mount-allow-sensitive", "roles.agent.mounts.allow[1]", "/etc"},
      {cli::Severity::kError, "mount-rules-contradict", "roles.agent.mounts.allow[2]",
       "inside the denied \"/srv/data\""},
      {cli::Severity::kError, "mount-rules-contradict", "roles.agent.mounts.readOnly[0]", "outside every mounts.allow"},
      {cli::Severity::kError, "pattern-never-matches", "roles.agent.workspace.protected[0]", "./.git/hooks"},
      {cli::Severity::kError, "role-shadowed", "roles.preview", "defined twice"},
      {cli::Severity::kWarning, "backend-missing", "roles.preview.backend", "/opt/cove/no-such-runtime"},
      {cli::Severity::kWarning, "limit-exceeds-host", "roles.preview.memory.limit",
       "64 TiB exceeds this host's memory (16 GiB)"},
      {cli::Severity::kWarning, "pattern-redundant", "roles.preview.workspace.protected", "read-only as a whole"},
      {cli::Severity::kWarning, "pattern-redundant", "roles.preview.workspace.protected[0]", "hidden by \"**\""},
      {cli::Severity::kWarning, "pattern-covers-workspace", "roles.preview.workspace.hidden[0]", "whole workspace"},
      {cli::Severity::kError, "no-pids-limit", "roles.Sync", "no pids limit"},
      {cli::Severity::kWarning, "roles-differ-in-case", "roles.sync", "\"Sync\" and \"sync\""},
      {cli::Severity::kWarning, "unmatched-passthrough", "unmatched.action", "passthrough"},
      {cli::Severity::kWarning, "no-audit-log", "", "no auditLog"},
  };
  for (const auto& e : expected) {
    const cli::Finding* f = find(fs, e.check, e.path);
    ASSERT_NE(f, nullptr) << "missing " << e.check << " at " << e.path << "\n" << dump(fs);
    EXPECT_EQ(f->severity, e.severity) << e.check << " at " << e.path;
    EXPECT_NE(f->message.find(e.words), std::string::npos) << f->message;
    EXPECT_EQ(f->file, "tests/fixtures/policy-mistakes.json");
  }
  // Nothing beyond the seeded mistakes (the same socket is reached twice through /var/run).
  EXPECT_EQ(fs.size(), std::size(expected) + 1) << dump(fs);
}

TEST(PolicyLint, WithoutHostFactsTheHostChecksAreSkipped) {
  auto fs = lint_file("tests/fixtures/policy-mistakes.json", cli::LintHost{});
  EXPECT_EQ(find(fs, "limit-exceeds-host", "roles.agent.pids"), nullptr);
  EXPECT_EQ(find(fs, "backend-missing", "roles.preview.backend"), nullptr);
  EXPECT_NE(find(fs, "capability-dangerous", "roles.agent.capabilities[2]"), nullptr);
}

TEST(PolicyLint, NotJsonIsAFindingNotACrash) {
  auto fs = lint_text("{\"roles\": {");
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].check, "invalid-json");
  EXPECT_EQ(fs[0].severity, cli::Severity::kError);
  auto top = lint_text("[1, 2]");
  ASSERT_EQ(top.size(), 1u) << dump(top);
  EXPECT_EQ(top[0].check, "rejected-by-loader");
  EXPECT_NE(top[0].message.find("top level must be an object"), std::string::npos);
}

TEST(PolicyLint, EveryLoaderErrorIsReportedNotOnlyTheFirst) {
  // Two roles each with a mistake the loader rejects, and a third that is fine but loosens.
  auto fs = lint_text(R"({"auditLog": "/a.jsonl", "roles": {
    "a": {"backend": "runc", "memory": {"limit": "1GiB"}, "pids": 1},
    "b": {"backend": "/usr/bin/runc", "memory": {"limit": "1GiB"}, "pids": 0},
    "c": {"backend": "/usr/bin/runc", "user": {"uid": 1, "gid": 1}, "memory": {"limit": "1GiB"}, "cpu": {"cpus": 1},
          "pids": 5, "noNewPrivileges": false}}})");
  const cli::Finding* a = find(fs, "rejected-by-loader", "roles.a.backend");
  ASSERT_NE(a, nullptr) << dump(fs);
  EXPECT_NE(a->message.find("must be an absolute path"), std::string::npos);
  ASSERT_NE(find(fs, "rejected-by-loader", "roles.b.pids"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "no-new-privileges", "roles.c.noNewPrivileges"), nullptr) << dump(fs);
  // Removing a's bad backend must not be reported as "backend: missing" as well.
  EXPECT_EQ(std::count_if(fs.begin(), fs.end(), [](const cli::Finding& f) { return f.path == "roles.a.backend"; }), 1)
      << dump(fs);
}

TEST(PolicyLint, WhatTheLoaderRejectedIsNotAlsoReportedAsMissing) {
  // The memory object is rejected as a whole (reservation above limit) and the audit log path is
  // relative: the author did write both, so "no memory.limit" and "no auditLog" would mislead.
  auto fs = lint_text(R"({"auditLog": "audit.jsonl", "roles": {"a": {"backend": "/usr/bin/runc",
    "user": {"uid": 1, "gid": 1}, "memory": {"limit": "1GiB", "reservation": "2GiB"}, "cpu": {"cpus": 1},
    "pids": 5}}})");
  EXPECT_NE(find(fs, "rejected-by-loader", "roles.a.memory"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "rejected-by-loader", "auditLog"), nullptr) << dump(fs);
  EXPECT_EQ(find(fs, "no-memory-limit", "roles.a.memory"), nullptr) << dump(fs);
  EXPECT_EQ(find(fs, "no-audit-log", "auditLog"), nullptr) << dump(fs);
  EXPECT_EQ(fs.size(), 2u) << dump(fs);
}

TEST(PolicyLint, IndicesPointAtTheFileAfterEarlierEntriesWereRemoved) {
  // Two unknown capabilities, then an rlimit the loader rejects: paths name the original indices.
  auto fs = lint_text(minimal_role(R"(, "capabilities": ["CAP_NOPE", "CAP_CHOWN", "CAP_NADA"],
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}, {"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}])"));
  EXPECT_NE(find(fs, "unknown-capability", "roles.agent.capabilities[0]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "unknown-capability", "roles.agent.capabilities[2]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "rejected-by-loader", "roles.agent.rlimits[1].type"), nullptr) << dump(fs);
}

TEST(PolicyLint, RoleNamesWithDotsKeepTheirPaths) {
  auto fs = lint_text(R"({"auditLog": "/a.jsonl", "roles": {"team.agent": {"backend": "/usr/bin/runc",
    "user": {"uid": 1, "gid": 1}, "memory": {"limit": "1GiB"}, "cpu": {"cpus": 1}, "pids": 5,
    "capabilities": ["CAP_BPF", "CAP_TYPO"]}}})");
  EXPECT_NE(find(fs, "capability-dangerous", "roles.team.agent.capabilities[0]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "unknown-capability", "roles.team.agent.capabilities[1]"), nullptr) << dump(fs);
}

TEST(PolicyLint, DuplicateKeysInsideARole) {
  auto fs = lint_text(minimal_role(R"(, "pids": 100000)"));
  const cli::Finding* f = find(fs, "duplicate-key", "roles.agent.pids");
  ASSERT_NE(f, nullptr) << dump(fs);
  EXPECT_NE(f->message.find("keeps the last one"), std::string::npos);
}

TEST(PolicyLint, MountRules) {
  auto fs = lint_text(minimal_role(R"(, "mounts": {"allow": ["/", "/run", "/proc/1", "/data"],
    "deny": ["/run/docker.sock", "/run/containerd", "/data/secret"], "readOnly": ["/data/ro", "/data/secret/x"]})"));
  EXPECT_NE(find(fs, "mount-allow-sensitive", "roles.agent.mounts.allow[0]"), nullptr) << dump(fs);
  // /run with both sockets denied: a warning, not the socket error.
  EXPECT_EQ(find(fs, "mount-allow-docker-socket", "roles.agent.mounts.allow[1]"), nullptr) << dump(fs);
  const cli::Finding* run = find(fs, "mount-allow-sensitive", "roles.agent.mounts.allow[1]");
  ASSERT_NE(run, nullptr) << dump(fs);
  EXPECT_EQ(run->severity, cli::Severity::kWarning);
  EXPECT_NE(find(fs, "mount-allow-sensitive", "roles.agent.mounts.allow[2]"), nullptr) << dump(fs);
  const cli::Finding* overlap = find(fs, "mount-rules-overlap", "roles.agent.mounts.deny[2]");
  ASSERT_NE(overlap, nullptr) << dump(fs);
  EXPECT_EQ(overlap->severity, cli::Severity::kWarning);
  EXPECT_EQ(find(fs, "mount-rules-contradict", "roles.agent.mounts.readOnly[0]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "mount-rules-contradict", "roles.agent.mounts.readOnly[1]"), nullptr) << dump(fs);
}

TEST(PolicyLint, WorkspacePatterns) {
  auto fs = lint_text(minimal_role(R"(, "workspace": {"mode": "rw",
    "protected": ["src/./x", ".git/hooks", ".git/hooks", "a\\b"], "hidden": [".git"]})"));
  EXPECT_NE(find(fs, "pattern-never-matches", "roles.agent.workspace.protected[0]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "pattern-duplicate", "roles.agent.workspace.protected[2]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "pattern-escape", "roles.agent.workspace.protected[3]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "pattern-redundant", "roles.agent.workspace.protected[1]"), nullptr) << dump(fs);
}

TEST(PolicyLint, UnknownOnSomeArchitecturesIsAWarningOnAllAnError) {
  auto fs = lint_text(minimal_role(R"(, "seccomp": {"deny": ["vm86", "epoll_ctl_old", "socket", "not_a_syscall"]})"));
  const cli::Finding* vm86 = find(fs, "syscall-not-on-all-architectures", "roles.agent.seccomp.deny[0]");
  ASSERT_NE(vm86, nullptr) << dump(fs);
  EXPECT_NE(vm86->message.find("on x86 but not on x86_64, x32"), std::string::npos);
  EXPECT_NE(find(fs, "syscall-not-on-all-architectures", "roles.agent.seccomp.deny[1]"), nullptr) << dump(fs);
  // socket is multiplexed through socketcall on x86, which libseccomp handles: known everywhere.
  EXPECT_EQ(find(fs, "syscall-not-on-all-architectures", "roles.agent.seccomp.deny[2]"), nullptr) << dump(fs);
  EXPECT_NE(find(fs, "unknown-syscall", "roles.agent.seccomp.deny[3]"), nullptr) << dump(fs);
}

}  // namespace
