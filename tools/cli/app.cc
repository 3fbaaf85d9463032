#include <CLI/CLI.hpp>

#include "tools/cli/audit_live.h"
#include "tools/cli/audit_log.h"
#include "tools/cli/cli.h"
#include "tools/cli/fsmonitor.h"
#include "tools/cli/doctor.h"
#include "tools/cli/output.h"
#include "tools/cli/policy_bpf.h"
#include "tools/cli/policy_diff.h"
#include "tools/cli/policy_explain.h"
#include "tools/cli/policy_lint.h"
#include "tools/cli/preview_detect.h"
#include "tools/cli/watch.h"
#include "tools/cli/ws.h"

namespace cli {

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err, bool color_auto) {
  CLI::App app("cove: policy audit, health and workspaces for cove-runtime and covefs", "cove");
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every subcommand");
  std::string color = "auto";
  app.add_option("--color", color, "colour on stdout: auto (a terminal), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  app.footer("Exit codes: 0 ok, 1 findings or unhealthy, 2 usage or input error. Reference: docs/cli.md\n");

  CLI::App* policy = app.add_subcommand("policy", "Check, explain, compare and compile policy files");
  policy->require_subcommand(1);
  PolicyLintOptions lint;
  PolicyExplainOptions explain;
  PolicyDiffOptions diff;
  PolicyBpfOptions bpf;
  CLI::App* lint_cmd = add_policy_lint(*policy, lint);
  CLI::App* explain_cmd = add_policy_explain(*policy, explain);
  CLI::App* diff_cmd = add_policy_diff(*policy, diff);
  CLI::App* bpf_cmd = add_policy_bpf(*policy, bpf);

  CLI::App* audit = app.add_subcommand("audit", "The decision log and live attestation of running containers");
  audit->require_subcommand(1);
  AuditLogOptions log;
  AuditLiveOptions live;
  CLI::App* log_cmd = add_audit_log(*audit, log);
  CLI::App* live_cmd = add_audit_live(*audit, live);

  DoctorOptions doctor_opts;
  CLI::App* doctor_cmd = add_doctor(app, doctor_opts);
  WsOptions ws_opts;
  CLI::App* ws_cmd = add_ws(app, ws_opts);

  WatchOptions watch_opts;
  CLI::App* watch_cmd = add_watch(app, watch_opts);
  FsmonitorOptions fsmonitor_opts;
  CLI::App* fsmonitor_cmd = add_fsmonitor(app, fsmonitor_opts);
  CLI::App* preview = app.add_subcommand("preview", "Preview servers of a workspace");
  preview->require_subcommand(1);
  PreviewDetectOptions detect_opts;
  CLI::App* detect_cmd = add_preview_detect(*preview, detect_opts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    // CLI11's own exit codes (105, 106, ...) would mean nothing to a caller; every usage error
    // is 2. Name the command that was being parsed and what it offers.
    CLI::App* at = &app;
    for (bool deeper = true; deeper;) {
      deeper = false;
      for (CLI::App* sub : at->get_subcommands({})) {
        if (sub->parsed()) {
          at = sub;
          deeper = true;
          break;
        }
      }
    }
    std::string name;
    for (CLI::App* a = at; a != &app && a != nullptr; a = a->get_parent()) {
      name = " " + a->get_name() + name;
    }
    name = "cove" + name;
    err << name << ": " << e.what() << "\n";
    std::vector<std::string> subs;
    for (CLI::App* sub : at->get_subcommands({})) {
      subs.push_back(sub->get_name());
    }
    if (!subs.empty()) {
      err << "Subcommands of " << name << ": " << join(subs) << "\n";
    }
    err << "Run '" << name << " --help' for usage.\n";
    return kExitUsage;
  }

  Io io{out, err, color == "always" || (color == "auto" && color_auto)};
  try {
    if (lint_cmd->parsed()) {
      return policy_lint(lint, io);
    }
    if (explain_cmd->parsed()) {
      return policy_explain(explain, io);
    }
    if (diff_cmd->parsed()) {
      return policy_diff(diff, io);
    }
    if (bpf_cmd->parsed()) {
      return policy_bpf(bpf, io);
    }
    if (log_cmd->parsed()) {
      return audit_log(log, io);
    }
    if (live_cmd->parsed()) {
      return audit_live(live, io);
    }
    if (doctor_cmd->parsed()) {
      return doctor(doctor_opts, io);
    }
    if (ws_cmd->parsed()) {
      return ws(ws_opts, io);
    }
    if (watch_cmd->parsed()) {
      return watch(watch_opts, io);
    }
    if (fsmonitor_cmd->parsed()) {
      return fsmonitor(fsmonitor_opts, io);
    }
    if (detect_cmd->parsed()) {
      return preview_detect(detect_opts, io);
    }
  } catch (const std::exception& e) {
    // A JSON document of an unexpected shape (nlohmann throws on a wrong type): an input error,
    // never a crash.
    err << "cove: " << e.what() << '\n';
    return kExitUsage;
  }
  err << "cove: no subcommand\n";
  return kExitUsage;
}

}  // namespace cli
