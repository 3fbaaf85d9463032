#include "tools/cli/audit_live.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "tests/unit/tools/cli/cli_temp_dir.h"
#include "tools/cli/cgroup_limits.h"
#include "tools/cli/container_facts.h"
#include "tools/cli/mountinfo.h"

namespace {

namespace fs = std::filesystem;

policy::Policy sample() {
  auto p = policy::load_policy(std::string(COVE_SOURCE_DIR) + "/docker/policy.json");
  EXPECT_TRUE(p) << p.error().message();
  return *p;
}

// What the kernel shows for a container the shim created as an agent of team alpha.
cli::ContainerFacts good_agent() {
  cli::ContainerFacts f;
  f.pid = 4242;
  f.status = cli::parse_proc_status(
      "Name:\tsleep\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t\n"
      "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n"
      "CapBnd:\t00000000000004cb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n");
  f.mounts = cli::parse_mountinfo(
      "600 500 0:50 / / rw,relatime - overlay overlay rw\n"
      "601 600 0:60 / /proc rw,nosuid - proc proc rw\n"
      "602 600 0:61 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n"
      "603 600 0:70 / /workspace rw,nosuid - fuse.covefs covefs rw\n"
      "604 600 8:1 /var/lib/docker/containers/abc/hosts /etc/hosts rw - ext4 /dev/sda1 rw\n");
  f.shares_host_ns = {{"net", false}, {"pid", false}, {"ipc", false}};
  auto limit = [](int64_t v, const char* file) { return cli::LimitValue{true, v, file}; };
  f.cgroup.memory_limit = limit(int64_t{2} << 30, "/sys/fs/cgroup/x/memory.max");
  f.cgroup.memory_reservation = limit(int64_t{512} << 20, "/sys/fs/cgroup/x/memory.low");
  f.cgroup.pids = limit(512, "/sys/fs/cgroup/x/pids.max");
  f.cgroup.cpu_quota = limit(100000, "/sys/fs/cgroup/x/cpu.max");
  f.cgroup.cpu_period = limit(100000, "/sys/fs/cgroup/x/cpu.max");
  return f;
}

std::vector<cli::MountInfo> host_mounts() {
  return cli::parse_mountinfo(
      "20 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "21 20 0:25 / /run rw,nosuid - tmpfs tmpfs rw\n"
      "22 21 0:70 / /run/cove/teams/alpha rw - fuse.covefs covefs rw\n");
}

base::ContainerRecord agent_record() {
  base::ContainerRecord r;
  r.id = "c1";
  r.role = "agent";
  r.team = "alpha";
  return r;
}

std::vector<cli::Drift> attest(const cli::ContainerFacts& f, const std::string& role = "agent") {
  static const policy::Policy p = sample();
  base::ContainerRecord rec = agent_record();
  rec.role = role;
  return cli::attest(p, *p.find_role(role), rec, f, host_mounts());
}

std::string show(const std::vector<cli::Drift>& ds) {
  std::string out;
  for (const auto& d : ds) {
    out += cli::describe(d) + "\n";
  }
  return out;
}

TEST(AuditLive, AContainerAsTheShimMadeItHasNoDrift) {
  auto ds = attest(good_agent());
  EXPECT_TRUE(ds.empty()) << show(ds);
}

TEST(AuditLive, RaisedPidsLimitIsDrift) {
  auto f = good_agent();
  f.cgroup.pids.value = 4096;
  auto ds = attest(f);
  ASSERT_EQ(ds.size(), 1u) << show(ds);
  EXPECT_EQ(ds[0].field, "pids.max");
  EXPECT_EQ(ds[0].actual, "4096");
  EXPECT_EQ(ds[0].expected, "<= 512");
  EXPECT_EQ(ds[0].rule, "roles.agent.pids");
  f.cgroup.pids.value.reset();  // "max"
  ds = attest(f);
  ASSERT_EQ(ds.size(), 1u) << show(ds);
  EXPECT_EQ(ds[0].actual, "unlimited");
}

TEST(AuditLive, LowerLimitsAreNotDrift) {
  auto f = good_agent();
  f.cgroup.pids.value = 10;
  f.cgroup.memory_limit.value = int64_t{1} << 30;
  f.cgroup.cpu_quota.value = 50000;
  EXPECT_TRUE(attest(f).empty());
}

TEST(AuditLive, ProcessSecurityDrift) {
  auto f = good_agent();
  f.status.seccomp = 0;
  f.status.no_new_privs = 0;
  f.status.caps["CapBnd"] |= uint64_t{1} << 21;  // CAP_SYS_ADMIN
  f.status.uids = {0, 0, 0, 0};
  f.status.groups = {0};
  auto ds = attest(f);
  std::string s = show(ds);
  for (const char* want : {"Seccomp is 0 (no filter), expected 2 (filter)", "NoNewPrivs is 0, expected 1", "CapBnd is",
                           "beyond the role: CAP_SYS_ADMIN", "Uid is 0 0 0 0, expected 1000", "Groups is also 0"}) {
    EXPECT_NE(s.find(want), std::string::npos) << "missing " << want << "\n" << s;
  }
}

TEST(AuditLive, CgroupDrift) {
  auto f = good_agent();
  f.cgroup.memory_limit.value.reset();
  f.cgroup.cpu_quota.value.reset();
  f.cgroup.memory_swap = cli::LimitValue{true, std::nullopt, "/sys/fs/cgroup/memory/x/memory.memsw.limit_in_bytes"};
  f.cgroup.oom_kill_disable = cli::LimitValue{true, 1, "/sys/fs/cgroup/memory/x/memory.oom_control"};
  std::string s = show(attest(f));
  for (const char* want : {"memory.max is unlimited", "cpu.max is unlimited",
                           "memory.memsw.limit_in_bytes is unlimited", "memory.oom_control is oom_kill_disable 1"}) {
    EXPECT_NE(s.find(want), std::string::npos) << "missing " << want << "\n" << s;
  }
}

TEST(AuditLive, MountDrift) {
  auto f = good_agent();
  // The Docker socket bind-mounted from the host's /run tmpfs, and /etc/shadow.
  auto extra = cli::parse_mountinfo(
      "605 600 0:25 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw\n"
      "606 600 8:1 /etc/shadow /shadow ro - ext4 /dev/sda1 rw\n");
  f.mounts.insert(f.mounts.end(), extra.begin(), extra.end());
  auto ds = attest(f);
  ASSERT_EQ(ds.size(), 2u) << show(ds);
  EXPECT_EQ(ds[0].field, "mount /var/run/docker.sock");
  EXPECT_EQ(ds[0].rule, "roles.agent.mounts.deny");
  EXPECT_EQ(ds[0].actual, "bind of /run/docker.sock");
  EXPECT_EQ(ds[1].rule, "roles.agent.mounts.allow");
  EXPECT_EQ(ds[1].actual, "bind of /etc/shadow");
}

TEST(AuditLive, ReadOnlyWorkspaceAndRootfs) {
  auto f = good_agent();
  // As preview: workspace and rootfs must be read-only; here both are rw.
  auto ds = attest(f, "preview");
  std::string s = show(ds);
  EXPECT_NE(s.find("mount / is rw, expected ro (rule roles.preview.readonlyRootfs"), std::string::npos) << s;
  EXPECT_NE(s.find("mount /workspace is rw, expected ro (rule roles.preview.workspace.mode"), std::string::npos) << s;
  // A workspace from somewhere else than the team's covefs.
  f = good_agent();
  f.mounts[3] = cli::parse_mountinfo("603 600 8:1 /home/x /workspace rw - ext4 /dev/sda1 rw\n")[0];
  s = show(attest(f));
  EXPECT_NE(s.find("source /home/x, expected source /run/cove/teams/alpha"), std::string::npos) << s;
}

TEST(AuditLive, HostNamespacesAreDrift) {
  auto f = good_agent();
  f.shares_host_ns["net"] = true;
  auto ds = attest(f);
  ASSERT_EQ(ds.size(), 1u) << show(ds);
  EXPECT_EQ(ds[0].rule, "roles.agent.hostNamespaces.network");
}

TEST(Mountinfo, ParsesEscapesAndMapsBindsToHostPaths) {
  auto m = cli::parse_mountinfo(
      "36 35 98:0 /a\\040b/c /mnt/x\\040y ro,noatime master:1 - ext3 /dev/root rw,errors=continue\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].root, "/a b/c");
  EXPECT_EQ(m[0].mount_point, "/mnt/x y");
  EXPECT_TRUE(m[0].read_only());
  EXPECT_EQ(m[0].fstype, "ext3");
  EXPECT_EQ(m[0].super_options, (std::vector<std::string>{"rw", "errors=continue"}));
  auto host = cli::parse_mountinfo(
      "1 0 98:0 / / rw - ext3 /dev/root rw\n2 1 98:0 /a\\040b /srv rw - ext3 /dev/root rw\n"
      "3 1 98:0 /a /a rw - ext3 /dev/root rw\n");
  EXPECT_EQ(cli::host_path_of(m[0], host), "/srv/c");  // the longest root containing it wins
  m[0].dev = "0:99";
  EXPECT_FALSE(cli::host_path_of(m[0], host));
}

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }
  void write(const std::string& rel, const std::string& text) { tree_.write(rel, text); }
  cove_test::TempTree tree_;
  const std::string dir_ = tree_.path();
};

TEST_F(FakeProc, CgroupV1Limits) {
  write("self/mountinfo", "30 1 0:40 / " + dir_ + "/cg/memory rw - cgroup cgroup rw,memory\n" + "31 1 0:41 / " + dir_ +
                              "/cg/pids rw - cgroup cgroup rw,pids\n" + "32 1 0:42 / " + dir_ +
                              "/cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
  write("cg/memory/cove/c1/memory.limit_in_bytes", "2147483648\n");
  write("cg/memory/cove/c1/memory.soft_limit_in_bytes", "9223372036854771712\n");
  write("cg/memory/cove/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  write("cg/pids/cove/c1/pids.max", "max\n");
  write("cg/cpu,cpuacct/cove/c1/cpu.cfs_quota_us", "-1\n");
  write("cg/cpu,cpuacct/cove/c1/cpu.cfs_period_us", "100000\n");
  cli::ProcReader r(dir_);
  auto l = cli::read_cgroup_limits("12:memory:/cove/c1\n5:pids:/cove/c1\n3:cpu,cpuacct:/cove/c1\n0::/cove/c1\n",
                                   r.host_mounts());
  EXPECT_TRUE(l.memory_limit.present);
  EXPECT_EQ(l.memory_limit.value, int64_t{2} << 30);
  EXPECT_TRUE(l.memory_reservation.present);
  EXPECT_FALSE(l.memory_reservation.value);  // the page-counter maximum is "unlimited"
  EXPECT_FALSE(l.memory_swap.present);       // no memsw: swap is not accounted
  EXPECT_EQ(l.oom_kill_disable.value, 0);
  EXPECT_TRUE(l.pids.present);
  EXPECT_FALSE(l.pids.value);
  EXPECT_FALSE(l.cpu_quota.value);
  EXPECT_EQ(l.cpu_period.value, 100000);
  EXPECT_EQ(l.pids.file, dir_ + "/cg/pids/cove/c1/pids.max");
}

TEST_F(FakeProc, CgroupV2Limits) {
  write("self/mountinfo", "30 1 0:40 / " + dir_ + "/cg rw - cgroup2 cgroup2 rw\n");
  write("cg/cove/c1/memory.max", "1073741824\n");
  write("cg/cove/c1/memory.low", "268435456\n");
  write("cg/cove/c1/memory.swap.max", "0\n");
  write("cg/cove/c1/pids.max", "512\n");
  write("cg/cove/c1/cpu.max", "50000 100000\n");
  cli::ProcReader r(dir_);
  auto l = cli::read_cgroup_limits("0::/cove/c1\n", r.host_mounts());
  EXPECT_EQ(l.memory_limit.value, int64_t{1} << 30);
  EXPECT_EQ(l.memory_reservation.value, int64_t{256} << 20);
  EXPECT_TRUE(l.memory_swap.present);
  EXPECT_EQ(l.memory_swap.value, int64_t{1} << 30);  // memory + swap
  EXPECT_EQ(l.pids.value, 512);
  EXPECT_EQ(l.cpu_quota.value, 50000);
  EXPECT_EQ(l.cpu_period.value, 100000);
}

TEST_F(FakeProc, RuntimeStateAndFacts) {
  // runc's state.json, and a process whose start time matches it.
  write("root/c1/state.json", R"({"id": "c1", "init_process_pid": 77, "init_process_start": 12345})");
  write("77/stat", "77 (sleep) S 1 77 77 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 12345 100 200");
  write("77/status", "Seccomp:\t2\nNoNewPrivs:\t1\nCapBnd:\t0000000000000000\nCapEff:\t0000000000000000\n");
  write("77/mountinfo", "1 0 0:50 / / ro - overlay overlay rw\n");
  write("77/cgroup", "0::/c1\n");
  write("77/uid_map", "         0          0 4294967295\n");
  write("self/mountinfo", "");
  fs::create_directories(dir_ + "/77/ns");
  fs::create_directories(dir_ + "/1/ns");
  write("1/ns/net", "host-net");
  fs::create_symlink(dir_ + "/1/ns/net", dir_ + "/77/ns/net");  // shares the host's network
  write("1/ns/pid", "host-pid");
  write("77/ns/pid", "own-pid");

  cli::ProcReader r(dir_);
  auto st = r.runtime_state(dir_ + "/root", "c1");
  EXPECT_EQ(st.state, cli::RunState::kRunning);
  EXPECT_EQ(st.pid, 77);
  EXPECT_EQ(r.runtime_state(dir_ + "/root", "c2").state, cli::RunState::kAbsent);

  auto facts = r.read(77, r.host_mounts());
  ASSERT_TRUE(facts) << facts.error().message();
  EXPECT_EQ(facts->status.seccomp, 2);
  EXPECT_TRUE(facts->identity_uid_map);
  EXPECT_TRUE(facts->shares_host_ns["net"]);
  EXPECT_FALSE(facts->shares_host_ns["pid"]);
  ASSERT_EQ(facts->mounts.size(), 1u);
  EXPECT_TRUE(facts->mounts[0].read_only());

  // runc still waiting for `start`: created. A reused PID (another start time): stopped.
  write("root/c1/exec.fifo", "");
  EXPECT_EQ(r.runtime_state(dir_ + "/root", "c1").state, cli::RunState::kCreated);
  fs::remove(dir_ + "/root/c1/exec.fifo");
  write("root/c1/state.json", R"({"id": "c1", "init_process_pid": 77, "init_process_start": 999})");
  EXPECT_EQ(r.runtime_state(dir_ + "/root", "c1").state, cli::RunState::kStopped);
}

}  // namespace
