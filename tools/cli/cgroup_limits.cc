#include "tools/cli/cgroup_limits.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

#include "base/file.h"

namespace cli {

namespace {

// v1 reports "no limit" as the page counter's maximum rounded down to a page
// (9223372036854771712 on 4 KiB pages); anything this large limits nothing.
constexpr int64_t kV1Unlimited = int64_t{1} << 62;

std::optional<long long> parse_int(const std::string& s) {
  long long n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return n;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

// A single-number file: "max" or a value >= kV1Unlimited or a negative one means unlimited.
LimitValue read_limit(const std::string& path) {
  LimitValue v;
  v.file = path;
  auto t = base::read_file(path);
  if (!t) {
    return v;
  }
  std::string s = trim(*t);
  v.present = true;
  if (s == "max") {
    return v;
  }
  auto n = parse_int(s);
  if (!n) {
    v.present = false;  // unreadable content: treated as not read, reported as such
  } else if (*n >= 0 && *n < kV1Unlimited) {
    v.value = *n;
  }
  return v;
}

struct Hierarchies {
  std::map<std::string, std::string> v1;  // controller -> directory of the process's cgroup
  std::string v2;                         // directory in the unified hierarchy, "" if none
};

std::string join_path(const std::string& mount_point, const std::string& mount_root, const std::string& cg) {
  std::string rel = cg;
  if (mount_root != "/" && rel.rfind(mount_root, 0) == 0) {
    rel = rel.substr(mount_root.size());
  }
  if (rel.empty() || rel == "/") {
    return mount_point;
  }
  return mount_point + (rel[0] == '/' ? "" : "/") + rel;
}

Hierarchies find_hierarchies(const std::string& proc_cgroup, const std::vector<MountInfo>& mounts) {
  Hierarchies h;
  std::istringstream lines(proc_cgroup);
  std::string line;
  while (std::getline(lines, line)) {
    // hierarchy-ID:controller-list:cgroup-path
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) {
      continue;
    }
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controllers.empty()) {
      for (const auto& m : mounts) {
        if (m.fstype == "cgroup2") {
          h.v2 = join_path(m.mount_point, m.root, path);
          break;
        }
      }
      continue;
    }
    std::istringstream cs(controllers);
    std::string c;
    while (std::getline(cs, c, ',')) {
      for (const auto& m : mounts) {
        if (m.fstype == "cgroup" &&
            std::find(m.super_options.begin(), m.super_options.end(), c) != m.super_options.end()) {
          h.v1[c] = join_path(m.mount_point, m.root, path);
          break;
        }
      }
    }
  }
  return h;
}

}  // namespace

CgroupLimits read_cgroup_limits(const std::string& proc_cgroup, const std::vector<MountInfo>& mounts) {
  Hierarchies h = find_hierarchies(proc_cgroup, mounts);
  CgroupLimits l;
  if (auto mem = h.v1.find("memory"); mem != h.v1.end()) {
    l.memory_limit = read_limit(mem->second + "/memory.limit_in_bytes");
    l.memory_reservation = read_limit(mem->second + "/memory.soft_limit_in_bytes");
    l.memory_swap = read_limit(mem->second + "/memory.memsw.limit_in_bytes");
    l.oom_kill_disable.file = mem->second + "/memory.oom_control";
    if (auto t = base::read_file(l.oom_kill_disable.file)) {
      std::istringstream in(*t);
      std::string key;
      long long v = 0;
      while (in >> key >> v) {
        if (key == "oom_kill_disable") {
          l.oom_kill_disable.present = true;
          l.oom_kill_disable.value = v;
        }
      }
    }
  } else if (!h.v2.empty()) {
    l.memory_limit = read_limit(h.v2 + "/memory.max");
    l.memory_reservation = read_limit(h.v2 + "/memory.low");
    LimitValue swap = read_limit(h.v2 + "/memory.swap.max");
    l.memory_swap.file = swap.file;
    if (swap.present && l.memory_limit.present) {
      l.memory_swap.present = true;
      if (swap.value && l.memory_limit.value) {
        l.memory_swap.value = *swap.value + *l.memory_limit.value;
      }
    }
  }
  if (auto p = h.v1.find("pids"); p != h.v1.end()) {
    l.pids = read_limit(p->second + "/pids.max");
  } else if (!h.v2.empty()) {
    l.pids = read_limit(h.v2 + "/pids.max");
  }
  if (auto c = h.v1.find("cpu"); c != h.v1.end()) {
    l.cpu_quota = read_limit(c->second + "/cpu.cfs_quota_us");
    l.cpu_period = read_limit(c->second + "/cpu.cfs_period_us");
  } else if (!h.v2.empty()) {
    std::string file = h.v2 + "/cpu.max";
    l.cpu_quota.file = file;
    l.cpu_period.file = file;
    if (auto t = base::read_file(file)) {
      std::istringstream in(*t);
      std::string quota;
      long long period = 0;
      if (in >> quota >> period) {
        l.cpu_quota.present = true;
        l.cpu_period.present = true;
        l.cpu_period.value = period;
        if (quota != "max") {
          auto n = parse_int(quota);
          l.cpu_quota.present = n.has_value();
          l.cpu_quota.value = n;
        }
      }
    }
  }
  return l;
}

}  // namespace cli
