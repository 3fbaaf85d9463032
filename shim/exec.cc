// exec: clamp the --process file and refuse runc's privilege-raising flags.
#include "base/file.h"
#include "base/jsonc.h"
#include "oci/spec.h"
#include "policy/audit.h"
#include "policy/exec.h"
#include "shim/shim.h"

namespace shim {

// Loads the policy and the container's role. `role` stays null for containers cove passed
// through (no record, or created unmatched with passthrough).
int police_prelude(Context& ctx, std::optional<ContainerRecord>& rec, const policy::Role*& role) {
  role = nullptr;
  if (ctx.inv.flag("help") || ctx.inv.id().empty()) {
    return 0;
  }
  auto r = load_record(ctx.state_dir(), ctx.inv.id());
  if (!r) {
    return refuse(ctx, r.error().message());
  }
  rec = std::move(*r);
  if (!rec || rec->role.empty()) {
    return 0;
  }
  auto pol = ctx.load_policy();
  if (!pol) {
    return refuse(ctx, pol.error().message());
  }
  role = (*pol)->find_role(rec->role);
  if (role == nullptr) {
    return refuse(ctx, "container " + rec->id + " was created with role \"" + rec->role +
                           "\", which policy " + (*pol)->path + " no longer has (roles: " + (*pol)->role_names() +
                           ")");
  }
  return 0;
}

policy::Identity identity_of(const ContainerRecord& rec) {
  return policy::Identity{rec.role, rec.role_source, rec.team, rec.agent};
}

int run_exec(Context& ctx) {
  std::optional<ContainerRecord> rec;
  const policy::Role* role = nullptr;
  if (int rc = police_prelude(ctx, rec, role); rc != 0) {
    return rc;
  }
  if (role == nullptr) {
    return exec_backend(ctx, backend_for(ctx, rec));
  }
  policy::Decision d = policy::check_exec_flags(*role, ctx.inv);
  std::optional<std::string> process_path = ctx.inv.flag("process");
  policy::Json process;
  if (process_path && !d.refused()) {
    auto text = base::read_file(*process_path);
    if (!text) {
      return refuse(ctx, text.error().wrap("exec --process").message());
    }
    auto doc = base::parse_json(*text, *process_path);
    if (!doc) {
      return refuse(ctx, doc.error().message());
    }
    process = std::move(*doc);
    policy::CreatedWith created{rec->created_bounding, rec->apparmor_profile, rec->selinux_label};
    policy::Decision pd = policy::clamp_exec_process(*role, created, process);
    d.changes.insert(d.changes.end(), pd.changes.begin(), pd.changes.end());
    d.refusals.insert(d.refusals.end(), pd.refusals.begin(), pd.refusals.end());
  }
  policy::AuditEvent ev{"exec", rec->id, identity_of(*rec), rec->backend, &d};
  if (auto r = write_audit(ctx, policy::audit_line(*ctx.policy, ev)); !r) {
    return refuse(ctx, r.error().message());
  }
  if (d.refused()) {
    return refuse(ctx, d.refusal_message());
  }
  if (process_path && !d.changes.empty()) {
    if (auto r = base::write_file_atomic(*process_path, oci::dump_spec(process)); !r) {
      return refuse(ctx, r.error().wrap("rewrite --process file").message());
    }
  }
  return exec_backend(ctx, rec->backend);
}

}  // namespace shim
