// Status: the error value passed across module boundaries.
//
// Codes mirror the Kubernetes API error reasons so that the API server can turn any
// Status straight into a metav1.Status response (see apiserver/status_response.h).
// Thread safety: a Status is a value type; distinct instances may be used concurrently.
#pragma once

#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace skiff {

enum class StatusCode {
  kOk,
  kNotFound,               // 404 NotFound
  kAlreadyExists,          // 409 AlreadyExists
  kConflict,               // 409 Conflict
  kInvalid,                // 422 Invalid
  kBadRequest,             // 400 BadRequest
  kUnauthorized,           // 401 Unauthorized
  kForbidden,              // 403 Forbidden
  kMethodNotAllowed,       // 405 MethodNotAllowed
  kNotAcceptable,          // 406 NotAcceptable
  kRequestEntityTooLarge,  // 413 RequestEntityTooLarge
  kUnsupportedMediaType,   // 415 UnsupportedMediaType
  kTooManyRequests,        // 429 TooManyRequests
  kGone,                   // 410 Expired / Gone
  kTimeout,                // 504 Timeout
  kServiceUnavailable,     // 503 ServiceUnavailable
  kInternal,               // 500 InternalError
};

// One entry of Status.details.causes: a field-level explanation of an error.
struct StatusCause {
  std::string type;     // e.g. "FieldValueInvalid", "FieldValueRequired"
  std::string message;  // e.g. "Invalid value: \"Foo\": must be lower case"
  std::string field;    // e.g. "metadata.name"
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Optional details: the kind/name the error is about and field causes.
  const std::vector<StatusCause>& causes() const { return causes_; }
  Status& AddCause(StatusCause cause) {
    causes_.push_back(std::move(cause));
    return *this;
  }
  const std::string& details_name() const { return details_name_; }
  const std::string& details_group() const { return details_group_; }
  const std::string& details_kind() const { return details_kind_; }
  Status& SetDetails(std::string group, std::string kind, std::string name) {
    details_group_ = std::move(group);
    details_kind_ = std::move(kind);
    details_name_ = std::move(name);
    return *this;
  }
  // Overrides the metav1.Status reason derived from the code (e.g. "Expired" for kGone).
  const std::string& reason_override() const { return reason_override_; }
  Status& SetReason(std::string reason) {
    reason_override_ = std::move(reason);
    return *this;
  }
  // Seconds a client should wait before retrying (Retry-After); 0 when unset.
  int retry_after_seconds() const { return retry_after_seconds_; }
  Status& SetRetryAfter(int seconds) {
    retry_after_seconds_ = seconds;
    return *this;
  }

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<StatusCause> causes_;
  std::string details_group_;
  std::string details_kind_;
  std::string details_name_;
  std::string reason_override_;
  int retry_after_seconds_ = 0;
};

template <typename T>
using Result = std::expected<T, Status>;

inline std::unexpected<Status> Err(StatusCode code, std::string message) {
  return std::unexpected<Status>(Status(code, std::move(message)));
}
inline std::unexpected<Status> Err(Status status) {
  return std::unexpected<Status>(std::move(status));
}

// HTTP status code and metav1.Status reason for a code.
int HttpCodeFor(StatusCode code);
const char* ReasonFor(StatusCode code);

}  // namespace skiff
