// Status and Result<T>: how every module reports failure. No exceptions cross
// module boundaries; third-party exceptions are caught in the adapter that
// calls the library.
//
// A Status carries a closed code, a message that gathers context as the error
// rises ("upload part 7 of backups/...: connection reset"), and a retryable
// bit set by the layer that knows (e.g. the S3 client on a 503).
//
// Thread-safety: value types; safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dbbackup {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kFailedPrecondition,
  kCorruption,
  kIOError,
  kUnavailable,
  kPermissionDenied,
  kCancelled,
  kDeadlineExceeded,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, bool retryable = false)
      : code_(code), message_(std::move(message)), retryable_(retryable) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m), true};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m), true};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }

  // Returns a copy whose message is "context: message". OK stays OK.
  Status Annotate(std::string_view context) const;
  Status WithRetryable(bool retryable) const;

  // "NotFound: message" (for logs and tests; the CLI prints message() alone).
  std::string ToString() const;

  // Marks an error deliberately dropped (best-effort cleanup paths).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool retryable_ = false;
};

// Result<T> mirrors std::expected<T, Status>: holds a value or a non-OK status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace dbbackup

#define DBB_CONCAT_INNER_(a, b) a##b
#define DBB_CONCAT_(a, b) DBB_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define DBB_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::dbbackup::Status dbb_status_ = (expr);   \
    if (!dbb_status_.ok()) return dbb_status_; \
  } while (0)

// `lhs = value of expr` or returns its status from the enclosing function.
#define DBB_ASSIGN_OR_RETURN(lhs, expr) \
  DBB_ASSIGN_OR_RETURN_IMPL_(DBB_CONCAT_(dbb_result_, __LINE__), lhs, expr)
#define DBB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
