// Host namespaces: a spec without a namespace of some type shares the host's; so does one that
// joins the host's namespace by path.
#include "policy/apply.h"

namespace policy {

void apply_namespaces(const ApplyContext& ctx, Json& spec, Decision& d) {
  const Role& role = ctx.role;
  const Json& linux = spec["linux"];
  const Json* ns = linux.contains("namespaces") && linux["namespaces"].is_array() ? &linux["namespaces"] : nullptr;
  struct Want {
    const char* type;
    bool allowed;
    const char* key;
    const char* docker_flag;
  };
  const Want wants[] = {{"network", role.host_namespaces.network, "network", "--network host"},
                        {"pid", role.host_namespaces.pid, "pid", "--pid host"},
                        {"ipc", role.host_namespaces.ipc, "ipc", "--ipc host"}};
  for (const auto& w : wants) {
    if (w.allowed) {
      continue;
    }
    std::string rule = "roles." + role.name + ".hostNamespaces." + w.key;
    const Json* entry = nullptr;
    size_t index = 0;
    if (ns != nullptr) {
      for (size_t i = 0; i < ns->size(); ++i) {
        if ((*ns)[i].is_object() && (*ns)[i].value("type", "") == w.type) {
          entry = &(*ns)[i];
          index = i;
        }
      }
    }
    if (entry == nullptr) {
      d.refuse(rule, "linux.namespaces",
               std::string("the host's ") + w.type + " namespace (" + w.docker_flag +
                   ": linux.namespaces has no \"" + w.type + "\" entry) is refused by " + rule);
      continue;
    }
    std::string path = entry->value("path", "");
    if (!path.empty() && ctx.host.is_host_namespace(w.type, path)) {
      d.refuse(rule, "linux.namespaces[" + std::to_string(index) + "].path",
               std::string("joining the host's ") + w.type + " namespace (" + path + ") is refused by " + rule);
    }
  }
}

}  // namespace policy
