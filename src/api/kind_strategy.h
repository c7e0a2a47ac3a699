// KindStrategy: the C++ behaviour of one kind, where data (the schema) is not enough.
//
// The generic path (api/object_codec.h) handles decoding, unknown fields and schema
// defaults for every kind; a strategy adds what Kubernetes does in code for that kind:
// conditional defaults, validation rules, which fields a field selector may use, and
// the columns `kubectl get` prints.
// Thread safety: strategies are stateless; all methods are const and thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff::api {

struct ResourceInfo;

// One column of a metav1.Table (TableColumnDefinition).
struct TableColumn {
  std::string name;         // "Name"
  std::string type;         // "string", "integer", "date", ...
  std::string format;       // "name" for the name column, else ""
  std::string description;  // shown by nothing in kubectl, but part of the API
  int priority = 0;         // 0: always shown; 1: only with -o wide
};

// Everything a strategy may need about "now" and the served resource.
struct StrategyContext {
  std::chrono::system_clock::time_point now;
};

class KindStrategy {
 public:
  virtual ~KindStrategy() = default;

  // True if the kind has a status subresource: create clears .status, a main-resource
  // update keeps the old .status, a status update keeps everything but .status.
  virtual bool HasStatusSubresource() const { return false; }

  // True if the server keeps metadata.generation (1 on create, +1 on every spec change),
  // as Kubernetes does for workload kinds and custom resources but not for e.g. ConfigMaps.
  virtual bool TracksGeneration() const { return false; }

  // True if a create keeps the .status the client sent even though the kind has a
  // status subresource (a kubelet registers its Node with its status).
  virtual bool KeepsStatusOnCreate() const { return false; }

  // Kind-specific defaults applied after the schema's defaults (e.g. a container's
  // imagePullPolicy from its image tag). Called on create and update.
  virtual void ApplyDefaults(boost::json::object& obj) const;

  // Adjusts a new object before validation on create (beyond the generic metadata
  // handling), e.g. Namespace phase Active, Pod phase Pending.
  virtual void PrepareForCreate(boost::json::object& obj) const;

  // Adjusts an updated object given the stored one (e.g. immutable server-set fields).
  virtual void PrepareForUpdate(boost::json::object& obj, const boost::json::object& old) const;

  // Appends validation failures (field path + message) for a create (`old` == nullptr)
  // or an update.
  virtual void Validate(const boost::json::object& obj, const boost::json::object* old,
                        std::vector<StatusCause>& errors) const;

  // The value of a field-selector field, or nullopt if the field is not supported for
  // this kind. metadata.name and metadata.namespace are handled generically.
  virtual std::optional<std::string> FieldValue(const boost::json::object& obj,
                                                std::string_view field) const;

  // Table columns; the first must be Name (format "name").
  // Kubernetes' default table unless overridden: NAME and CREATED AT.
  virtual std::vector<TableColumn> Columns() const;
  // One row's cells, matching Columns(): strings, numbers or booleans.
  virtual void Row(const boost::json::object& obj, const StrategyContext& ctx,
                   boost::json::array& cells) const;
};

// The strategy for `kind` ("Pod", "Service", ...) or the generic one. Never null.
const KindStrategy* StrategyFor(std::string_view group, std::string_view kind);

// Helpers shared by strategies.
// The AGE cell: human duration since metadata.creationTimestamp, "<unknown>" if absent.
std::string AgeCell(const boost::json::object& obj, const StrategyContext& ctx);

}  // namespace skiff::api
