#pragma once
// Errors as values: every fallible library call returns Status or Result<T>. Exceptions are
// never thrown across layer boundaries; the CLI turns a Status into a message and exit code.
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace accel {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // caller passed something unusable (bad shape, bad option)
  kNotFound,         // file, tensor, model or key absent
  kCorrupt,          // a file exists but its content is malformed
  kUnsupported,      // well-formed but not something we run (model_type, dtype, op)
  kOutOfMemory,
  kIo,               // the OS refused (open, read, mmap)
  kInternal,         // a bug of ours
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Prefixes context ("loading model.safetensors: ") so the final message names where it failed.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Corrupt(std::string m) { return {StatusCode::kCorrupt, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status OutOfMemory(std::string m) { return {StatusCode::kOutOfMemory, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIo, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace accel

#define ACCEL_CONCAT_INNER(a, b) a##b
#define ACCEL_CONCAT(a, b) ACCEL_CONCAT_INNER(a, b)

#define ACCEL_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::accel::Status _accel_st = (expr);          \
    if (!_accel_st.ok()) return _accel_st;       \
  } while (0)

#define ACCEL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define ACCEL_ASSIGN_OR_RETURN(lhs, expr) \
  ACCEL_ASSIGN_OR_RETURN_IMPL(ACCEL_CONCAT(_accel_res_, __LINE__), lhs, expr)
