// Building HTTP responses the Kubernetes way: Status errors, JSON/YAML objects.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "apiserver/http.h"
#include "base/status.h"

namespace skiff {

// metav1.Status JSON for `status` (Failure) as Kubernetes writes it.
std::string StatusJson(const Status& status);
boost::json::object StatusObject(const Status& status);

// A response carrying `status` with its HTTP code.
HttpResponse StatusResponse(const Status& status);
// The answer of a handler called with HttpRequest::non_blocking that would have to block.
HttpResponse WouldBlockResponse();

// Success Status ({"status":"Success"}) with code 200, e.g. for deletecollection.
HttpResponse SuccessStatusResponse(std::string_view details_name, std::string_view details_kind);

// Output media type chosen from an Accept header.
enum class OutputFormat { kJson, kYaml, kTable };
struct Negotiated {
  OutputFormat format = OutputFormat::kJson;
  std::string table_version;  // "v1" or "v1beta1" when format == kTable
};
Negotiated NegotiateOutput(std::string_view accept);

// A response with `json_body` encoded as JSON, or converted to YAML when asked.
HttpResponse ObjectResponse(int code, std::string json_body, OutputFormat format);
HttpResponse ObjectResponse(int code, const boost::json::value& value, OutputFormat format);

}  // namespace skiff
