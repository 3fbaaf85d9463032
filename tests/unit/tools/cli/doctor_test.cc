#include "tools/cli/doctor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tools/cli/docker_api.h"
#include "tools/cli/mount_probe.h"
#include "tools/cli/process.h"
#include "tools/cli/workspace.h"

namespace cli {
namespace {

bool exec_yes(const std::string&) { return true; }
bool exec_no(const std::string&) { return false; }

const Check* find(const std::vector<Check>& checks, const std::string& check, const std::string& subject) {
  for (const auto& c : checks) {
    if (c.check == check && c.subject == subject) {
      return &c;
    }
  }
  return nullptr;
}

TEST(DoctorDaemonJson, RegisteredRuntimeAndVariantsAreOk) {
  std::string text = R"({"runtimes":{
    "cove":{"path":"/usr/local/bin/cove-runtime","runtimeArgs":["--cove-policy","/etc/cove/policy.json"]},
    "cove-agent":{"path":"/usr/local/bin/cove-runtime","runtimeArgs":["--cove-policy","/p","--cove-role","agent"]},
    "nvidia":{"path":"/usr/bin/nvidia-container-runtime"}}})";
  auto checks = check_daemon_json("/etc/docker/daemon.json", text, "", &exec_yes, "/x/cove-runtime", "/p");
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].subject, "cove");
  EXPECT_EQ(checks[0].status, CheckStatus::kOk);
  EXPECT_EQ(checks[1].subject, "cove-agent");
  EXPECT_EQ(checks[1].facts["role"], "agent");
  EXPECT_NE(checks[1].detail.find("fixed role agent"), std::string::npos) << checks[1].detail;
  EXPECT_EQ(find(checks, "docker-runtime", "nvidia"), nullptr);
}

TEST(DoctorDaemonJson, MissingCoveFailsWithAJqFixAndNamesTheVariants) {
  std::string text = R"({"runtimes":{"cove-sync":{"path":"/usr/local/bin/cove-runtime"}}})";
  auto checks = check_daemon_json("/etc/docker/daemon.json", text, "", &exec_yes, "/x/cove-runtime", "/p");
  const Check* c = find(checks, "docker-runtime", "cove");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status, CheckStatus::kFail);
  EXPECT_NE(c->detail.find("cove-sync"), std::string::npos) << c->detail;
  EXPECT_NE(c->fix.find("jq '.runtimes.cove = {\"path\":\"/x/cove-runtime\""), std::string::npos) << c->fix;
  EXPECT_NE(c->fix.find("systemctl reload docker"), std::string::npos) << c->fix;
}

TEST(DoctorDaemonJson, PathNotExecutableFailsWithInstallFix) {
  std::string text = R"({"runtimes":{"cove":{"path":"/opt/cove-runtime"}}})";
  auto checks = check_daemon_json("/d.json", text, "", &exec_no, "/x/cove-runtime", "/p");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].status, CheckStatus::kFail);
  EXPECT_EQ(checks[0].fix, "install -D -m 0755 /x/cove-runtime /opt/cove-runtime");
}

TEST(DoctorDaemonJson, MalformedAndMissingFileFail) {
  auto bad = check_daemon_json("/d.json", std::string("{\"runtimes\":"), "", &exec_yes, "/x", "/p");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].status, CheckStatus::kFail);
  EXPECT_NE(bad[0].detail.find("not a JSON object"), std::string::npos);
  auto missing = check_daemon_json("/d.json", std::nullopt, "No such file", &exec_yes, "/x", "/p");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].status, CheckStatus::kFail);
  EXPECT_NE(missing[0].fix.find("> /d.json"), std::string::npos) << missing[0].fix;
}

TEST(DoctorDocker, PingStatuses) {
  EXPECT_EQ(check_docker_ping("/s", false, base::Error::make(ENOENT, "x")).status, CheckStatus::kWarn);
  EXPECT_EQ(check_docker_ping("/s", true, base::Error::make(ECONNREFUSED, "refused")).status, CheckStatus::kFail);
  HttpResponse ok{200, "OK", "OK"};
  EXPECT_EQ(check_docker_ping("/s", true, ok).status, CheckStatus::kOk);
  HttpResponse err{500, "Internal Server Error", ""};
  Check c = check_docker_ping("/s", true, err);
  EXPECT_EQ(c.status, CheckStatus::kFail);
  EXPECT_EQ(c.fix, "systemctl restart docker");
}

TEST(DockerApi, ParsesResponses) {
  auto r = parse_http_response("HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->reason, "OK");
  EXPECT_EQ(r->body, "OK");
  auto nf = parse_http_response("HTTP/1.1 404 Not Found\r\n\r\n{\"message\":\"No such image\"}");
  ASSERT_TRUE(nf);
  EXPECT_EQ(nf->status, 404);
  EXPECT_FALSE(parse_http_response("SSH-2.0-OpenSSH\r\n"));
  EXPECT_FALSE(parse_http_response("HTTP/1.1 200 OK\r\nX: y"));
  EXPECT_EQ(http_get_request("/_ping").rfind("GET /_ping HTTP/1.0\r\n", 0), 0u);
  EXPECT_TRUE(valid_image_reference("ghcr.io/cove/agent:1.2@sha256:abc"));
  EXPECT_FALSE(valid_image_reference("../../containers/json"));
  EXPECT_FALSE(valid_image_reference("a b"));
}

TEST(DockerApi, UnixSocketThatIsNotThereIsAnError) {
  auto r = docker_get("/nonexistent/docker.sock", "/_ping", 500);
  EXPECT_FALSE(r);
}

MountState mounted(ProbeState s, pid_t pid, bool alive) {
  MountState m;
  m.mountpoint = "/run/cove/teams/alpha";
  m.mounted = true;
  m.fstype = "fuse.covefs";
  m.source = "covefs:alpha";
  m.probe = ProbeResult{s, s == ProbeState::kNotConnected ? ENOTCONN : 0, 3};
  m.covefs_pid = pid;
  m.covefs_alive = alive;
  return m;
}

TEST(DoctorCovefs, StatesAndFixes) {
  WsPaths defaults;
  EXPECT_EQ(check_covefs(defaults, "alpha", mounted(ProbeState::kAnswering, 42, true), 2000).status, CheckStatus::kOk);
  Check dead = check_covefs(defaults, "alpha", mounted(ProbeState::kNotConnected, 42, false), 2000);
  EXPECT_EQ(dead.status, CheckStatus::kFail);
  EXPECT_NE(dead.detail.find("not answering"), std::string::npos) << dead.detail;
  EXPECT_EQ(dead.fix, "systemctl restart covefs@alpha");
  Check hung = check_covefs(defaults, "alpha", mounted(ProbeState::kTimeout, 42, true), 2000);
  EXPECT_EQ(hung.fix, "kill -KILL 42 && systemctl restart covefs@alpha");
  MountState none;
  none.mountpoint = "/m/alpha";
  WsPaths custom;
  custom.mounts_root = "/tmp/m";
  Check absent = check_covefs(custom, "alpha", none, 2000);
  EXPECT_EQ(absent.status, CheckStatus::kFail);
  EXPECT_EQ(absent.fix, "cove ws mount alpha --mounts-root /tmp/m");
  MountState other = none;
  other.fstype = "tmpfs";
  EXPECT_EQ(check_covefs(custom, "alpha", other, 2000).fix.rfind("umount /m/alpha && ", 0), 0u);
}

TEST(DoctorSync, RunningStoppedAndLag) {
  WsPaths p;
  auto s = parse_sync_status(
      R"({"team":"alpha","pid":123,"updated":"2026-01-01T00:00:00Z","lastSeqCommitted":10,"journalLastSeq":12,
          "lag":2,"pendingCount":1,"head":"0123456789abcdef","lastError":"","lastErrorTime":""})");
  ASSERT_TRUE(s);
  s->running = true;
  Check ok = check_sync(p, "alpha", *s, 15);
  EXPECT_EQ(ok.status, CheckStatus::kOk);
  EXPECT_EQ(ok.facts["lag"], 5);  // the journal moved on since the status was written
  s->last_error = "push: connection refused";
  EXPECT_EQ(check_sync(p, "alpha", *s, 15).status, CheckStatus::kWarn);
  s->running = false;
  Check stopped = check_sync(p, "alpha", *s, std::nullopt);
  EXPECT_EQ(stopped.status, CheckStatus::kFail);
  EXPECT_EQ(stopped.fix, "systemctl restart cove-sync@alpha");
  Check never = check_sync(p, "alpha", base::Error::make(ENOENT, "no file"), std::nullopt);
  EXPECT_EQ(never.status, CheckStatus::kFail);
  EXPECT_NE(never.detail.find("has not run"), std::string::npos);
  EXPECT_FALSE(parse_sync_status("[1,2]"));
}

TEST(DoctorJson, CountsAndOk) {
  std::vector<Check> checks(3);
  checks[1].status = CheckStatus::kWarn;
  Json j = doctor_json(checks);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["warnings"], 1);
  checks[2].status = CheckStatus::kFail;
  checks[2].fix = "x";
  j = doctor_json(checks);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["checks"][2]["fix"], "x");
  EXPECT_TRUE(j["checks"][0]["fix"].is_null());
}

TEST(MountProbe, AnswersOnAnOrdinaryDirectory) {
  ProbeResult r = probe_mount("/", 5000);
  EXPECT_EQ(r.state, ProbeState::kAnswering);
  ProbeResult missing = probe_mount("/nonexistent/cove/mount", 5000);
  EXPECT_EQ(missing.state, ProbeState::kError);
  EXPECT_EQ(missing.err, ENOENT);
}

TEST(MountProbe, FindsTheVisibleMount) {
  auto mounts = parse_mountinfo(
      "30 1 0:26 / /run/cove/teams/alpha rw - tmpfs tmpfs rw\n"
      "31 30 0:50 / /run/cove/teams/alpha rw,nosuid,nodev - fuse.covefs covefs:alpha rw,user_id=0\n");
  auto m = mount_at_path(mounts, "/run/cove/teams/alpha");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->fstype, "fuse.covefs");
  EXPECT_EQ(m->source, "covefs:alpha");
  EXPECT_FALSE(mount_at_path(mounts, "/run/cove/teams/beta"));
}

TEST(Process, RunsAndTimesOut) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"}, 10000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  auto slow = run_process({"sleep", "30"}, 200);
  ASSERT_TRUE(slow);
  EXPECT_TRUE(slow->timed_out);
  EXPECT_FALSE(run_process({"/nonexistent/binary"}, 1000));
  EXPECT_TRUE(find_executable("sh"));
  EXPECT_FALSE(find_executable("cove-no-such-program"));
  EXPECT_TRUE(process_alive(::getpid()));
  EXPECT_FALSE(process_alive(0));
}

TEST(Workspace, NamesQuotingAndFlags) {
  EXPECT_TRUE(valid_team_name("alpha-1.b_c"));
  EXPECT_FALSE(valid_team_name(".hidden"));
  EXPECT_FALSE(valid_team_name("a/b"));
  EXPECT_FALSE(valid_team_name(""));
  EXPECT_EQ(shell_quote("/tmp/a"), "/tmp/a");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  WsPaths p;
  EXPECT_TRUE(p.defaults());
  p.journal_root = "/tmp/j";
  EXPECT_EQ(p.non_default_flags(), " --journal-root /tmp/j");
  EXPECT_EQ(sync_fix(p, "alpha"),
            "cove-sync --team alpha --repo /var/lib/cove/workspaces/alpha --journal /tmp/j/alpha --state-dir "
            "/var/lib/cove/sync/alpha");
}

}  // namespace
}  // namespace cli
