#include "tools/cli/json_path.h"

#include <cctype>

namespace cli {

using Json = nlohmann::ordered_json;

ResolvedPath resolve_path(const Json& doc, std::string_view path) {
  ResolvedPath out;
  const Json* node = &doc;
  std::string_view rest = path;
  bool first = true;
  while (!rest.empty()) {
    if (rest[0] == '[') {
      size_t close = rest.find(']');
      if (close == std::string_view::npos || close == 1) {
        return ResolvedPath{};  // malformed
      }
      size_t index = 0;
      for (size_t i = 1; i < close; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(rest[i]))) {
          return ResolvedPath{};
        }
        index = index * 10 + static_cast<size_t>(rest[i] - '0');
      }
      out.steps.emplace_back(index);
      rest.remove_prefix(close + 1);
      if (node == nullptr || !node->is_array() || index >= node->size()) {
        out.exists = false;
        return out;
      }
      node = &(*node)[index];
      first = false;
      continue;
    }
    if (!first) {
      if (rest[0] != '.') {
        return ResolvedPath{};  // malformed
      }
      rest.remove_prefix(1);
    }
    first = false;
    // The longest existing key that the rest starts with, followed by '.', '[' or the end.
    std::string best;
    bool found = false;
    if (node != nullptr && node->is_object()) {
      for (auto it = node->begin(); it != node->end(); ++it) {
        const std::string& k = it.key();
        if (k.size() > rest.size() || rest.compare(0, k.size(), k) != 0) {
          continue;
        }
        if (k.size() < rest.size() && rest[k.size()] != '.' && rest[k.size()] != '[') {
          continue;
        }
        if (!found || k.size() > best.size()) {
          best = k;
          found = true;
        }
      }
    }
    if (!found) {
      // An absent key: the last step may name it; anything after it cannot be resolved.
      size_t end = rest.find_first_of(".[");
      std::string key(rest.substr(0, end));
      out.steps.emplace_back(key);
      out.exists = false;
      return out;
    }
    out.steps.emplace_back(best);
    node = &(*node)[best];
    rest.remove_prefix(best.size());
  }
  out.exists = true;
  return out;
}

std::string format_path(const std::vector<PathStep>& steps) {
  std::string out;
  for (const auto& s : steps) {
    if (const auto* k = std::get_if<std::string>(&s)) {
      if (!out.empty()) {
        out += '.';
      }
      out += *k;
    } else {
      out += "[" + std::to_string(std::get<size_t>(s)) + "]";
    }
  }
  return out;
}

const Json* node_at(const Json& doc, const std::vector<PathStep>& steps) {
  const Json* node = &doc;
  for (const auto& s : steps) {
    if (const auto* k = std::get_if<std::string>(&s)) {
      if (!node->is_object()) {
        return nullptr;
      }
      auto it = node->find(*k);
      if (it == node->end()) {
        return nullptr;
      }
      node = &*it;
    } else {
      size_t i = std::get<size_t>(s);
      if (!node->is_array() || i >= node->size()) {
        return nullptr;
      }
      node = &(*node)[i];
    }
  }
  return node;
}

bool erase_at(Json& doc, const std::vector<PathStep>& steps) {
  if (steps.empty()) {
    return false;
  }
  std::vector<PathStep> parent_steps(steps.begin(), steps.end() - 1);
  const Json* parent_c = node_at(doc, parent_steps);
  if (parent_c == nullptr) {
    return false;
  }
  Json& parent = const_cast<Json&>(*parent_c);  // NOLINT: node_at is const only to serve both uses
  const PathStep& last = steps.back();
  if (const auto* k = std::get_if<std::string>(&last)) {
    return parent.is_object() && parent.erase(*k) > 0;
  }
  size_t i = std::get<size_t>(last);
  if (!parent.is_array() || i >= parent.size()) {
    return false;
  }
  parent.erase(i);
  return true;
}

}  // namespace cli
