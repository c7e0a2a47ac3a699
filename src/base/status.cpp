#include "base/status.h"

namespace skiff {

int HttpCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kConflict: return 409;
    case StatusCode::kInvalid: return 422;
    case StatusCode::kBadRequest: return 400;
    case StatusCode::kUnauthorized: return 401;
    case StatusCode::kForbidden: return 403;
    case StatusCode::kMethodNotAllowed: return 405;
    case StatusCode::kNotAcceptable: return 406;
    case StatusCode::kRequestEntityTooLarge: return 413;
    case StatusCode::kUnsupportedMediaType: return 415;
    case StatusCode::kTooManyRequests: return 429;
    case StatusCode::kGone: return 410;
    case StatusCode::kTimeout: return 504;
    case StatusCode::kServiceUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

const char* ReasonFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kConflict: return "Conflict";
    case StatusCode::kInvalid: return "Invalid";
    case StatusCode::kBadRequest: return "BadRequest";
    case StatusCode::kUnauthorized: return "Unauthorized";
    case StatusCode::kForbidden: return "Forbidden";
    case StatusCode::kMethodNotAllowed: return "MethodNotAllowed";
    case StatusCode::kNotAcceptable: return "NotAcceptable";
    case StatusCode::kRequestEntityTooLarge: return "RequestEntityTooLarge";
    case StatusCode::kUnsupportedMediaType: return "UnsupportedMediaType";
    case StatusCode::kTooManyRequests: return "TooManyRequests";
    case StatusCode::kGone: return "Expired";
    case StatusCode::kTimeout: return "Timeout";
    case StatusCode::kServiceUnavailable: return "ServiceUnavailable";
    case StatusCode::kInternal: return "InternalError";
  }
  return "InternalError";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(ReasonFor(code_)) + ": " + message_;
}

}  // namespace skiff
