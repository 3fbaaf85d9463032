#include "tools/cli/policy_explain.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "policy/seccomp.h"
#include "tools/cli/docker_default.h"
#include "tools/cli/seccomp_view.h"

namespace cli {

namespace {

std::string hex_or_dec(uint64_t v) { return v < 10 ? std::to_string(v) : fmt::format("{:#x}", v); }

std::string describe_condition(const Json& c) {
  std::string arg = "arg" + std::to_string(c.value("index", 0));
  uint64_t value = c.value("value", uint64_t{0});
  uint64_t two = c.value("valueTwo", uint64_t{0});
  std::string op = c.value("op", "");
  if (op == "SCMP_CMP_MASKED_EQ") {
    return arg + " & " + hex_or_dec(value) + " == " + hex_or_dec(two);
  }
  static const std::pair<const char*, const char*> kOps[] = {{"SCMP_CMP_EQ", "=="}, {"SCMP_CMP_NE", "!="},
                                                             {"SCMP_CMP_LT", "<"},  {"SCMP_CMP_LE", "<="},
                                                             {"SCMP_CMP_GT", ">"},  {"SCMP_CMP_GE", ">="}};
  for (const auto& [name, sym] : kOps) {
    if (op == name) {
      return arg + " " + sym + " " + hex_or_dec(value);
    }
  }
  return arg + " " + op + " " + hex_or_dec(value);
}

Json string_array(const std::vector<std::string>& v) { return Json(v); }

Json seccomp_model(const policy::Role& r) {
  Json profile = policy::baseline_profile(r.seccomp.deny);
  SeccompView view(profile);
  SeccompView docker(docker_default_seccomp());
  SeccompDelta delta = compare_seccomp(docker, view);

  Json conditional = Json::array();
  for (const auto& name : view.named(SyscallAccess::kConditional)) {
    conditional.push_back(Json{{"name", name}, {"conditions", view.conditions(name)}});
  }
  Json denied = Json::array();
  for (const auto& rule : profile["syscalls"]) {
    std::string action = rule.value("action", "");
    if (!policy::seccomp_action_denies(action)) {
      continue;
    }
    for (const auto& n : rule["names"]) {
      denied.push_back(Json{{"name", n}, {"action", describe_action(action, rule.value("errnoRet", 1))}});
    }
  }
  return Json{{"baseline", r.seccomp.baseline},
              {"deny", string_array(r.seccomp.deny)},
              {"defaultAction", view.default_action()},
              {"defaultActionText", view.default_action_text()},
              {"allowed", string_array(view.named(SyscallAccess::kAllowed))},
              {"conditional", conditional},
              {"denied", denied},
              {"vsDocker", Json{{"stricter", string_array(delta.stricter)}, {"looser", string_array(delta.looser)}}}};
}

Json capabilities_model(const policy::Role& r) {
  const auto& docker = docker_default_capabilities();
  std::vector<std::string> dropped;
  std::vector<std::string> beyond;
  for (const auto& c : docker) {
    if (std::find(r.capabilities.begin(), r.capabilities.end(), c) == r.capabilities.end()) {
      dropped.push_back(c);
    }
  }
  for (const auto& c : r.capabilities) {
    if (std::find(docker.begin(), docker.end(), c) == docker.end()) {
      beyond.push_back(c);
    }
  }
  return Json{{"kept", string_array(r.capabilities)},
              {"droppedFromDocker", string_array(dropped)},
              {"beyondDocker", string_array(beyond)}};
}

Json optional_int(const std::optional<int64_t>& v) { return v ? Json(*v) : Json(); }

}  // namespace

std::string describe_conditions(const Json& rules) {
  std::vector<std::string> alternatives;
  for (const auto& args : rules) {
    std::vector<std::string> all;
    for (const auto& c : args) {
      all.push_back(describe_condition(c));
    }
    alternatives.push_back(join(all, " and "));
  }
  return join(alternatives, " or ");
}

Json explain_role(const policy::Policy& p, const policy::Role& r) {
  Json j;
  j["name"] = r.name;
  j["backend"] = r.backend;
  j["user"] = r.user ? Json{{"uid", r.user->uid}, {"gid", r.user->gid}} : Json();
  j["additionalGids"] = r.additional_gids;
  j["noNewPrivileges"] = r.no_new_privileges;
  j["capabilities"] = capabilities_model(r);
  j["seccomp"] = seccomp_model(r);
  Json rlimits = Json::array();
  for (const auto& rl : r.rlimits) {
    rlimits.push_back(Json{{"type", rl.type}, {"soft", rl.soft}, {"hard", rl.hard}});
  }
  j["limits"] = Json{
      {"memory", Json{{"limit", optional_int(r.memory_limit)}, {"reservation", optional_int(r.memory_reservation)}}},
      {"cpu", r.cpu ? Json{{"cpus", r.cpu->cpus}, {"period", r.cpu->period}} : Json()},
      {"pids", optional_int(r.pids)},
      {"rlimits", rlimits}};
  Json tmpfs = Json::array();
  for (const auto& t : r.tmpfs) {
    tmpfs.push_back(Json{{"destination", t.destination}, {"options", t.options}});
  }
  j["filesystem"] = Json{{"readonlyRootfs", r.readonly_rootfs},
                         {"tmpfs", tmpfs},
                         {"maskedPaths", r.masked_paths},
                         {"readonlyPaths", r.readonly_paths}};
  j["mounts"] = Json{{"allow", r.mounts.allow}, {"deny", r.mounts.deny}, {"readOnly", r.mounts.read_only}};
  if (r.workspace) {
    j["workspace"] = Json{{"source", p.workspace_root + "/<team>"},
                          {"destination", r.workspace->destination},
                          {"mode", r.workspace->read_only ? "ro" : "rw"},
                          {"protected", r.workspace->protected_paths},
                          {"hidden", r.workspace->hidden_paths}};
  } else {
    j["workspace"] = nullptr;
  }
  j["hostNamespaces"] =
      Json{{"network", r.host_namespaces.network}, {"pid", r.host_namespaces.pid}, {"ipc", r.host_namespaces.ipc}};
  return j;
}

Json explain_policy(const policy::Policy& p, const std::optional<std::string>& role) {
  Json j;
  j["policy"] = p.path;
  j["digest"] = p.digest;
  j["auditLog"] = string_or_null(p.audit_log);
  j["stateDir"] = p.state_dir;
  j["workspaceRoot"] = p.workspace_root;
  j["defaultBackend"] = p.default_backend;
  const char* action = p.unmatched == policy::Unmatched::kRefuse        ? "refuse"
                       : p.unmatched == policy::Unmatched::kPassthrough ? "passthrough"
                                                                        : "role";
  j["unmatched"] = Json{{"action", action}, {"role", string_or_null(p.unmatched_role)}};
  j["roles"] = Json::array();
  for (const auto& [name, r] : p.roles) {
    if (!role || *role == name) {
      j["roles"].push_back(explain_role(p, r));
    }
  }
  return j;
}

namespace {

std::vector<std::string> strings(const Json& a) {
  std::vector<std::string> out;
  for (const auto& v : a) {
    out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

void line(const Io& io, const std::string& label, const std::string& text) {
  io.out << "  " << paint(io, Color::kBold, fmt::format("{:<14}", label)) << ' ' << text << '\n';
}

void more(const Io& io, const std::string& text) { io.out << std::string(17, ' ') << text << '\n'; }

std::string count_list(size_t n, const std::vector<std::string>& names) {
  return n == 0 ? "0" : std::to_string(n) + ": " + join(names);
}

void print_role(const Json& r, const Io& io, bool all_syscalls) {
  io.out << '\n' << paint(io, Color::kBold, "Role " + r["name"].get<std::string>()) << '\n';
  line(io, "Backend", r["backend"].get<std::string>());

  if (r["user"].is_null()) {
    line(io, "User", paint(io, Color::kYellow, "not set: the image's or the caller's user, root included"));
  } else {
    std::string groups = r["additionalGids"].empty() ? "no other groups (Docker's group 0 is dropped)"
                                                     : "other groups limited to " + join(strings(r["additionalGids"]));
    line(io, "User",
         fmt::format("uid {}, gid {}; {}", r["user"]["uid"].get<uint32_t>(), r["user"]["gid"].get<uint32_t>(), groups));
  }
  line(io, "Privileges",
       r["noNewPrivileges"].get<bool>()
           ? "no-new-privileges: setuid binaries and file capabilities cannot raise privileges"
           : paint(io, Color::kRed, "new privileges allowed: setuid binaries work"));

  const Json& caps = r["capabilities"];
  auto kept = strings(caps["kept"]);
  line(io, "Capabilities",
       kept.empty() ? "none: every capability is dropped" : fmt::format("keeps {}: {}", kept.size(), join(kept)));
  auto dropped = strings(caps["droppedFromDocker"]);
  auto beyond = strings(caps["beyondDocker"]);
  more(io, fmt::format("vs Docker's default {}: drops {}; adds {}", docker_default_capabilities().size(),
                       count_list(dropped.size(), dropped),
                       beyond.empty() ? std::string("none") : paint(io, Color::kRed, join(beyond))));

  const Json& sec = r["seccomp"];
  auto allowed = strings(sec["allowed"]);
  std::vector<std::string> cond;
  for (const auto& c : sec["conditional"]) {
    cond.push_back(c["name"].get<std::string>() + " only if " + describe_conditions(c["conditions"]));
  }
  std::vector<std::string> denied;
  for (const auto& d : sec["denied"]) {
    denied.push_back(d["name"].get<std::string>() + " (" + d["action"].get<std::string>() + ")");
  }
  line(io, "Seccomp",
       fmt::format("any syscall not allowed below will {}; {} allowed outright",
                   sec["defaultActionText"].get<std::string>(), allowed.size()));
  for (const auto& c : cond) {
    more(io, "allowed with argument checks: " + c);
  }
  for (const auto& d : denied) {
    more(io, "answered specially: " + d);
  }
  if (!sec["deny"].empty()) {
    more(io, "denied by this role on top of the baseline: " + join(strings(sec["deny"])));
  }
  auto stricter = strings(sec["vsDocker"]["stricter"]);
  auto looser = strings(sec["vsDocker"]["looser"]);
  more(io, "vs Docker's default: stricter by " + paint(io, Color::kGreen, count_list(stricter.size(), stricter)) +
               "; looser by " +
               (looser.empty() ? std::string("0") : paint(io, Color::kRed, count_list(looser.size(), looser))));
  if (all_syscalls) {
    more(io, "allowed outright:");
    print_wrapped(io, allowed, std::string(19, ' '));
  }

  const Json& lim = r["limits"];
  const Json& mem = lim["memory"];
  std::string memory =
      mem["limit"].is_null()
          ? paint(io, Color::kRed, "no limit from the policy (the caller's, if any)")
          : "limit " + format_bytes(mem["limit"].get<int64_t>()) + " (swap capped at the limit, OOM killer always on)";
  if (!mem["reservation"].is_null()) {
    memory += ", reservation " + format_bytes(mem["reservation"].get<int64_t>());
  }
  line(io, "Memory", memory);
  if (lim["cpu"].is_null()) {
    line(io, "CPU", paint(io, Color::kYellow, "no limit from the policy"));
  } else {
    double cpus = lim["cpu"]["cpus"].get<double>();
    uint64_t period = lim["cpu"]["period"].get<uint64_t>();
    line(io, "CPU",
         fmt::format("{} CPU{} (quota {} us per {} us period)", cpus, cpus == 1.0 ? "" : "s",
                     std::llround(cpus * static_cast<double>(period)), period));
  }
  line(io, "Processes",
       lim["pids"].is_null() ? paint(io, Color::kRed, "no limit from the policy")
                             : "at most " + std::to_string(lim["pids"].get<int64_t>()));
  std::vector<std::string> rl;
  for (const auto& e : lim["rlimits"]) {
    rl.push_back(
        fmt::format("{} {}/{}", e["type"].get<std::string>(), e["soft"].get<uint64_t>(), e["hard"].get<uint64_t>()));
  }
  line(io, "Rlimits", rl.empty() ? "the caller's" : join(rl) + " (soft/hard, lowered or added)");

  const Json& fs = r["filesystem"];
  line(io, "Root fs", fs["readonlyRootfs"].get<bool>() ? "read-only" : "writable");
  std::vector<std::string> tm;
  for (const auto& t : fs["tmpfs"]) {
    tm.push_back(t["destination"].get<std::string>() + " (" + join(strings(t["options"]), ",") + ")");
  }
  line(io, "tmpfs", list_or_none(tm));
  line(io, "Masked", list_or_none(strings(fs["maskedPaths"])));
  line(io, "Read-only", list_or_none(strings(fs["readonlyPaths"])));

  const Json& m = r["mounts"];
  auto allow = strings(m["allow"]);
  line(io, "Host mounts",
       allow.empty() ? "no bind mounts from the host at all" : "bind mounts only from under " + join(allow));
  more(io, "never " + list_or_none(strings(m["deny"])) + " (nor a directory containing one)");
  auto ro = strings(m["readOnly"]);
  more(io, ro.empty() ? "none forced read-only" : "forced read-only from under " + join(ro));
  more(io, "other filesystems: only proc, sysfs, tmpfs, devpts, mqueue, cgroup");

  const Json& ws = r["workspace"];
  if (ws.is_null()) {
    line(io, "Workspace", "none");
  } else {
    bool rw = ws["mode"] == "rw";
    std::string text = "the team's workspace (" + ws["source"].get<std::string>() + ", served by covefs) at " +
                       ws["destination"].get<std::string>() + ", " + (rw ? "read-write" : "read-only");
    line(io, "Workspace", text);
    if (rw) {
      more(io, "read-only inside it: " + list_or_none(strings(ws["protected"])));
    }
    more(io, "hidden: " + list_or_none(strings(ws["hidden"])));
  }

  std::vector<std::string> own;
  std::vector<std::string> shared;
  for (const char* ns : {"network", "pid", "ipc"}) {
    (r["hostNamespaces"][ns].get<bool>() ? shared : own).emplace_back(ns);
  }
  std::string ns_text = own.empty() ? "" : join(own) + ": the container's own (sharing the host's is refused)";
  if (!shared.empty()) {
    ns_text += (ns_text.empty() ? "" : "; ") + paint(io, Color::kRed, join(shared) + ": may be the host's");
  }
  line(io, "Namespaces", ns_text);
}

}  // namespace

void print_explanation(const Json& model, const Io& io, bool all_syscalls) {
  io.out << paint(io, Color::kBold, "Policy " + model["policy"].get<std::string>()) << "  "
         << paint(io, Color::kDim, model["digest"].get<std::string>()) << '\n';
  std::string action = model["unmatched"]["action"].get<std::string>();
  if (action == "refuse") {
    io.out << "  A container that names no role is refused.\n";
  } else if (action == "passthrough") {
    io.out << "  " << paint(io, Color::kYellow, "A container that names no role runs untouched (no cove policy).")
           << '\n';
  } else {
    io.out << "  A container that names no role gets role " << model["unmatched"]["role"].get<std::string>() << ".\n";
  }
  io.out << "  A role is chosen by --cove-role in the runtime's arguments, else the annotation dev.cove.role, "
            "else env COVE_ROLE.\n";
  if (model["auditLog"].is_null()) {
    io.out << "  " << paint(io, Color::kYellow, "Decisions are not logged (no auditLog).") << '\n';
  } else {
    io.out << "  Every decision is logged to " << model["auditLog"].get<std::string>() << ".\n";
  }
  io.out << "  Seccomp and capabilities are compared with Docker 20.10's default for `docker run`.\n";
  for (const auto& r : model["roles"]) {
    print_role(r, io, all_syscalls);
  }
}

CLI::App* add_policy_explain(CLI::App& policy, PolicyExplainOptions& o) {
  CLI::App* c = policy.add_subcommand("explain", "What each role does to a container, compared with Docker's default");
  c->add_option("FILE", o.file, "policy file")->required();
  c->add_option("--role", o.role, "only this role");
  c->add_flag("--json", o.json, "print the model as JSON");
  c->add_flag("--syscalls", o.syscalls, "list every allowed syscall");
  return c;
}

int policy_explain(const PolicyExplainOptions& o, const Io& io) {
  auto p = policy::load_policy(o.file);
  if (!p) {
    io.err << "cove policy explain: " << p.error().message() << " (cove policy lint " << o.file
           << " lists every problem)\n";
    return kExitUsage;
  }
  std::optional<std::string> role;
  if (!o.role.empty()) {
    if (p->find_role(o.role) == nullptr) {
      io.err << "cove policy explain: " << o.file << " has no role \"" << o.role << "\" (roles: " << p->role_names()
             << ")\n";
      return kExitUsage;
    }
    role = o.role;
  }
  Json model = explain_policy(*p, role);
  if (o.json) {
    io.out << model.dump(2) << '\n';
  } else {
    print_explanation(model, io, o.syscalls);
  }
  return kExitOk;
}

}  // namespace cli
