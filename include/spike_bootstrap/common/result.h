// Status and Result<T>: how every module reports failure.
//
// Codes follow gRPC's status codes, so "is this worth retrying?" has one answer
// everywhere: Unavailable, DeadlineExceeded and ResourceExhausted are retryable,
// the rest are not. Messages name the step and the peer, never a secret.
#pragma once

#include <source_location>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace spike_bootstrap {

enum class StatusCode {
  kOk,
  kCancelled,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kDataLoss,
  kInternal,
  kUnauthenticated,
};

// Returns the gRPC-style name of a code, such as "Unavailable".
std::string_view statusCodeName(StatusCode code);

class Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message,
         std::source_location location = std::source_location::current())
      : code_(code), message_(std::move(message)), location_(location) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::source_location& location() const { return location_; }

  // True for failures a later attempt may not see: Unavailable,
  // DeadlineExceeded and ResourceExhausted.
  bool retryable() const;

  // Returns a copy whose message is "<context>: <message>", keeping code and location.
  Status withContext(std::string_view context) const;

  // Returns "<CodeName>: <message>".
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::source_location location_;
};

inline Status okStatus() { return Status(); }

// Result<T> holds either a value or a failed Status. Accessing the value of a
// failed result is a programming error and aborts.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(state_).ok()) {
      state_ = Status(StatusCode::kInternal, "Result built from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(state_); }

  // Returns the failure; an OK status when the result holds a value. The
  // reference stays valid as long as the result does.
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace spike_bootstrap
