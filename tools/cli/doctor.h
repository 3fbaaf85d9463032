#pragma once
// cove doctor: the health check an orchestrator runs at boot. Each check has a status (ok,
// warn, fail), a sentence, and for what is wrong the exact command that fixes it:
//
//   docker-runtime   /etc/docker/daemon.json registers runtime "cove" (and variants such as
//                    cove-agent) with a path that is an executable file
//   docker-socket    the Docker socket answers GET /_ping (HTTP/1.0, spoken here)
//   docker-loaded    the running dockerd lists the cove runtime (GET /info)
//   backend          runc, crun, sysbox-runc and every backend the policy names: found, version
//   policy           the policy loads with the strict loader cove-runtime uses
//   covefs           per team: covefs is mounted at the team's mountpoint and answers (statfs in
//                    a child with a deadline, so a hung mount cannot hang doctor)
//   sync             per team: cove-sync's status.json names a live process; lag, last error
//   image            per --image: Docker has it (GET /images/<name>/json)
//
// Any fail makes the exit code 1; warnings do not.

#include <string>
#include <vector>

#include "base/result.h"
#include "tools/cli/docker_api.h"
#include "tools/cli/output.h"
#include "tools/cli/workspace.h"

namespace CLI {
class App;
}

namespace cli {

enum class CheckStatus { kOk, kWarn, kFail };

const char* check_status_name(CheckStatus s);

struct Check {
  std::string check;    ///< stable id: "covefs", "sync", "docker-runtime", ...
  std::string subject;  ///< what it is about: a team, a runtime name, a backend, an image
  CheckStatus status = CheckStatus::kOk;
  std::string detail;
  std::string fix;  ///< the command that fixes it; empty when ok or unknown
  Json facts = Json::object();  ///< check-specific values (pid, lag, version, ...)
};

/// The checks of daemon.json's text (nullopt: the file could not be read, `read_error` says
/// why). `executable` tells whether a runtime path is an executable file; `runtime_binary` is
/// the cove-runtime to name in fix commands.
std::vector<Check> check_daemon_json(const std::string& file, const std::optional<std::string>& text,
                                     const std::string& read_error, bool (*executable)(const std::string&),
                                     const std::string& runtime_binary, const std::string& policy_path);

/// The docker-socket check from whether the socket exists and what GET /_ping gave.
Check check_docker_ping(const std::string& socket, bool exists, const base::Result<HttpResponse>& ping);

/// The covefs check of one team from its mount state.
Check check_covefs(const WsPaths& paths, const std::string& team, const MountState& m, int timeout_ms);

/// The sync check of one team from its status (or why it could not be read) and the journal's
/// current last seq (nullopt: no journal).
Check check_sync(const WsPaths& paths, const std::string& team, const base::Result<SyncState>& status,
                 std::optional<uint64_t> journal_seq);

struct DoctorOptions {
  std::string daemon_json = "/etc/docker/daemon.json";
  std::string docker_socket = "/var/run/docker.sock";
  std::string policy;
  WsPaths paths;
  std::vector<std::string> teams;   // default: every team under the workspaces root
  std::vector<std::string> images;  // checked through the Docker API
  int timeout_ms = 2000;            // per probe: mount statfs, Docker request, --version
  bool no_docker = false;           // hosts without Docker (containerd, Kubernetes)
  bool json = false;
};

CLI::App* add_doctor(CLI::App& app, DoctorOptions& o);

/// 0: no check failed; 1: a check failed; 2: usage error.
int doctor(const DoctorOptions& o, const Io& io);

/// {"ok","failed","warnings","checks":[{"check","subject","status","detail","fix","facts"}]}
Json doctor_json(const std::vector<Check>& checks);

}  // namespace cli
