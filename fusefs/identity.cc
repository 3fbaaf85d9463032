#include "fusefs/identity.h"

#include <sys/stat.h>

#include "base/file.h"
#include "base/path.h"

namespace fusefs {

std::string cgroup_dir_of(const std::string& cgroups_path) {
  if (cgroups_path.empty() || cgroups_path[0] == '/') {
    return cgroups_path;
  }
  // systemd: "slice:prefix:name". A slice "a-b.slice" lives in "a.slice/a-b.slice".
  auto c1 = cgroups_path.find(':');
  auto c2 = cgroups_path.find(':', c1 == std::string::npos ? 0 : c1 + 1);
  if (c1 == std::string::npos || c2 == std::string::npos) {
    return "/" + cgroups_path;
  }
  std::string slice = cgroups_path.substr(0, c1);
  std::string prefix = cgroups_path.substr(c1 + 1, c2 - c1 - 1);
  std::string name = cgroups_path.substr(c2 + 1);
  std::string dir;
  if (slice.empty() || slice == "-.slice") {
    slice = "system.slice";
  }
  std::string stem = slice.substr(0, slice.size() - (slice.size() > 6 && slice.ends_with(".slice") ? 6 : 0));
  size_t pos = 0;
  while ((pos = stem.find('-', pos)) != std::string::npos) {
    dir += "/" + stem.substr(0, pos) + ".slice";
    ++pos;
  }
  dir += "/" + slice;
  return dir + "/" + (prefix.empty() ? name : prefix + "-" + name) + ".scope";
}

std::vector<std::string> cgroup_paths(const std::string& proc_cgroup) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < proc_cgroup.size()) {
    size_t nl = proc_cgroup.find('\n', i);
    if (nl == std::string::npos) {
      nl = proc_cgroup.size();
    }
    std::string line = proc_cgroup.substr(i, nl - i);
    // "hierarchy-ID:controller-list:path"
    auto a = line.find(':');
    auto b = a == std::string::npos ? std::string::npos : line.find(':', a + 1);
    if (b != std::string::npos) {
      out.push_back(line.substr(b + 1));
    }
    i = nl + 1;
  }
  return out;
}

Identifier::Identifier(std::string state_dir) : state_dir_(std::move(state_dir)) {}

void Identifier::reload_if_changed() {
  // One stat(2) per cache miss: cove-runtime writes a record before the container's first
  // process exists, so a miss after the directory changed must see the new record.
  struct stat st {};
  std::string dir = state_dir_ + "/containers";
  if (::stat(dir.c_str(), &st) != 0) {
    by_cgroup_.clear();
    return;
  }
  if (st.st_mtim.tv_sec == dir_mtime_.tv_sec && st.st_mtim.tv_nsec == dir_mtime_.tv_nsec && !by_cgroup_.empty()) {
    return;
  }
  dir_mtime_ = st.st_mtim;
  by_cgroup_.clear();
  for (const auto& r : base::list_records(state_dir_)) {
    if (r.cgroups_path.empty()) {
      continue;
    }
    auto c = std::make_shared<Caller>();
    c->container = true;
    c->container_id = r.id;
    c->team = r.team;
    c->role = r.role;
    c->agent = r.agent;
    by_cgroup_.emplace_back(cgroup_dir_of(r.cgroups_path), std::move(c));
  }
  cache_.clear();
}

std::shared_ptr<const Caller> Identifier::identify_cgroup(const std::string& proc_cgroup) {
  for (const auto& path : cgroup_paths(proc_cgroup)) {
    for (const auto& [dir, caller] : by_cgroup_) {
      if (base::path_under(path, dir)) {
        return caller;
      }
    }
  }
  return host_;
}

std::shared_ptr<const Caller> Identifier::identify(pid_t pid) {
  std::lock_guard lock(mu_);
  reload_if_changed();
  auto now = std::chrono::steady_clock::now();
  if (auto it = cache_.find(pid); it != cache_.end() && it->second.expires > now) {
    return it->second.caller;
  }
  auto text = base::read_file("/proc/" + std::to_string(pid) + "/cgroup");
  // A pid that vanished (or 0, for kernel-internal requests) is treated as the host.
  std::shared_ptr<const Caller> caller = text ? identify_cgroup(*text) : host_;
  if (cache_.size() > 65536) {
    cache_.clear();
  }
  cache_[pid] = CacheEntry{caller, now + std::chrono::seconds(1)};
  return caller;
}

}  // namespace fusefs
