// Decoding an incoming object against its schema, the way Kubernetes' decoder does:
// unknown fields are found (and dropped), values are type-checked, nulls are dropped,
// quantities are canonicalised and schema defaults are filled in.
// Thread safety: free functions over caller-owned values.
#pragma once

#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "api/schema.h"

namespace skiff::api {

struct DecodeReport {
  // Paths of fields the schema does not know, e.g. "spec.containers[0].imagePullPolcy".
  std::vector<std::string> unknown_fields;
  // Type mismatches, as Kubernetes words them, e.g.
  // "json: cannot unmarshal string into Go struct field
  // ContainerPort.spec.containers.ports.containerPort of type int32".
  std::vector<std::string> type_errors;
};

// Walks `value` against `schema`: records and removes unknown fields, records type
// errors (leaving those values in place), drops null members of objects and
// canonicalises quantities. `value` is modified in place.
void DecodeAgainstSchema(boost::json::value& value, const Schema& schema, DecodeReport& report);

// Fills in schema defaults for absent properties, recursively (in arrays and maps too).
void ApplySchemaDefaults(boost::json::value& value, const Schema& schema);

}  // namespace skiff::api
