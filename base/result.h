#pragma once
// Errors are values (CONVENTIONS.md #3). Result<T> mirrors the std::expected API so it can become
// an alias once the toolchain (GCC 12 in C++20 mode, clang-tidy 14) parses <expected>.

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <utility>
#include <variant>

namespace base {

/// An errno (0 when the failure is not a system call's) and a message that gains context on the
/// way up: "read config.json: open /b/config.json: No such file or directory".
class [[nodiscard]] Error {
 public:
  Error() = default;
  Error(int err, std::string msg) : errno_(err), msg_(std::move(msg)) {}

  /// An error from the current errno, e.g. `return Error::sys("open {}", path)`.
  template <typename... Args>
  static Error sys(fmt::format_string<Args...> f, Args&&... args) {
    int saved = errno;
    return Error(saved, fmt::format(f, std::forward<Args>(args)...) + ": " + std::strerror(saved));
  }
  /// An error with an explicit errno (0 for a logic error).
  template <typename... Args>
  static Error make(int err, fmt::format_string<Args...> f, Args&&... args) {
    return Error(err, fmt::format(f, std::forward<Args>(args)...));
  }
  /// Prefixes context: "<context>: <message>".
  template <typename... Args>
  Error wrap(fmt::format_string<Args...> f, Args&&... args) const& {
    return Error(errno_, fmt::format(f, std::forward<Args>(args)...) + ": " + msg_);
  }

  int code() const { return errno_; }
  const std::string& message() const { return msg_; }

 private:
  int errno_ = 0;
  std::string msg_;
};

/// Tag that builds the error side of a Result, like std::unexpected.
struct Unexpected {
  Error error;
};
inline Unexpected unexpected(Error e) { return Unexpected{std::move(e)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit like expected
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  Result(Unexpected u) : err_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace base

/// `COVE_TRY(expr);` returns the error of a failed Result from the enclosing function.
#define COVE_TRY(expr)                         \
  do {                                         \
    auto cove_try_r_ = (expr);                 \
    if (!cove_try_r_) {                        \
      return std::move(cove_try_r_).error();   \
    }                                          \
  } while (0)

/// `COVE_TRY_ASSIGN(name, expr);` declares `name` with the value of a successful Result, or
/// returns its error from the enclosing function.
#define COVE_TRY_ASSIGN(name, expr)   \
  auto name##_r = (expr);             \
  if (!name##_r) {                    \
    return std::move(name##_r).error(); \
  }                                   \
  auto name = std::move(*name##_r)
