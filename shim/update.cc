// update: refuse limits above the role's, from --resources (file or stdin) or per-field flags.
#include "base/file.h"
#include "base/jsonc.h"
#include "policy/audit.h"
#include "policy/exec.h"
#include "shim/shim.h"

namespace shim {

int run_update(Context& ctx) {
  std::optional<ContainerRecord> rec;
  const policy::Role* role = nullptr;
  if (int rc = police_prelude(ctx, rec, role); rc != 0) {
    return rc;
  }
  if (role == nullptr) {
    return exec_backend(ctx, backend_for(ctx, rec));
  }
  policy::Decision d = policy::check_update_flags(*role, ctx.inv);
  if (auto res = ctx.inv.flag("resources")) {
    base::Result<std::string> text = *res == "-" ? base::read_fd(0) : base::read_file(*res);
    if (!text) {
      return refuse(ctx, text.error().wrap("update --resources").message());
    }
    if (*res == "-") {
      ctx.stdin_bytes = *text;
    }
    auto doc = base::parse_json(*text, *res == "-" ? "update --resources (stdin)" : *res);
    if (!doc) {
      return refuse(ctx, doc.error().message());
    }
    policy::Decision rd = policy::check_update_resources(*role, *doc);
    d.refusals.insert(d.refusals.end(), rd.refusals.begin(), rd.refusals.end());
  }
  policy::AuditEvent ev{"update", rec->id, identity_of(*rec), rec->backend, &d};
  if (auto r = write_audit(ctx, policy::audit_line(*ctx.policy, ev)); !r) {
    return refuse(ctx, r.error().message());
  }
  if (d.refused()) {
    return refuse(ctx, "container " + rec->id + " (role " + role->name + "): " + d.refusal_message());
  }
  return exec_backend(ctx, rec->backend);
}

}  // namespace shim
