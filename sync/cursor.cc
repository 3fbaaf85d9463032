#include "sync/cursor.h"

#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "base/file.h"

namespace covesync {

std::string cursor_path(const std::string& state_dir) { return state_dir + "/cursor.json"; }

base::Result<std::optional<Cursor>> load_cursor(const std::string& state_dir) {
  std::string path = cursor_path(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return std::optional<Cursor>();
  }
  COVE_TRY_ASSIGN(text, base::read_file(path));
  try {
    auto j = nlohmann::json::parse(text);
    Cursor c;
    c.seq = j.at("seq").get<uint64_t>();
    c.head = j.value("head", "");
    return std::optional<Cursor>(c);
  } catch (const std::exception& e) {
    return base::Error::make(EINVAL, "cursor {}: {}", path, e.what());
  }
}

base::Result<void> save_cursor(const std::string& state_dir, const Cursor& cursor, const std::string& sync_id) {
  COVE_TRY(base::make_dirs(state_dir, 0700));
  nlohmann::ordered_json j;
  j["seq"] = cursor.seq;
  j["syncId"] = sync_id;
  j["head"] = cursor.head;
  return base::write_file_atomic(cursor_path(state_dir), j.dump() + "\n", false, 0600);
}

}  // namespace covesync
