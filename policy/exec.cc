#include "policy/exec.h"

#include <algorithm>
#include <cmath>

namespace policy {

namespace {

constexpr const char* kCapSets[] = {"bounding", "effective", "permitted", "inheritable", "ambient"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// runc's update flags take sizes like "1g", "512m" or byte counts; -1 means unlimited.
std::optional<int64_t> parse_runc_size(const std::string& s) {
  if (s == "-1") {
    return -1;
  }
  auto n = parse_size(s);
  if (!n) {
    return std::nullopt;
  }
  return *n;
}

std::string bytes(int64_t n) {
  if (n > 0 && n % (1LL << 30) == 0) {
    return std::to_string(n >> 30) + "GiB";
  }
  if (n > 0 && n % (1LL << 20) == 0) {
    return std::to_string(n >> 20) + "MiB";
  }
  return std::to_string(n) + " bytes";
}

void check_limit(Decision& d, const std::string& field, std::optional<int64_t> asked, int64_t max,
                 const std::string& rule, bool zero_means_unchanged) {
  if (!asked) {
    return;
  }
  if (*asked == 0 && zero_means_unchanged) {
    return;
  }
  if (*asked < 0 || *asked > max) {
    d.refuse(rule, field,
             "update refused: " + field + " " + (*asked < 0 ? std::string("unlimited") : bytes(*asked)) +
                 " exceeds " + rule + " (" + bytes(max) + ")");
  }
}

std::optional<int64_t> json_int(const Json& obj, const char* a, const char* b) {
  auto o = obj.find(a);
  if (o == obj.end() || !o->is_object()) {
    return std::nullopt;
  }
  auto v = o->find(b);
  if (v == o->end() || !v->is_number_integer()) {
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return -1;  // "unlimited" spelled as a huge unsigned
  }
  return v->get<int64_t>();
}

void check_cpu(Decision& d, const Role& role, std::optional<int64_t> quota, std::optional<int64_t> period) {
  if (!role.cpu || !quota || *quota == 0) {
    return;
  }
  std::string rule = "roles." + role.name + ".cpu";
  int64_t p = period && *period > 0 ? *period : static_cast<int64_t>(role.cpu->period);
  if (*quota < 0 || static_cast<double>(*quota) / static_cast<double>(p) > role.cpu->cpus + 1e-9) {
    d.refuse(rule, "cpu.quota",
             "update refused: cpu quota " + (*quota < 0 ? std::string("unlimited") : std::to_string(*quota)) +
                 "/" + std::to_string(p) + " exceeds " + rule + " (" + std::to_string(role.cpu->cpus) + " CPUs)");
  }
}

}  // namespace

Decision clamp_exec_process(const Role& role, const CreatedWith& created, Json& process) {
  Decision d;
  std::string prefix = "roles." + role.name;
  if (!process.is_object()) {
    d.refuse("process", "process", "the --process file is not a JSON object");
    return d;
  }
  Json& caps = process["capabilities"];
  if (!caps.is_object()) {
    caps = Json::object();
  }
  for (const char* set : kCapSets) {
    if (!caps.contains(set) || !caps[set].is_array()) {
      continue;
    }
    for (const auto& c : caps[set]) {
      if (c.is_string() && !contains(created.bounding, c.get<std::string>()) && !contains(role.capabilities, c.get<std::string>())) {
        d.refuse(prefix + ".capabilities", std::string("process.capabilities.") + set,
                 "exec refused: process.capabilities." + std::string(set) + " asks for " + c.get<std::string>() +
                     ", which the container was not created with (privileged exec; rule " + prefix +
                     ".capabilities)");
        return d;
      }
    }
  }
  for (const char* set : kCapSets) {
    bool absent = !caps.contains(set) || !caps[set].is_array();
    if (absent && (std::string_view(set) == "inheritable" || std::string_view(set) == "ambient")) {
      continue;
    }
    Json want = absent ? Json(role.capabilities) : clamp_capability_list(caps[set], role.capabilities);
    if (absent || want != caps[set]) {
      d.change(std::string("process.capabilities.") + set, absent ? Json() : caps[set], want, prefix + ".capabilities");
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
        d.change(std::string("process.user.") + key, user.contains(key) ? user[key] : Json(), want, prefix + ".user");
        user[key] = want;
      }
    }
    if (user.contains("additionalGids") && user["additionalGids"].is_array()) {
      Json kept = Json::array();
      for (const auto& g : user["additionalGids"]) {
        if (g.is_number_unsigned() && std::find(role.additional_gids.begin(), role.additional_gids.end(),
                                                g.get<uint64_t>()) != role.additional_gids.end()) {
          kept.push_back(g);
        }
      }
      if (kept != user["additionalGids"]) {
        d.change("process.user.additionalGids", user["additionalGids"], kept, prefix + ".additionalGids");
        user["additionalGids"] = std::move(kept);
      }
    }
  }
  // LSM confinement stays what create gave the container (Docker's privileged exec asks for
  // "unconfined").
  for (auto [key, want] : {std::pair<const char*, const std::string*>{"apparmorProfile", &created.apparmor_profile},
                           {"selinuxLabel", &created.selinux_label}}) {
    if (process.contains(key) && process[key].is_string() && process[key].get<std::string>() != *want) {
      d.change(std::string("process.") + key, process[key], *want, prefix);
      if (want->empty()) {
        process.erase(key);
      } else {
        process[key] = *want;
      }
    }
  }
  clamp_rlimits(role, process, "process", d);
  return d;
}

Decision check_exec_flags(const Role& role, const oci::Invocation& inv) {
  Decision d;
  std::string prefix = "roles." + role.name;
  for (const auto& cap : inv.flag_all("cap")) {
    if (!contains(role.capabilities, cap)) {
      d.refuse(prefix + ".capabilities", "--cap",
               "exec refused: --cap " + cap + " is not among the capabilities of role " + role.name + " (rule " +
                   prefix + ".capabilities)");
    }
  }
  if (auto nnp = inv.flag("no-new-privs"); nnp && role.no_new_privileges) {
    std::string v = *nnp;
    if (v == "false" || v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "False") {
      d.refuse(prefix + ".noNewPrivileges", "--no-new-privs",
               "exec refused: --no-new-privs=false contradicts " + prefix + ".noNewPrivileges");
    }
  }
  if (auto user = inv.flag("user"); user && role.user) {
    std::string want = std::to_string(role.user->uid) + ":" + std::to_string(role.user->gid);
    if (*user != want && *user != std::to_string(role.user->uid)) {
      d.refuse(prefix + ".user", "--user",
               "exec refused: --user " + *user + " differs from role " + role.name + "'s user " + want + " (rule " +
                   prefix + ".user)");
    }
  }
  for (const auto& g : inv.flag_all("additional-gids")) {
    bool ok = false;
    try {
      ok = std::find(role.additional_gids.begin(), role.additional_gids.end(),
                     static_cast<uint32_t>(std::stoul(g))) != role.additional_gids.end();
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok) {
      d.refuse(prefix + ".additionalGids", "--additional-gids",
               "exec refused: --additional-gids " + g + " is not allowed by " + prefix + ".additionalGids");
    }
  }
  for (const char* flag : {"apparmor", "process-label"}) {
    if (inv.flag(flag)) {
      d.refuse(prefix, std::string("--") + flag,
               std::string("exec refused: --") + flag + " would change the container's security label");
    }
  }
  return d;
}

Decision check_update_resources(const Role& role, const Json& resources) {
  Decision d;
  std::string prefix = "roles." + role.name;
  if (!resources.is_object()) {
    d.refuse("update", "resources", "update refused: --resources is not a JSON object");
    return d;
  }
  if (role.memory_limit) {
    check_limit(d, "memory.limit", json_int(resources, "memory", "limit"), *role.memory_limit,
                prefix + ".memory.limit", true);
    auto swap = json_int(resources, "memory", "swap");
    if (swap && *swap != 0) {
      check_limit(d, "memory.swap", swap, *role.memory_limit, prefix + ".memory.limit", true);
    }
  }
  if (role.memory_reservation) {
    check_limit(d, "memory.reservation", json_int(resources, "memory", "reservation"), *role.memory_reservation,
                prefix + ".memory.reservation", true);
  }
  if (role.pids) {
    check_limit(d, "pids.limit", json_int(resources, "pids", "limit"), *role.pids, prefix + ".pids", true);
  }
  check_cpu(d, role, json_int(resources, "cpu", "quota"), json_int(resources, "cpu", "period"));
  return d;
}

Decision check_update_flags(const Role& role, const oci::Invocation& inv) {
  Decision d;
  std::string prefix = "roles." + role.name;
  auto size_flag = [&](const char* name) -> std::optional<int64_t> {
    auto v = inv.flag(name);
    if (!v) {
      return std::nullopt;
    }
    auto n = parse_runc_size(*v);
    if (!n) {
      d.refuse("update", std::string("--") + name, "update refused: --" + std::string(name) + " " + *v + " is not a size");
      return std::nullopt;
    }
    return n;
  };
  if (role.memory_limit) {
    check_limit(d, "memory.limit", size_flag("memory"), *role.memory_limit, prefix + ".memory.limit", true);
    check_limit(d, "memory.swap", size_flag("memory-swap"), *role.memory_limit, prefix + ".memory.limit", true);
  }
  if (role.memory_reservation) {
    check_limit(d, "memory.reservation", size_flag("memory-reservation"), *role.memory_reservation,
                prefix + ".memory.reservation", true);
  }
  auto int_flag = [&](const char* name) -> std::optional<int64_t> {
    auto v = inv.flag(name);
    if (!v) {
      return std::nullopt;
    }
    try {
      return std::stoll(*v);
    } catch (const std::exception&) {
      d.refuse("update", std::string("--") + name, "update refused: --" + std::string(name) + " " + *v + " is not a number");
      return std::nullopt;
    }
  };
  if (role.pids) {
    check_limit(d, "pids.limit", int_flag("pids-limit"), *role.pids, prefix + ".pids", true);
  }
  check_cpu(d, role, int_flag("cpu-quota"), int_flag("cpu-period"));
  return d;
}

}  // namespace policy
