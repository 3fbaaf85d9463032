#pragma once
// The few Docker Engine API calls `cove doctor` makes, spoken directly on the daemon's unix
// socket: HTTP/1.0 (one request per connection, the answer ends at EOF, never chunked), so no
// curl and no HTTP library. GET only.

#include <string>
#include <string_view>

#include "base/result.h"

namespace cli {

struct HttpResponse {
  int status = 0;      ///< 200, 404, ...
  std::string reason;  ///< "OK"
  std::string body;
};

/// Parses a whole HTTP/1.x response (status line, headers, body). Errors name what is wrong.
[[nodiscard]] base::Result<HttpResponse> parse_http_response(std::string_view raw);

/// The request line and headers for GET `path` (already encoded).
std::string http_get_request(const std::string& path);

/// An image reference as a path segment of /images/<name>/json: only the characters a
/// reference can hold ([A-Za-z0-9._:/@-]) are accepted, nothing needs escaping.
bool valid_image_reference(const std::string& name);

/// GET `path` on the unix socket `socket_path`, waiting at most `timeout_ms` for connect,
/// send and the whole answer.
[[nodiscard]] base::Result<HttpResponse> docker_get(const std::string& socket_path, const std::string& path,
                                                    int timeout_ms);

}  // namespace cli
