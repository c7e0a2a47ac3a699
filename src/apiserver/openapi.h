// OpenAPI documents of the served resources: /openapi/v3 (per group-version) and
// /openapi/v2 (Swagger 2.0, JSON).
//
// Both are rendered from the schemas of the catalogue the way kube-apiserver publishes
// its own, so that kubectl can rely on them:
//  - `kubectl explain` (>= 1.27, OpenAPI v3) finds a resource's GVK on the operations
//    of its paths, then the definition whose `x-kubernetes-group-version-kind` holds it,
//    and walks properties through `$ref` / `allOf` / `items` / `additionalProperties`;
//  - kubectl decides that the server validates fields itself (fieldValidation=Strict)
//    when a PATCH operation carrying the kind's `x-kubernetes-group-version-kind` lists
//    a `fieldValidation` parameter;
//  - strategic merge patch reads x-kubernetes-patch-strategy / -patch-merge-key.
// Types that operations need but the schema registry does not hold (ListMeta, Status,
// DeleteOptions, WatchEvent, Patch, Scale, the <Kind>List types, ...) are described by
// built-in fallbacks.
// Thread safety: free functions over read-only inputs; an OpenApiV3Set is immutable
// after Build and safe for concurrent readers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "apiserver/discovery.h"

namespace skiff {

// One rendered OpenAPI v3 document and its hash (DocumentHash of `json`).
struct OpenApiV3Document {
  std::string json;
  std::string hash;
};

// Every OpenAPI v3 document of the served resources and the index that links to them.
// Paths (keys) are those of kube-apiserver: "api", "api/v1", "apis", "apis/<g>",
// "apis/<g>/<v>" and "version".
// Serving as kube-apiserver does: a document requested with ?hash=<its hash> is
// immutable (Cache-Control: public, immutable); with another hash, answer 301 to the
// current serverRelativeURL; always send ETag "\"<hash>\"" and honour If-None-Match.
// kubectl caches documents on disk by that URL.
class OpenApiV3Set {
 public:
  static OpenApiV3Set Build(const ServedApis& apis);

  // GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=.."}}}
  const std::string& index() const { return index_; }
  // The document served at /openapi/v3/<path>, or nullptr.
  const OpenApiV3Document* Find(std::string_view path) const;
  const std::map<std::string, OpenApiV3Document, std::less<>>& documents() const {
    return documents_;
  }

 private:
  std::string index_;
  std::map<std::string, OpenApiV3Document, std::less<>> documents_;
};

// GET /openapi/v3. Renders every document to hash it: build an OpenApiV3Set once to
// serve the index and the documents together.
std::string OpenApiV3Index(const ServedApis& apis);
std::string OpenApiV3Index(const api::Catalogue& catalogue);

// GET /openapi/v3/<path> for `path` "api/v1", "apis/apps/v1", "apis/apps", "api",
// "apis" or "version" (no leading slash). nullopt when nothing is served there.
std::optional<std::string> OpenApiV3GroupVersion(const ServedApis& apis, std::string_view path);
std::optional<std::string> OpenApiV3GroupVersion(const api::Catalogue& catalogue,
                                                 std::string_view path);

// GET /openapi/v2 (Accept: application/json): one Swagger 2.0 document with every path
// and definition.
std::string OpenApiV2(const ServedApis& apis);
std::string OpenApiV2(const api::Catalogue& catalogue);

// GET /openapi/v2 with Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf:
// the same document as the protobuf message openapi.v2.Document (gnostic's
// OpenAPIv2.proto). The response's Content-Type must be kOpenApiV2ProtobufContentType:
// Go's media type parser, which kubectl runs on it, rejects the '@' of the Accept form.
// kubectl up to 1.28 asks for nothing else: without it `create`, `apply` and
// `explain` fail.
inline constexpr std::string_view kOpenApiV2ProtobufContentType =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
std::string OpenApiV2Protobuf(const ServedApis& apis);
std::string OpenApiV2Protobuf(const api::Catalogue& catalogue);

}  // namespace skiff
