#include "client/client.h"

#include <boost/json.hpp>

namespace skiff {

namespace json = boost::json;

namespace {

StatusCode CodeForReason(std::string_view reason, int http) {
  static constexpr StatusCode kCodes[] = {StatusCode::kNotFound,
                                          StatusCode::kAlreadyExists,
                                          StatusCode::kConflict,
                                          StatusCode::kInvalid,
                                          StatusCode::kBadRequest,
                                          StatusCode::kUnauthorized,
                                          StatusCode::kForbidden,
                                          StatusCode::kMethodNotAllowed,
                                          StatusCode::kNotAcceptable,
                                          StatusCode::kRequestEntityTooLarge,
                                          StatusCode::kUnsupportedMediaType,
                                          StatusCode::kTooManyRequests,
                                          StatusCode::kGone,
                                          StatusCode::kTimeout,
                                          StatusCode::kServiceUnavailable,
                                          StatusCode::kInternal};
  for (StatusCode c : kCodes) {
    if (!reason.empty() && reason == ReasonFor(c)) return c;
  }
  if (reason == "Gone") return StatusCode::kGone;
  for (StatusCode c : kCodes) {
    if (HttpCodeFor(c) == http && c != StatusCode::kAlreadyExists) return c;
  }
  return StatusCode::kInternal;
}

Result<json::object> ObjectOf(Result<ClientResponse> response) {
  if (!response) return std::unexpected(response.error());
  if (response->status < 200 || response->status >= 300)
    return std::unexpected(StatusFromResponse(*response));
  boost::system::error_code ec;
  json::value v = json::parse(response->body, ec);
  if (ec || !v.is_object()) return Err(StatusCode::kInternal, "the answer is not a JSON object");
  return std::move(v.as_object());
}

std::string NameOf(const json::object& obj) {
  const json::value* meta = obj.if_contains("metadata");
  const json::value* name =
      meta && meta->is_object() ? meta->as_object().if_contains("name") : nullptr;
  return name && name->is_string() ? std::string(name->as_string()) : std::string();
}

}  // namespace

std::string ResourcePath::Collection(std::string_view ns) const {
  std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty()) {
    out += "/namespaces/";
    out += ns;
  }
  out += "/";
  out += resource;
  return out;
}

std::string ResourcePath::Item(std::string_view ns, std::string_view name,
                               std::string_view subresource) const {
  std::string out = Collection(ns);
  out += "/";
  out += name;
  if (!subresource.empty()) {
    out += "/";
    out += subresource;
  }
  return out;
}

Status StatusFromResponse(const ClientResponse& response) {
  boost::system::error_code ec;
  json::value v = json::parse(response.body, ec);
  std::string reason, message;
  if (!ec && v.is_object()) {
    const json::object& o = v.as_object();
    if (auto* r = o.if_contains("reason"); r && r->is_string()) reason = r->as_string();
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = m->as_string();
  }
  if (message.empty()) message = "the server answered " + std::to_string(response.status);
  Status s(CodeForReason(reason, response.status), std::move(message));
  if (!reason.empty()) s.SetReason(reason);
  return s;
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<json::object> Client::Get(const ResourcePath& r, std::string_view ns,
                                 std::string_view name) {
  return ObjectOf(Do("GET", r.Item(ns, name)));
}

Result<json::object> Client::List(const ResourcePath& r, std::string_view ns,
                                  std::string_view query) {
  std::string target = r.Collection(ns);
  if (!query.empty()) {
    target += "?";
    target += query;
  }
  return ObjectOf(Do("GET", target));
}

Result<json::object> Client::Create(const ResourcePath& r, std::string_view ns,
                                    const json::object& obj) {
  return ObjectOf(Do("POST", r.Collection(ns), json::serialize(obj)));
}

Result<json::object> Client::Update(const ResourcePath& r, std::string_view ns,
                                    const json::object& obj, std::string_view subresource) {
  return ObjectOf(Do("PUT", r.Item(ns, NameOf(obj), subresource), json::serialize(obj)));
}

Result<json::object> Client::Patch(const ResourcePath& r, std::string_view ns,
                                   std::string_view name, std::string_view content_type,
                                   std::string_view patch, std::string_view subresource) {
  return ObjectOf(Do("PATCH", r.Item(ns, name, subresource), patch, content_type));
}

Status Client::Delete(const ResourcePath& r, std::string_view ns, std::string_view name,
                      const json::object* options) {
  auto response = Do("DELETE", r.Item(ns, name), options ? json::serialize(*options) : "");
  if (!response) return response.error();
  if (response->status >= 200 && response->status < 300) return Status::Ok();
  return StatusFromResponse(*response);
}

Result<json::object> Client::CreateSubresource(const ResourcePath& r, std::string_view ns,
                                               std::string_view name, std::string_view subresource,
                                               const json::object& body) {
  return ObjectOf(Do("POST", r.Item(ns, name, subresource), json::serialize(body)));
}

}  // namespace skiff
