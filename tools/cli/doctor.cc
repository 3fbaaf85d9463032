#include "tools/cli/doctor.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/file.h"
#include "policy/policy.h"
#include "tools/cli/process.h"

namespace cli {

namespace {

Check make(std::string check, std::string subject, CheckStatus status, std::string detail, std::string fix = "") {
  Check c;
  c.check = std::move(check);
  c.subject = std::move(subject);
  c.status = status;
  c.detail = std::move(detail);
  c.fix = std::move(fix);
  return c;
}

std::string runtime_json(const std::string& runtime_binary, const std::string& policy_path) {
  return fmt::format(R"({{"path":"{}","runtimeArgs":["--cove-policy","{}"]}})", runtime_binary, policy_path);
}

bool is_cove_runtime(const std::string& name, const std::string& path) {
  return name == "cove" || name.rfind("cove-", 0) == 0 ||
         (path.size() >= 13 && path.compare(path.size() - 13, 13, "/cove-runtime") == 0);
}

std::string short_oid(const std::string& oid) { return oid.substr(0, 12); }

// The line of `--version` output that says the version ("runc version 1.1.12"), else the first.
std::string version_line(const std::string& out) {
  std::string first;
  size_t i = 0;
  while (i < out.size()) {
    size_t nl = out.find('\n', i);
    if (nl == std::string::npos) {
      nl = out.size();
    }
    std::string line = out.substr(i, nl - i);
    i = nl + 1;
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.empty()) {
      continue;
    }
    if (first.empty()) {
      first = line;
    }
    if (line.find("version") != std::string::npos) {
      return line;
    }
  }
  return first;
}

std::string install_fix(const std::string& backend) {
  if (backend == "runc" || backend == "crun") {
    return "apt-get install -y " + backend;
  }
  return "";
}

}  // namespace

const char* check_status_name(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk: return "ok";
    case CheckStatus::kWarn: return "warn";
    case CheckStatus::kFail: return "fail";
  }
  return "fail";
}

std::vector<Check> check_daemon_json(const std::string& file, const std::optional<std::string>& text,
                                     const std::string& read_error, bool (*executable)(const std::string&),
                                     const std::string& runtime_binary, const std::string& policy_path) {
  std::vector<Check> out;
  std::string entry = runtime_json(runtime_binary, policy_path);
  std::string reload = "systemctl reload docker";
  if (!text) {
    out.push_back(make("docker-runtime", "cove", CheckStatus::kFail,
                       fmt::format("{} cannot be read ({}): Docker knows no cove runtime", file, read_error),
                       fmt::format("mkdir -p {} && echo '{{\"runtimes\":{{\"cove\":{}}}}}' > {} && {}",
                                   shell_quote(file.substr(0, std::max<size_t>(1, file.rfind('/')))), entry,
                                   shell_quote(file), reload)));
    return out;
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    // dockerd refuses to start with a daemon.json it cannot parse.
    out.push_back(make("docker-runtime", "cove", CheckStatus::kFail,
                       fmt::format("{} is not a JSON object: dockerd will not start with it", file),
                       "jq . " + shell_quote(file)));
    return out;
  }
  std::string add_fix = fmt::format("jq '.runtimes.cove = {}' {} > {}.new && mv {}.new {} && {}", entry,
                                    shell_quote(file), shell_quote(file), shell_quote(file), shell_quote(file), reload);
  auto runtimes = j.find("runtimes");
  if (runtimes == j.end() || !runtimes->is_object()) {
    out.push_back(make("docker-runtime", "cove", CheckStatus::kFail, file + " has no \"runtimes\" section", add_fix));
    return out;
  }
  // "cove" first, then its variants in name order.
  std::vector<std::string> names;
  for (auto it = runtimes->begin(); it != runtimes->end(); ++it) {
    std::string path = it->is_object() && it->contains("path") && (*it)["path"].is_string()
                           ? (*it)["path"].get<std::string>()
                           : "";
    if (is_cove_runtime(it.key(), path)) {
      names.push_back(it.key());
    }
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return (a == "cove") != (b == "cove") ? a == "cove" : a < b;
  });
  if (std::find(names.begin(), names.end(), "cove") == names.end()) {
    std::string also = names.empty() ? "" : " (it has " + join(names) + ")";
    out.push_back(make("docker-runtime", "cove", CheckStatus::kFail,
                       fmt::format("{} does not register runtime \"cove\"{}", file, also), add_fix));
  }
  for (const auto& name : names) {
    const auto& rt = (*runtimes)[name];
    std::string path = rt.is_object() && rt.contains("path") && rt["path"].is_string() ? rt["path"].get<std::string>()
                                                                                       : "";
    std::vector<std::string> args;
    if (rt.is_object() && rt.contains("runtimeArgs") && rt["runtimeArgs"].is_array()) {
      for (const auto& a : rt["runtimeArgs"]) {
        if (a.is_string()) {
          args.push_back(a.get<std::string>());
        }
      }
    }
    std::string role;
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--cove-role") {
        role = args[i + 1];
      }
    }
    Check c;
    c.check = "docker-runtime";
    c.subject = name;
    c.facts["path"] = path;
    c.facts["runtimeArgs"] = args;
    c.facts["role"] = string_or_null(role);
    if (path.empty()) {
      c.status = CheckStatus::kFail;
      c.detail = fmt::format("runtimes.{} in {} has no \"path\"", name, file);
      c.fix = name == "cove" ? add_fix : "";
    } else if (path[0] != '/' || !executable(path)) {
      c.status = CheckStatus::kFail;
      c.detail = fmt::format("runtimes.{}.path {} is not an executable file", name, path);
      // Without a cove-runtime to copy there is no one command that fixes it.
      c.fix = runtime_binary == path ? ""
                                     : fmt::format("install -D -m 0755 {} {}", shell_quote(runtime_binary), shell_quote(path));
    } else {
      c.status = CheckStatus::kOk;
      c.detail = path + (args.empty() ? "" : " " + join(args, " ")) +
                 (role.empty() ? " (role from the container)" : " (fixed role " + role + ")");
    }
    out.push_back(std::move(c));
  }
  return out;
}

Check check_docker_ping(const std::string& socket, bool exists, const base::Result<HttpResponse>& ping) {
  if (!exists) {
    return make("docker-socket", socket, CheckStatus::kWarn,
                socket + " does not exist: Docker is not running here (fine under containerd or Kubernetes)",
                "systemctl start docker");
  }
  if (!ping) {
    return make("docker-socket", socket, CheckStatus::kFail, "GET /_ping: " + ping.error().message(),
                "systemctl restart docker");
  }
  if (ping->status != 200) {
    return make("docker-socket", socket, CheckStatus::kFail,
                fmt::format("GET /_ping answered {} {}", ping->status, ping->reason), "systemctl restart docker");
  }
  return make("docker-socket", socket, CheckStatus::kOk, "GET /_ping answered 200 " + ping->body.substr(0, 16));
}

Check check_covefs(const WsPaths& paths, const std::string& team, const MountState& m, int timeout_ms) {
  Check c;
  c.check = "covefs";
  c.subject = team;
  c.facts["mountpoint"] = m.mountpoint;
  c.facts["mounted"] = m.mounted;
  c.facts["answering"] = m.probe && m.probe->state == ProbeState::kAnswering;
  c.facts["probe"] = m.probe ? Json(probe_state_name(m.probe->state)) : Json(nullptr);
  c.facts["pid"] = m.covefs_pid != 0 ? Json(m.covefs_pid) : Json(nullptr);
  c.facts["pidAlive"] = m.covefs_alive;
  std::string pid = m.covefs_pid == 0 ? "" : fmt::format(" (pid {} {})", m.covefs_pid, m.covefs_alive ? "alive" : "gone");
  std::string fix = covefs_fix(paths, team);
  if (!m.mounted) {
    c.status = CheckStatus::kFail;
    if (m.fstype.empty()) {
      c.detail = "not mounted at " + m.mountpoint;
      c.fix = fix;
    } else {
      c.detail = fmt::format("{} has a {} mount, not covefs", m.mountpoint, m.fstype);
      c.fix = "umount " + shell_quote(m.mountpoint) + " && " + fix;
    }
    return c;
  }
  const ProbeResult& p = *m.probe;
  c.facts["probeMs"] = p.elapsed_ms;
  if (p.state == ProbeState::kAnswering) {
    c.status = CheckStatus::kOk;
    c.detail = fmt::format("mounted at {} ({}), {}{}", m.mountpoint, m.source, describe(p, timeout_ms), pid);
    return c;
  }
  c.status = CheckStatus::kFail;
  c.detail = fmt::format("mounted at {} but {}{}", m.mountpoint, describe(p, timeout_ms), pid);
  // A covefs started on a dead mount aborts the old connection and mounts again; a hung one
  // must be killed first.
  c.fix = p.state == ProbeState::kTimeout && m.covefs_alive ? fmt::format("kill -KILL {} && {}", m.covefs_pid, fix)
                                                             : fix;
  return c;
}

Check check_sync(const WsPaths& paths, const std::string& team, const base::Result<SyncState>& status,
                 std::optional<uint64_t> journal_seq) {
  Check c;
  c.check = "sync";
  c.subject = team;
  std::string fix = sync_fix(paths, team);
  std::string file = paths.sync_status(team);
  c.facts["status"] = file;
  if (!status) {
    c.status = CheckStatus::kFail;
    c.detail = status.error().code() == ENOENT ? "no " + file + ": cove-sync has not run for this team"
                                               : "cannot read its status: " + status.error().message();
    c.fix = fix;
    return c;
  }
  const SyncState& s = *status;
  // The status is as of cove-sync's last batch; the journal may have grown since.
  uint64_t end = std::max(s.journal_last_seq, journal_seq.value_or(0));
  uint64_t lag = end > s.last_seq_committed ? end - s.last_seq_committed : 0;
  c.facts["pid"] = s.pid;
  c.facts["running"] = s.running;
  c.facts["lag"] = lag;
  c.facts["lastSeqCommitted"] = s.last_seq_committed;
  c.facts["journalLastSeq"] = end;
  c.facts["pending"] = s.pending;
  c.facts["lastError"] = s.last_error;
  c.facts["updated"] = s.updated;
  std::string where = fmt::format("lag {} (journal at {}, committed {})", lag, end, s.last_seq_committed);
  if (!s.running) {
    c.status = CheckStatus::kFail;
    c.detail = fmt::format("not running: pid {} is gone (status of {}); {}", s.pid, s.updated, where);
    c.fix = fix;
    return c;
  }
  if (!s.last_error.empty()) {
    c.status = CheckStatus::kWarn;
    c.detail = fmt::format("running (pid {}), {}; last error at {}: {}", s.pid, where, s.last_error_time, s.last_error);
    return c;
  }
  c.status = CheckStatus::kOk;
  c.detail = fmt::format("running (pid {}), {}{}", s.pid, where, s.head.empty() ? "" : ", head " + short_oid(s.head));
  return c;
}

Json doctor_json(const std::vector<Check>& checks) {
  Json j;
  size_t failed = 0;
  size_t warnings = 0;
  Json list = Json::array();
  for (const auto& c : checks) {
    failed += c.status == CheckStatus::kFail ? 1 : 0;
    warnings += c.status == CheckStatus::kWarn ? 1 : 0;
    Json e;
    e["check"] = c.check;
    e["subject"] = c.subject;
    e["status"] = check_status_name(c.status);
    e["detail"] = c.detail;
    e["fix"] = string_or_null(c.fix);
    e["facts"] = c.facts;
    list.push_back(std::move(e));
  }
  j["ok"] = failed == 0;
  j["failed"] = failed;
  j["warnings"] = warnings;
  j["checks"] = std::move(list);
  return j;
}

CLI::App* add_doctor(CLI::App& app, DoctorOptions& o) {
  CLI::App* c = app.add_subcommand("doctor", "Health of this host: Docker runtime, backends, policy, covefs, cove-sync");
  c->add_option("--daemon-json", o.daemon_json, "Docker's daemon configuration")->default_str(o.daemon_json);
  c->add_option("--docker-socket", o.docker_socket, "Docker's API socket")->default_str(o.docker_socket);
  c->add_flag("--no-docker", o.no_docker, "skip the Docker checks (hosts running containerd or Kubernetes)");
  c->add_option("--policy", o.policy, "the policy cove-runtime loads")->default_str(policy::kDefaultPolicyPath);
  add_path_options(c, o.paths);
  c->add_option("--team", o.teams, "check only this team (repeatable; default: every team under the workspaces root)");
  c->add_option("--image", o.images, "an image that must be present in Docker (repeatable)");
  c->add_option("--timeout-ms", o.timeout_ms, "deadline of each probe (mount, Docker request, --version)")
      ->default_str("2000")
      ->check(CLI::Range(50, 600000));
  c->add_flag("--json", o.json, "print the checks as JSON");
  return c;
}

int doctor(const DoctorOptions& o, const Io& io) {
  std::vector<Check> checks;
  std::string policy_path = o.policy.empty() ? policy::kDefaultPolicyPath : o.policy;
  std::string dir = self_dir();
  // The cove-runtime to install where daemon.json points: next to cove, or in the build tree.
  std::string runtime_binary;
  for (const std::string& c : {dir + "/cove-runtime", dir + "/../../shim/cove-runtime"}) {
    if (!dir.empty() && runtime_binary.empty() && is_executable_file(c)) {
      runtime_binary = canonical_parent_path(c);
    }
  }
  if (runtime_binary.empty()) {
    runtime_binary = "/usr/local/bin/cove-runtime";
  }

  // Docker.
  bool docker_up = false;
  std::set<std::string> cove_runtimes;
  if (!o.no_docker) {
    auto text = base::read_file(o.daemon_json);
    std::optional<std::string> t;
    std::string why;
    if (text) {
      t = *text;
    } else {
      why = text.error().message();
    }
    for (auto& c : check_daemon_json(o.daemon_json, t, why, &is_executable_file, runtime_binary, policy_path)) {
      if (c.status == CheckStatus::kOk) {
        cove_runtimes.insert(c.subject);
      }
      checks.push_back(std::move(c));
    }
    struct stat st {};
    bool exists = ::stat(o.docker_socket.c_str(), &st) == 0;
    base::Result<HttpResponse> ping = base::Error::make(ENOENT, "no socket");
    if (exists) {
      ping = docker_get(o.docker_socket, "/_ping", o.timeout_ms);
    }
    checks.push_back(check_docker_ping(o.docker_socket, exists, ping));
    docker_up = exists && ping && ping->status == 200;
    if (docker_up && !cove_runtimes.empty()) {
      auto info = docker_get(o.docker_socket, "/info", o.timeout_ms);
      auto j = info && info->status == 200 ? nlohmann::json::parse(info->body, nullptr, false) : nlohmann::json();
      if (j.is_object() && j.contains("Runtimes") && j["Runtimes"].is_object()) {
        std::vector<std::string> missing;
        for (const auto& name : cove_runtimes) {
          if (!j["Runtimes"].contains(name)) {
            missing.push_back(name);
          }
        }
        checks.push_back(missing.empty()
                             ? make("docker-loaded", "dockerd", CheckStatus::kOk,
                                    "dockerd lists " + join({cove_runtimes.begin(), cove_runtimes.end()}))
                             : make("docker-loaded", "dockerd", CheckStatus::kFail,
                                    "dockerd does not list " + join(missing) + " (daemon.json changed since it loaded it)",
                                    "systemctl reload docker"));
      } else {
        checks.push_back(make("docker-loaded", "dockerd", CheckStatus::kWarn,
                              "GET /info: " + (info ? fmt::format("answered {}", info->status) : info.error().message())));
      }
    }
  }

  // Policy, then the backends it names.
  auto pol = policy::load_policy(policy_path);
  std::map<std::string, std::vector<std::string>> named;  // backend path -> roles ("default" too)
  if (pol) {
    named[pol->default_backend].push_back("defaultBackend");
    for (const auto& [name, role] : pol->roles) {
      if (!role.backend.empty()) {
        named[role.backend].push_back("role " + name);
      }
    }
    Check c = make("policy", policy_path, CheckStatus::kOk,
                   fmt::format("loads: {} roles ({}), {}", pol->roles.size(), pol->role_names(), pol->digest.substr(0, 19)));
    c.facts["digest"] = pol->digest;
    checks.push_back(std::move(c));
  } else {
    struct stat st {};
    bool exists = ::stat(policy_path.c_str(), &st) == 0;
    std::string msg = pol.error().message();
    if (msg.find(policy_path) == std::string::npos) {
      msg = policy_path + ": " + msg;
    }
    checks.push_back(make("policy", policy_path, CheckStatus::kFail,
                          (exists ? "cove-runtime refuses every container: " : "missing: ") + msg,
                          exists ? "cove policy lint " + shell_quote(policy_path)
                                 : "install -D -m 0644 docker/policy.json " + shell_quote(policy_path)));
  }
  for (const std::string name : {"runc", "crun", "sysbox-runc"}) {
    auto path = find_executable(name);
    Check c;
    c.check = "backend";
    c.subject = name;
    std::vector<std::string> users;
    for (const auto& [p, roles] : named) {
      if (path && p == *path) {
        users.insert(users.end(), roles.begin(), roles.end());
      }
    }
    if (!path) {
      c.status = name == "runc" ? CheckStatus::kWarn : CheckStatus::kOk;
      c.detail = "not in PATH" + std::string(name == "runc" ? " (Docker's default runtime)" : " (optional)");
      c.fix = name == "runc" ? install_fix(name) : "";
      c.facts["path"] = nullptr;
    } else {
      auto v = run_process({*path, "--version"}, o.timeout_ms);
      std::string version = v && v->exit_code == 0 ? version_line(v->out) : "";
      c.facts["path"] = *path;
      c.facts["version"] = string_or_null(version);
      if (version.empty()) {
        c.status = CheckStatus::kFail;
        c.detail = *path + " --version failed" +
                   (v ? (v->timed_out ? " (timed out)" : ": " + version_line(v->err)) : ": " + v.error().message());
      } else {
        c.status = CheckStatus::kOk;
        c.detail = *path + ": " + version + (users.empty() ? "" : "; used by " + join(users));
      }
    }
    checks.push_back(std::move(c));
  }
  for (const auto& [p, roles] : named) {
    if (is_executable_file(p)) {
      continue;
    }
    std::string base = p.substr(p.rfind('/') + 1);
    checks.push_back(make("backend", p, CheckStatus::kFail,
                          fmt::format("{} is not an executable file; {} cannot start containers", p, join(roles)),
                          install_fix(base)));
  }

  // Workspaces.
  std::vector<std::string> teams = o.teams.empty() ? list_teams(o.paths.workspaces_root) : o.teams;
  if (teams.empty()) {
    checks.push_back(make("workspaces", o.paths.workspaces_root, CheckStatus::kWarn,
                          "no team workspaces under " + o.paths.workspaces_root,
                          "cove ws create TEAM" + o.paths.non_default_flags()));
  }
  std::vector<MountInfo> mounts = own_mounts();
  for (const auto& team : teams) {
    if (!valid_team_name(team)) {
      io.err << "cove doctor: invalid team name \"" << team << "\"\n";
      return kExitUsage;
    }
    MountState m = mount_state(o.paths, team, mounts, o.timeout_ms);
    checks.push_back(check_covefs(o.paths, team, m, o.timeout_ms));
    checks.push_back(check_sync(o.paths, team, read_sync_status(o.paths.sync_status(team)),
                                journal_last_seq(o.paths.journal(team))));
  }

  // Images.
  for (const auto& image : o.images) {
    if (!valid_image_reference(image)) {
      io.err << "cove doctor: \"" << image << "\" is not an image reference\n";
      return kExitUsage;
    }
    if (!docker_up) {
      checks.push_back(make("image", image, CheckStatus::kFail, "cannot ask Docker: " + o.docker_socket + " does not answer",
                            "systemctl start docker"));
      continue;
    }
    auto r = docker_get(o.docker_socket, "/images/" + image + "/json", o.timeout_ms);
    if (r && r->status == 200) {
      auto j = nlohmann::json::parse(r->body, nullptr, false);
      std::string id = j.is_object() && j.contains("Id") && j["Id"].is_string() ? j["Id"].get<std::string>() : "";
      Check c = make("image", image, CheckStatus::kOk, "present" + (id.empty() ? "" : " (" + id.substr(0, 19) + ")"));
      c.facts["id"] = id;
      checks.push_back(std::move(c));
    } else if (r && r->status == 404) {
      checks.push_back(make("image", image, CheckStatus::kFail, "not present", "docker pull " + image));
    } else {
      checks.push_back(make("image", image, CheckStatus::kFail,
                            "GET /images/" + image + "/json: " +
                                (r ? fmt::format("answered {} {}", r->status, r->reason) : r.error().message()),
                            ""));
    }
  }

  Json j = doctor_json(checks);
  bool ok = j["ok"].get<bool>();
  if (o.json) {
    io.out << j.dump(2) << '\n';
    return ok ? kExitOk : kExitFindings;
  }
  Table t({"STATUS", "CHECK", "SUBJECT", "DETAIL"});
  for (const auto& c : checks) {
    Color color = c.status == CheckStatus::kOk ? Color::kGreen : c.status == CheckStatus::kWarn ? Color::kYellow : Color::kRed;
    t.add({Cell(check_status_name(c.status), color), c.check, c.subject, c.detail});
  }
  t.print(io);
  bool any_fix = false;
  for (const auto& c : checks) {
    if (c.status != CheckStatus::kOk && !c.fix.empty()) {
      if (!any_fix) {
        io.out << '\n';
        any_fix = true;
      }
      io.out << "fix " << c.check << " " << c.subject << ": " << paint(io, Color::kBold, c.fix) << '\n';
    }
  }
  io.out << '\n'
         << fmt::format("{} checks: {} failed, {} warnings", checks.size(), j["failed"].get<size_t>(),
                        j["warnings"].get<size_t>())
         << '\n';
  return ok ? kExitOk : kExitFindings;
}

}  // namespace cli
