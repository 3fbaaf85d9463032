// The process: capabilities, no-new-privileges, user and rlimits.
#include <algorithm>

#include "policy/apply.h"

namespace policy {

namespace {

constexpr const char* kCapSets[] = {"bounding", "effective", "permitted", "inheritable", "ambient"};

}  // namespace

Json clamp_capability_list(const Json& list, const std::vector<std::string>& keep) {
  Json out = Json::array();
  if (!list.is_array()) {
    return out;
  }
  for (const auto& c : list) {
    if (c.is_string() && std::find(keep.begin(), keep.end(), c.get<std::string>()) != keep.end()) {
      out.push_back(c);
    }
  }
  return out;
}

void clamp_rlimits(const Role& role, Json& process, const std::string& field_prefix, Decision& d) {
  if (role.rlimits.empty()) {
    return;
  }
  if (!process.contains("rlimits") || !process["rlimits"].is_array()) {
    process["rlimits"] = Json::array();
  }
  Json& rl = process["rlimits"];
  std::string rule = "roles." + role.name + ".rlimits";
  for (const auto& want : role.rlimits) {
    auto it = std::find_if(rl.begin(), rl.end(), [&](const Json& e) {
      return e.is_object() && e.value("type", "") == want.type;
    });
    if (it == rl.end()) {
      Json e = {{"type", want.type}, {"hard", want.hard}, {"soft", want.soft}};
      d.change(field_prefix + ".rlimits[" + want.type + "]", nullptr, e, rule);
      rl.push_back(std::move(e));
      continue;
    }
    for (const char* key : {"hard", "soft"}) {
      uint64_t limit = std::string_view(key) == "hard" ? want.hard : want.soft;
      Json& v = (*it)[key];
      if (!v.is_number_unsigned() || v.get<uint64_t>() > limit) {
        d.change(field_prefix + ".rlimits[" + want.type + "]." + key, v, limit, rule);
        v = limit;
      }
    }
    if ((*it)["soft"].get<uint64_t>() > (*it)["hard"].get<uint64_t>()) {
      (*it)["soft"] = (*it)["hard"];
    }
  }
}

void apply_process(const ApplyContext& ctx, Json& spec, Decision& d) {
  const Role& role = ctx.role;
  Json& process = spec["process"];
  std::string prefix = "roles." + role.name;

  // Capabilities: every set clamped to the keep list. An absent object means "runc's default"
  // (all of root's capabilities), so it is written out explicitly.
  Json& caps = process["capabilities"];
  if (!caps.is_object()) {
    caps = Json::object();
  }
  for (const char* set : kCapSets) {
    bool absent = !caps.contains(set) || caps[set].is_null();
    Json want;
    if (absent) {
      bool inheritable_like = std::string_view(set) == "inheritable" || std::string_view(set) == "ambient";
      if (inheritable_like) {
        continue;  // absent means empty for these
      }
      want = Json::array();
      for (const auto& c : role.capabilities) {
        want.push_back(c);
      }
    } else {
      want = clamp_capability_list(caps[set], role.capabilities);
    }
    if (absent || want != caps[set]) {
      d.change(std::string("process.capabilities.") + set, absent ? Json() : caps[set], want,
               prefix + ".capabilities");
      caps[set] = std::move(want);
    }
  }

  if (role.no_new_privileges && !process.value("noNewPrivileges", false)) {
    d.change("process.noNewPrivileges", process.contains("noNewPrivileges") ? process["noNewPrivileges"] : Json(),
             true, prefix + ".noNewPrivileges");
    process["noNewPrivileges"] = true;
  }

  if (role.user) {
    Json& user = process["user"];
    if (!user.is_object()) {
      user = Json::object();
    }
    for (auto [key, want] : {std::pair<const char*, uint32_t>{"uid", role.user->uid}, {"gid", role.user->gid}}) {
      if (!user.contains(key) || !user[key].is_number_unsigned() || user[key].get<uint64_t>() != want) {
        d.change(std::string("process.user.") + key, user.contains(key) ? user[key] : Json(), want,
                 prefix + ".user");
        user[key] = want;
      }
    }
    if (user.contains("additionalGids") && user["additionalGids"].is_array()) {
      Json kept = Json::array();
      for (const auto& g : user["additionalGids"]) {
        if (g.is_number_unsigned() &&
            std::find(role.additional_gids.begin(), role.additional_gids.end(), g.get<uint64_t>()) !=
                role.additional_gids.end()) {
          kept.push_back(g);
        }
      }
      if (kept != user["additionalGids"]) {
        d.change("process.user.additionalGids", user["additionalGids"], kept, prefix + ".additionalGids");
        user["additionalGids"] = std::move(kept);
      }
    }
  }

  clamp_rlimits(role, process, "process", d);
}

}  // namespace policy
