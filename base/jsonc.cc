#include "base/jsonc.h"

#include <algorithm>

namespace base {

std::string strip_json_comments(std::string_view text) {
  std::string out(text);
  bool in_string = false;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      while (i < out.size() && out[i] != '\n') {
        out[i++] = ' ';
      }
    } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '*') {
      size_t end = out.find("*/", i + 2);
      if (end == std::string::npos) {
        // Leave it: the parser reports a syntax error at the '/'.
        return out;
      }
      for (size_t j = i; j < end + 2; ++j) {
        if (out[j] != '\n') {
          out[j] = ' ';
        }
      }
      i = end + 1;
    }
  }
  return out;
}

Result<nlohmann::ordered_json> parse_json(std::string_view text, const std::string& what) {
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    size_t pos = std::min(e.byte == 0 ? 0 : e.byte - 1, text.size());
    size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
    size_t bol = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    size_t col = bol == std::string_view::npos ? pos + 1 : pos - bol;
    std::string msg = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    if (auto colon = msg.find(": "); colon != std::string::npos) {
      msg = msg.substr(colon + 2);
    }
    return Error::make(EINVAL, "{}:{}:{}: invalid JSON: {}", what, line, col, msg);
  }
}

Result<nlohmann::ordered_json> parse_jsonc(std::string_view text, const std::string& what) {
  return parse_json(strip_json_comments(text), what);
}

}  // namespace base
