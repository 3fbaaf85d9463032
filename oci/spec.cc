#include "oci/spec.h"

#include "base/file.h"
#include "base/jsonc.h"

namespace oci {

base::Result<Bundle> load_bundle(const std::string& dir) {
  Bundle b;
  b.dir = dir;
  b.config_path = dir + "/config.json";
  auto bytes = base::read_file(b.config_path);
  if (!bytes) {
    return bytes.error();
  }
  b.original = std::move(*bytes);
  auto doc = base::parse_json(b.original, b.config_path);
  if (!doc) {
    return doc.error();
  }
  b.spec = std::move(*doc);
  if (auto r = check_shape(b.spec); !r) {
    return r.error().wrap("{}", b.config_path);
  }
  return b;
}

std::string dump_spec(const Json& spec) {
  return spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

base::Result<void> save_bundle(const Bundle& b) {
  // No fsync: the bundle lives on /run (tmpfs) under containerd, and a crash before the backend
  // reads it loses the container anyway. The rename is what readers need: all or nothing.
  return base::write_file_atomic(b.config_path, dump_spec(b.spec));
}

std::optional<std::string> env_value(const Json& spec, std::string_view key) {
  auto p = spec.find("process");
  if (p == spec.end() || !p->is_object()) {
    return std::nullopt;
  }
  auto env = p->find("env");
  if (env == p->end() || !env->is_array()) {
    return std::nullopt;
  }
  std::optional<std::string> out;
  for (const auto& e : *env) {
    if (!e.is_string()) {
      continue;
    }
    const auto& s = e.get_ref<const std::string&>();
    if (s.size() > key.size() && s.compare(0, key.size(), key) == 0 && s[key.size()] == '=') {
      out = s.substr(key.size() + 1);
    }
  }
  return out;
}

std::optional<std::string> annotation(const Json& spec, std::string_view key) {
  auto a = spec.find("annotations");
  if (a == spec.end() || !a->is_object()) {
    return std::nullopt;
  }
  auto v = a->find(std::string(key));
  if (v == a->end() || !v->is_string()) {
    return std::nullopt;
  }
  return v->get<std::string>();
}

namespace {

base::Result<void> expect(const Json& parent, const char* key, Json::value_t type, const char* path,
                          const char* type_name) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) {
    return {};
  }
  if (it->type() != type) {
    return base::Error::make(EINVAL, "field {} must be {}, got {}", path, type_name, it->type_name());
  }
  return {};
}

}  // namespace

base::Result<void> check_shape(const Json& spec) {
  using V = Json::value_t;
  if (!spec.is_object()) {
    return base::Error::make(EINVAL, "top level must be a JSON object, got {}", spec.type_name());
  }
  struct Check {
    const char* parent;  // "" for the top level
    const char* key;
    V type;
    const char* path;
    const char* type_name;
  };
  static const Check kChecks[] = {
      {"", "process", V::object, "process", "an object"},
      {"", "root", V::object, "root", "an object"},
      {"", "mounts", V::array, "mounts", "an array"},
      {"", "linux", V::object, "linux", "an object"},
      {"", "annotations", V::object, "annotations", "an object"},
  };
  for (const auto& c : kChecks) {
    if (auto r = expect(spec, c.key, c.type, c.path, c.type_name); !r) {
      return r;
    }
  }
  if (auto p = spec.find("process"); p != spec.end() && p->is_object()) {
    if (auto r = expect(*p, "env", V::array, "process.env", "an array"); !r) {
      return r;
    }
    if (auto r = expect(*p, "capabilities", V::object, "process.capabilities", "an object"); !r) {
      return r;
    }
    if (auto r = expect(*p, "user", V::object, "process.user", "an object"); !r) {
      return r;
    }
    if (auto r = expect(*p, "rlimits", V::array, "process.rlimits", "an array"); !r) {
      return r;
    }
  }
  if (auto l = spec.find("linux"); l != spec.end() && l->is_object()) {
    if (auto r = expect(*l, "resources", V::object, "linux.resources", "an object"); !r) {
      return r;
    }
    if (auto r = expect(*l, "namespaces", V::array, "linux.namespaces", "an array"); !r) {
      return r;
    }
    if (auto r = expect(*l, "seccomp", V::object, "linux.seccomp", "an object"); !r) {
      return r;
    }
  }
  if (auto m = spec.find("mounts"); m != spec.end() && m->is_array()) {
    for (size_t i = 0; i < m->size(); ++i) {
      const auto& e = (*m)[i];
      if (!e.is_object()) {
        return base::Error::make(EINVAL, "field mounts[{}] must be an object", i);
      }
      auto d = e.find("destination");
      if (d == e.end() || !d->is_string()) {
        return base::Error::make(EINVAL, "field mounts[{}].destination must be a string", i);
      }
    }
  }
  return {};
}

}  // namespace oci
