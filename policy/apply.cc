#include "policy/apply.h"

#include "policy/seccomp.h"

namespace policy {

std::string Decision::refusal_message() const {
  std::string out;
  for (const auto& r : refusals) {
    if (!out.empty()) {
      out += "; ";
    }
    out += r.message;
  }
  return out;
}

void Decision::change(std::string field, Json from, Json to, std::string rule) {
  changes.push_back(Change{std::move(field), std::move(from), std::move(to), std::move(rule)});
}

void Decision::refuse(std::string rule, std::string field, std::string message) {
  refusals.push_back(Refusal{std::move(rule), std::move(field), std::move(message)});
}

std::string workspace_source(const Policy& p, const std::string& team) {
  return p.workspace_root + "/" + team;
}

std::string describe_seccomp(const Json& profile) {
  if (!profile.is_object()) {
    return "none";
  }
  size_t uncond = 0;
  size_t other = 0;
  if (auto sc = profile.find("syscalls"); sc != profile.end() && sc->is_array()) {
    for (const auto& r : *sc) {
      auto names = r.find("names");
      size_t n = names != r.end() && names->is_array() ? names->size() : 0;
      bool plain_allow = r.value("action", "") == "SCMP_ACT_ALLOW" &&
                         (!r.contains("args") || r["args"].is_null() || r["args"].empty());
      (plain_allow ? uncond : other) += plain_allow ? n : 1;
    }
  }
  return "default " + profile.value("defaultAction", std::string("?")) + ", " + std::to_string(uncond) +
         " allowed unconditionally, " + std::to_string(other) + " other rules";
}

void apply_seccomp(const ApplyContext& ctx, Json& spec, Decision& d) {
  Json& linux = spec["linux"];
  Json requested = linux.contains("seccomp") ? linux["seccomp"] : Json();
  Json merged = merge_seccomp(requested, ctx.role.seccomp.deny);
  if (merged != requested) {
    d.change("linux.seccomp", describe_seccomp(requested), describe_seccomp(merged),
             "roles." + ctx.role.name + ".seccomp");
    linux["seccomp"] = std::move(merged);
  }
}

Decision apply_role(const ApplyContext& ctx, Json& spec) {
  Decision d;
  if (!spec.contains("linux") || !spec["linux"].is_object()) {
    spec["linux"] = Json::object();
  }
  if (!spec.contains("process") || !spec["process"].is_object()) {
    d.refuse("spec", "process", "config.json has no process object");
    return d;
  }
  apply_namespaces(ctx, spec, d);
  apply_mounts(ctx, spec, d);
  apply_process(ctx, spec, d);
  apply_resources(ctx, spec, d);
  apply_seccomp(ctx, spec, d);
  return d;
}

}  // namespace policy
