#include "base/records.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/jsonc.h"

namespace base {

using Json = nlohmann::ordered_json;

bool valid_container_id(const std::string& id) {
  if (id.empty() || id.size() > 1024 || id[0] == '.') {
    return false;
  }
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string record_path(const std::string& state_dir, const std::string& id) {
  return state_dir + "/containers/" + id + ".json";
}

base::Result<void> save_record(const std::string& state_dir, const ContainerRecord& r) {
  if (!valid_container_id(r.id)) {
    return base::Error::make(EINVAL, "invalid container id \"{}\"", r.id);
  }
  COVE_TRY(base::make_dirs(state_dir + "/containers", 0700));
  Json j;
  j["id"] = r.id;
  j["team"] = r.team;
  j["role"] = r.role;
  j["roleSource"] = r.role_source;
  j["agent"] = r.agent;
  j["backend"] = r.backend;
  j["root"] = r.root;
  j["bundle"] = r.bundle;
  j["cgroupsPath"] = r.cgroups_path;
  j["createdBounding"] = r.created_bounding;
  j["apparmorProfile"] = r.apparmor_profile;
  j["selinuxLabel"] = r.selinux_label;
  j["policyDigest"] = r.policy_digest;
  j["created"] = r.created;
  return base::write_file_atomic(record_path(state_dir, r.id), j.dump(), false, 0600);
}

namespace {

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

base::Result<ContainerRecord> parse_record(const std::string& text, const std::string& path) {
  COVE_TRY_ASSIGN(j, base::parse_json(text, path));
  if (!j.is_object()) {
    return base::Error::make(EINVAL, "{}: not a JSON object", path);
  }
  ContainerRecord r;
  r.id = str(j, "id");
  r.team = str(j, "team");
  r.role = str(j, "role");
  r.role_source = str(j, "roleSource");
  r.agent = str(j, "agent");
  r.backend = str(j, "backend");
  r.root = str(j, "root");
  r.bundle = str(j, "bundle");
  r.cgroups_path = str(j, "cgroupsPath");
  r.apparmor_profile = str(j, "apparmorProfile");
  r.selinux_label = str(j, "selinuxLabel");
  r.policy_digest = str(j, "policyDigest");
  r.created = str(j, "created");
  if (auto b = j.find("createdBounding"); b != j.end() && b->is_array()) {
    for (const auto& c : *b) {
      if (c.is_string()) {
        r.created_bounding.push_back(c.get<std::string>());
      }
    }
  }
  return r;
}

}  // namespace

base::Result<std::optional<ContainerRecord>> load_record(const std::string& state_dir, const std::string& id) {
  if (!valid_container_id(id)) {
    return std::optional<ContainerRecord>();
  }
  std::string path = record_path(state_dir, id);
  auto text = base::read_file(path);
  if (!text) {
    if (text.error().code() == ENOENT) {
      return std::optional<ContainerRecord>();
    }
    return text.error();
  }
  COVE_TRY_ASSIGN(r, parse_record(*text, path));
  return std::optional<ContainerRecord>(std::move(r));
}

std::vector<ContainerRecord> list_records(const std::string& state_dir) {
  std::vector<ContainerRecord> out;
  std::string dir = state_dir + "/containers";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, ".json") != 0) {
      continue;
    }
    auto text = base::read_file(dir + "/" + name);
    if (!text) {
      continue;
    }
    if (auto r = parse_record(*text, dir + "/" + name); r) {
      out.push_back(std::move(*r));
    }
  }
  ::closedir(d);
  return out;
}

size_t sweep_records(const std::string& state_dir, long min_age_seconds) {
  size_t removed = 0;
  time_t now = ::time(nullptr);
  for (const auto& r : list_records(state_dir)) {
    if (r.root.empty() || !valid_container_id(r.id)) {
      continue;
    }
    std::string path = record_path(state_dir, r.id);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || now - st.st_mtime < min_age_seconds) {
      continue;
    }
    struct stat cst {};
    if (::stat((r.root + "/" + r.id).c_str(), &cst) == 0) {
      continue;
    }
    if (::unlink(path.c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

size_t sweep_records_now_and_then(const std::string& state_dir, long min_age_seconds, long period_seconds) {
  std::string stamp = state_dir + "/.swept";
  struct stat st {};
  time_t now = ::time(nullptr);
  if (::stat(stamp.c_str(), &st) == 0 && now - st.st_mtime < period_seconds) {
    return 0;
  }
  // Touch first: concurrent creates then skip while this one sweeps.
  int fd = ::open(stamp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::futimens(fd, nullptr);
    ::close(fd);
  }
  return sweep_records(state_dir, min_age_seconds);
}

}  // namespace base
