#include "tools/cli/docker_api.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/fd.h"

namespace cli {

base::Result<HttpResponse> parse_http_response(std::string_view raw) {
  size_t eol = raw.find("\r\n");
  if (eol == std::string_view::npos) {
    return base::Error::make(EPROTO, "not an HTTP response (no status line)");
  }
  std::string_view line = raw.substr(0, eol);
  // HTTP/1.1 200 OK
  if (line.substr(0, 5) != "HTTP/" || line.size() < 12 || line[8] != ' ') {
    return base::Error::make(EPROTO, "not an HTTP status line: {:?}", std::string(line.substr(0, 80)));
  }
  HttpResponse r;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      return base::Error::make(EPROTO, "bad HTTP status code in {:?}", std::string(line.substr(0, 80)));
    }
    r.status = r.status * 10 + (line[i] - '0');
  }
  if (line.size() > 13) {
    r.reason = std::string(line.substr(13));
  }
  size_t body = raw.find("\r\n\r\n");
  if (body == std::string_view::npos) {
    return base::Error::make(EPROTO, "HTTP response ends inside its headers");
  }
  r.body = std::string(raw.substr(body + 4));
  return r;
}

std::string http_get_request(const std::string& path) {
  // Docker routes on the path only; Host is required by its HTTP server for HTTP/1.1 and
  // harmless for 1.0.
  return "GET " + path + " HTTP/1.0\r\nHost: docker\r\nUser-Agent: cove-doctor\r\nAccept: application/json\r\n\r\n";
}

bool valid_image_reference(const std::string& name) {
  if (name.empty() || name.size() > 512 || name[0] == '/' || name.find("..") != std::string::npos) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '/' || c == '@' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

base::Result<HttpResponse> docker_get(const std::string& socket_path, const std::string& path, int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return base::Error::make(ENAMETOOLONG, "socket path {} is too long", socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  base::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    return base::Error::sys("socket");
  }
  auto start = std::chrono::steady_clock::now();
  auto left = [&] {
    auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return static_cast<int>(std::max<int64_t>(0, timeout_ms - spent.count()));
  };
  auto wait_for = [&](short events) -> base::Result<void> {
    pollfd p{fd.get(), events, 0};
    for (;;) {
      int n = ::poll(&p, 1, left());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return base::Error::sys("poll {}", socket_path);
      }
      if (n == 0) {
        return base::Error::make(ETIMEDOUT, "{} did not answer within {} ms", socket_path, timeout_ms);
      }
      return {};
    }
  };
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      return base::Error::sys("connect {}", socket_path);
    }
    COVE_TRY(wait_for(POLLOUT));
    int soerr = 0;
    socklen_t len = sizeof soerr;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) {
      errno = soerr;
      return base::Error::sys("connect {}", socket_path);
    }
  }
  std::string req = http_get_request(path);
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      COVE_TRY(wait_for(POLLOUT));
      continue;
    }
    if (n < 0) {
      return base::Error::sys("send to {}", socket_path);
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<size_t>(n));
      if (raw.size() > (64u << 20)) {
        return base::Error::make(EMSGSIZE, "answer of {} on {} is larger than 64 MiB", path, socket_path);
      }
      continue;
    }
    if (n == 0) {
      break;
    }
    if (errno == EAGAIN || errno == EINTR) {
      COVE_TRY(wait_for(POLLIN));
      continue;
    }
    return base::Error::sys("receive from {}", socket_path);
  }
  auto r = parse_http_response(raw);
  if (!r) {
    return r.error().wrap("GET {} on {}", path, socket_path);
  }
  return r;
}

}  // namespace cli
