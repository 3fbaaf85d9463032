// create, run and restore: read the bundle, pick the role, apply it, audit, record, exec.
#include <unistd.h>

#include <climits>

#include "base/time.h"
#include "oci/spec.h"
#include "policy/apply.h"
#include "policy/audit.h"
#include "policy/match.h"
#include "shim/shim.h"

namespace shim {

namespace {

std::vector<std::string> string_list(const policy::Json& spec, std::initializer_list<const char*> path) {
  const policy::Json* j = &spec;
  for (const char* key : path) {
    if (!j->is_object() || !j->contains(key)) {
      return {};
    }
    j = &(*j)[key];
  }
  std::vector<std::string> out;
  if (j->is_array()) {
    for (const auto& e : *j) {
      if (e.is_string()) {
        out.push_back(e.get<std::string>());
      }
    }
  }
  return out;
}

std::string string_at(const policy::Json& spec, const char* a, const char* b) {
  if (!spec.contains(a) || !spec[a].is_object()) {
    return "";
  }
  return spec[a].value(b, "");
}

}  // namespace

int run_create(Context& ctx) {
  const std::string& id = ctx.inv.id();
  if (ctx.inv.flag("help")) {
    return run_passthrough(ctx);
  }
  if (id.empty()) {
    // runc prints its usage error; nothing to police.
    return run_passthrough(ctx);
  }
  if (!valid_container_id(id)) {
    return refuse(ctx, "invalid container id \"" + id + "\"");
  }
  auto pol = ctx.load_policy();
  if (!pol) {
    return refuse(ctx, pol.error().message());
  }
  const policy::Policy& p = **pol;

  std::string bundle_dir = ctx.inv.flag("bundle").value_or("");
  if (bundle_dir.empty()) {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) {
      return refuse(ctx, "getcwd: " + std::string(std::strerror(errno)));
    }
    bundle_dir = cwd;
  }
  auto bundle = oci::load_bundle(bundle_dir);
  if (!bundle) {
    return refuse(ctx, bundle.error().message());
  }

  auto sel = policy::select_role(p, bundle->spec, ctx.inv.cove_role);
  if (!sel) {
    policy::Decision d;
    d.refuse("role", "process.env", sel.error().message());
    policy::AuditEvent ev{ctx.inv.verb, id, {}, "", &d};
    (void)write_audit(ctx, policy::audit_line(p, ev));
    return refuse(ctx, sel.error().message());
  }

  ContainerRecord rec;
  rec.id = id;
  rec.team = sel->id.team;
  rec.role = sel->id.role;
  rec.role_source = sel->id.role_source;
  rec.agent = sel->id.agent;
  rec.bundle = bundle_dir;
  rec.cgroups_path = string_at(bundle->spec, "linux", "cgroupsPath");
  rec.created_bounding = string_list(bundle->spec, {"process", "capabilities", "bounding"});
  rec.policy_digest = p.digest;
  rec.created = base::now_rfc3339();

  policy::Decision decision;
  if (sel->role != nullptr) {
    rec.backend = sel->role->backend;
    policy::RealHost host;
    policy::ApplyContext actx{p, *sel->role, sel->id, host};
    decision = policy::apply_role(actx, bundle->spec);
  } else {
    rec.backend = p.default_backend;
  }
  rec.apparmor_profile = string_at(bundle->spec, "process", "apparmorProfile");
  rec.selinux_label = string_at(bundle->spec, "process", "selinuxLabel");
  rec.root = ctx.runtime_root(rec.backend);

  policy::AuditEvent ev{ctx.inv.verb, id, sel->id, rec.backend, &decision};
  if (auto r = write_audit(ctx, policy::audit_line(p, ev)); !r) {
    return refuse(ctx, r.error().message() + "; refusing to start an unaudited container");
  }
  if (decision.refused()) {
    return refuse(ctx, "container " + id + " refused by role " + sel->id.role + ": " + decision.refusal_message());
  }
  if (!decision.changes.empty()) {
    if (auto r = oci::save_bundle(*bundle); !r) {
      return refuse(ctx, r.error().wrap("rewrite {}", bundle->config_path).message());
    }
  }
  std::string state = ctx.state_dir();
  base::sweep_records_now_and_then(state, 60, 60);
  if (auto r = save_record(state, rec); !r) {
    return refuse(ctx, r.error().wrap("record container {}", id).message());
  }
  return exec_backend(ctx, rec.backend);
}

}  // namespace shim
