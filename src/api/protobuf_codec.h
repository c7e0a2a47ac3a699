// Decoding of Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) into the
// JSON objects the rest of the API server works with.
//
// kubectl sends the bodies of its typed commands (`create namespace|configmap|secret|
// deployment|service`, `auth whoami`, ...) in this encoding and does not retry with JSON.
// The decoder follows the schemas (docs/schema-format.md: `pb=`, `ptr`, `keepzero`) and
// produces what Kubernetes' JSON encoder writes for the same object: the JSON body the
// command would have sent.
//
// Wire format: the 4 bytes "k8s\0", then a runtime.Unknown message {typeMeta{apiVersion=1,
// kind=2}=1, raw=2, contentEncoding=3, contentType=4} whose `raw` is the object's message.
//
// Thread safety: pure functions; concurrent calls are safe (the registry is read-only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "api/schema.h"
#include "base/status.h"

namespace skiff::api {

// The media type of Kubernetes protobuf bodies.
inline constexpr std::string_view kKubernetesProtobufMediaType =
    "application/vnd.kubernetes.protobuf";

// What a decode skipped.
struct ProtobufDecodeReport {
  // Fields the schema does not know, as "<json path>: field <number>", e.g.
  // "spec.template.spec: field 99"; they are skipped, as Kubernetes skips them.
  std::vector<std::string> unknown_fields;
};

// True when `body` starts with the 4-byte magic "k8s\0" of Kubernetes protobuf.
bool HasKubernetesProtobufMagic(std::string_view body);

// Decodes a Kubernetes protobuf body: checks the magic, reads the runtime.Unknown
// envelope, finds the schema of the envelope's kind in `registry` (the named type whose
// group/version/kind match, else a kind of meta/v1 such as DeleteOptions) and decodes the
// object's message. Returns a JSON object that starts with "apiVersion" and "kind" from
// the envelope, followed by the decoded fields.
//
// `api_version` and `kind` are in-out and may be null: on entry, a non-empty value is the
// default used when the envelope leaves the field empty (pass the group/version and kind
// of the request's resource); on success they receive the values used.
// `report`, if not null, receives the unknown fields that were skipped.
//
// Errors (nothing is written to the out-parameters):
//   kBadRequest            malformed bytes (no magic, truncated or invalid varints,
//                          lengths past the end, wrong wire types, invalid times or
//                          embedded JSON, nesting deeper than 64), or no apiVersion/kind;
//   kUnsupportedMediaType  a contentEncoding (compression) is set, or the kind has no
//                          schema in `registry`.
// Never throws and never reads outside `body`, whatever its content.
Result<boost::json::value> DecodeKubernetesProtobuf(std::string_view body,
                                                    const SchemaRegistry& registry,
                                                    std::string* api_version, std::string* kind,
                                                    ProtobufDecodeReport* report = nullptr);

// Decodes one protobuf message of the object type `schema` (no magic, no envelope) into
// its JSON fields; apiVersion and kind are not added. `registry` serves objects embedded
// as protobuf in a RawExtension. Errors: kBadRequest as above.
Result<boost::json::object> DecodeProtobufMessage(std::string_view message, const Schema& schema,
                                                  const SchemaRegistry& registry,
                                                  ProtobufDecodeReport* report = nullptr);

}  // namespace skiff::api
