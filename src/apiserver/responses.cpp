#include "apiserver/responses.h"

#include <boost/json.hpp>

#include "base/yaml_codec.h"

namespace skiff {

namespace json = boost::json;

json::object StatusObject(const Status& status) {
  json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = json::object();
  o["status"] = status.ok() ? "Success" : "Failure";
  o["message"] = status.message();
  std::string reason =
      status.reason_override().empty() ? ReasonFor(status.code()) : status.reason_override();
  if (!reason.empty()) o["reason"] = reason;
  json::object details;
  if (!status.details_name().empty()) details["name"] = status.details_name();
  if (!status.details_group().empty()) details["group"] = status.details_group();
  if (!status.details_kind().empty()) details["kind"] = status.details_kind();
  if (!status.causes().empty()) {
    json::array causes;
    for (const auto& c : status.causes()) {
      json::object co;
      if (!c.type.empty()) co["reason"] = c.type;
      co["message"] = c.message;
      if (!c.field.empty()) co["field"] = c.field;
      causes.push_back(std::move(co));
    }
    details["causes"] = std::move(causes);
  }
  if (status.retry_after_seconds() > 0) details["retryAfterSeconds"] = status.retry_after_seconds();
  if (!details.empty()) o["details"] = std::move(details);
  o["code"] = HttpCodeFor(status.code());
  return o;
}

std::string StatusJson(const Status& status) { return json::serialize(StatusObject(status)); }

HttpResponse WouldBlockResponse() {
  HttpResponse response;
  response.would_block = true;
  return response;
}

HttpResponse StatusResponse(const Status& status) {
  HttpResponse r;
  r.status = HttpCodeFor(status.code());
  r.SetHeader("Content-Type", "application/json");
  if (status.retry_after_seconds() > 0) {
    r.SetHeader("Retry-After", std::to_string(status.retry_after_seconds()));
  }
  r.body = StatusJson(status);
  return r;
}

HttpResponse SuccessStatusResponse(std::string_view details_name, std::string_view details_kind) {
  json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = json::object();
  o["status"] = "Success";
  json::object details;
  if (!details_name.empty()) details["name"] = details_name;
  if (!details_kind.empty()) details["kind"] = details_kind;
  o["details"] = std::move(details);
  HttpResponse r;
  r.status = 200;
  r.SetHeader("Content-Type", "application/json");
  r.body = json::serialize(o);
  return r;
}

Negotiated NegotiateOutput(std::string_view accept) {
  Negotiated n;
  // Clients list acceptable types in preference order; take the first we can produce.
  size_t pos = 0;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view item = accept.substr(pos, comma - pos);
    pos = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    bool is_json = item.starts_with("application/json");
    if (is_json && item.find("as=Table") != std::string_view::npos) {
      if (item.find("g=meta.k8s.io") != std::string_view::npos) {
        n.format = OutputFormat::kTable;
        n.table_version = item.find("v=v1beta1") != std::string_view::npos ? "v1beta1" : "v1";
        return n;
      }
      continue;
    }
    if (is_json && item.find("as=") != std::string_view::npos) continue;  // other conversions
    if (is_json || item.starts_with("*/*") || item.starts_with("application/*")) {
      n.format = OutputFormat::kJson;
      return n;
    }
    if (item.starts_with("application/yaml")) {
      n.format = OutputFormat::kYaml;
      return n;
    }
    if (comma == accept.size()) break;
  }
  return n;
}

HttpResponse ObjectResponse(int code, std::string json_body, OutputFormat format) {
  HttpResponse r;
  r.status = code;
  if (format == OutputFormat::kYaml) {
    json::error_code ec;
    json::value v = json::parse(json_body, ec);
    if (!ec) {
      r.SetHeader("Content-Type", "application/yaml");
      r.body = ToYaml(v);
      return r;
    }
  }
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(json_body);
  return r;
}

HttpResponse ObjectResponse(int code, const json::value& value, OutputFormat format) {
  HttpResponse r;
  r.status = code;
  if (format == OutputFormat::kYaml) {
    r.SetHeader("Content-Type", "application/yaml");
    r.body = ToYaml(value);
    return r;
  }
  r.SetHeader("Content-Type", "application/json");
  r.body = json::serialize(value);
  return r;
}

}  // namespace skiff
