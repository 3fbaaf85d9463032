// linux.resources: memory, cpu, pids, and the device rule that means "privileged".
#include <cmath>

#include "policy/apply.h"

namespace policy {

namespace {

// A limit as the caller wrote it: absent, 0 and negative values (runc: -1 = unlimited) mean "no
// limit", so any role limit is tighter.
std::optional<int64_t> as_limit(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return std::nullopt;
  }
  int64_t v = it->get<int64_t>();
  return v > 0 ? std::optional<int64_t>(v) : std::nullopt;
}

void clamp_to(Json& obj, const char* key, int64_t max, const std::string& field, const std::string& rule,
              Decision& d) {
  auto have = as_limit(obj, key);
  if (!have || *have > max) {
    d.change(field, obj.contains(key) ? obj[key] : Json(), max, rule);
    obj[key] = max;
  }
}

Json& object_at(Json& parent, const char* key) {
  Json& v = parent[key];
  if (!v.is_object()) {
    v = Json::object();
  }
  return v;
}

}  // namespace

void apply_resources(const ApplyContext& ctx, Json& spec, Decision& d) {
  const Role& role = ctx.role;
  std::string rule = "roles." + role.name;
  Json& linux = spec["linux"];
  Json& res = object_at(linux, "resources");

  // Devices: a rule allowing every device is `docker run --privileged`; refuse it rather than
  // guess which devices the caller meant.
  if (auto dev = res.find("devices"); dev != res.end() && dev->is_array()) {
    for (size_t i = 0; i < dev->size(); ++i) {
      const Json& r = (*dev)[i];
      bool wildcard_type = !r.contains("type") || r["type"].is_null() || r["type"] == "a";
      bool any_major = !r.contains("major") || r["major"].is_null() || r["major"] == -1;
      if (r.value("allow", false) && wildcard_type && any_major) {
        d.refuse(rule, "linux.resources.devices[" + std::to_string(i) + "]",
                 "linux.resources.devices[" + std::to_string(i) +
                     "] allows every device (a privileged container); role " + role.name +
                     " does not allow privileged containers");
      }
    }
  }

  if (role.memory_limit || role.memory_reservation) {
    Json& mem = object_at(res, "memory");
    if (role.memory_limit) {
      clamp_to(mem, "limit", *role.memory_limit, "linux.resources.memory.limit", rule + ".memory.limit", d);
      int64_t limit = mem["limit"].get<int64_t>();
      // memory+swap above the limit would let the container page past it; an absent swap
      // limit means unlimited swap, so it is set where the kernel accounts swap (runc fails
      // on a swap limit where it does not, and then there is no per-cgroup swap to bound).
      if (auto it = mem.find("swap"); it != mem.end() && it->is_number_integer()) {
        int64_t swap = it->get<int64_t>();
        if (swap < 0 || swap > limit) {
          d.change("linux.resources.memory.swap", *it, limit, rule + ".memory.limit");
          *it = limit;
        }
      } else if (ctx.host.swap_accounting()) {
        d.change("linux.resources.memory.swap", nullptr, limit, rule + ".memory.limit");
        mem["swap"] = limit;
      }
      if (mem.value("disableOOMKiller", false)) {
        d.change("linux.resources.memory.disableOOMKiller", true, false, rule + ".memory.limit");
        mem["disableOOMKiller"] = false;
      }
    }
    if (role.memory_reservation) {
      int64_t want = *role.memory_reservation;
      if (auto limit = as_limit(mem, "limit"); limit && *limit < want) {
        want = *limit;
      }
      clamp_to(mem, "reservation", want, "linux.resources.memory.reservation", rule + ".memory.reservation", d);
    }
  }

  if (role.cpu) {
    Json& cpu = object_at(res, "cpu");
    auto quota = as_limit(cpu, "quota");
    auto period = as_limit(cpu, "period");
    auto want_period = static_cast<int64_t>(role.cpu->period);
    auto want_quota = static_cast<int64_t>(std::llround(role.cpu->cpus * static_cast<double>(want_period)));
    bool looser = !quota || !period ||
                  static_cast<double>(*quota) / static_cast<double>(*period) > role.cpu->cpus + 1e-9;
    if (looser) {
      d.change("linux.resources.cpu.quota", cpu.contains("quota") ? cpu["quota"] : Json(), want_quota,
               rule + ".cpu");
      d.change("linux.resources.cpu.period", cpu.contains("period") ? cpu["period"] : Json(), want_period,
               rule + ".cpu");
      cpu["quota"] = want_quota;
      cpu["period"] = want_period;
    }
  }

  if (role.pids) {
    Json& pids = object_at(res, "pids");
    clamp_to(pids, "limit", *role.pids, "linux.resources.pids.limit", rule + ".pids", d);
  }
}

}  // namespace policy
