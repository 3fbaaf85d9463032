#include "policy/audit.h"

#include "base/time.h"

namespace policy {

std::string audit_line(const Policy& p, const AuditEvent& e) {
  Json j;
  j["time"] = base::now_rfc3339();
  j["verb"] = e.verb;
  j["container"] = e.container;
  j["role"] = e.id.role;
  j["roleSource"] = e.id.role_source;
  j["team"] = e.id.team;
  j["agent"] = e.id.agent;
  j["policy"] = p.path;
  j["policyDigest"] = p.digest;
  bool refused = e.decision != nullptr && e.decision->refused();
  if (!refused) {
    j["backend"] = e.backend;
  }
  j["decision"] = refused ? "refuse" : "allow";
  Json changes = Json::array();
  Json refusals = Json::array();
  if (e.decision != nullptr) {
    for (const auto& c : e.decision->changes) {
      changes.push_back(Json{{"field", c.field}, {"from", c.from}, {"to", c.to}, {"rule", c.rule}});
    }
    for (const auto& r : e.decision->refusals) {
      refusals.push_back(Json{{"rule", r.rule}, {"field", r.field}, {"message", r.message}});
    }
  }
  j["changes"] = std::move(changes);
  j["refusals"] = std::move(refusals);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace policy
