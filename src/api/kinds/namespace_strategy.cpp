// Namespace: phase Active on create, the "kubernetes" finalizer, the
// kubernetes.io/metadata.name label, and a DNS-1123 label for a name.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr std::string_view kMetadataNameLabel = "kubernetes.io/metadata.name";
constexpr std::string_view kKubernetesFinalizer = "kubernetes";

// Kubernetes keeps the label in step with the name, so that namespaces can be
// selected by name in label selectors (e.g. network policies).
void SetNameLabel(json::object& obj) {
  std::string name(FindStr(obj, {"metadata", "name"}));  // a copy: inserting moves members
  if (name.empty()) return;
  EnsureObj(obj, {"metadata", "labels"})[kMetadataNameLabel] = name;
}

bool IsStandardFinalizer(std::string_view name) {
  return name == "kubernetes" || name == "orphan" || name == "foregroundDeletion";
}

class NamespaceStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void ApplyDefaults(json::object& obj) const override { SetNameLabel(obj); }

  void PrepareForCreate(json::object& obj) const override {
    obj["status"] = json::object{{"phase", "Active"}};
    // Added on create only: the namespace controller removes it when it has emptied
    // a terminating namespace, and it must not come back.
    json::array& finalizers = [&]() -> json::array& {
      json::value& v = EnsureObj(obj, {"spec"})["finalizers"];
      if (!v.is_array()) v = json::array();
      return v.get_array();
    }();
    bool present = false;
    for (const json::value& f : finalizers) {
      if (const json::string* s = f.if_string(); s && *s == kKubernetesFinalizer) present = true;
    }
    if (!present) finalizers.emplace_back(kKubernetesFinalizer);
    SetNameLabel(obj);
  }

  void PrepareForUpdate(json::object& obj, const json::object& /*old*/) const override {
    SetNameLabel(obj);
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    if (!old) {
      std::string_view name = FindStr(obj, {"metadata", "name"});
      if (!name.empty()) errs.InvalidEach("metadata.name", name, Dns1123LabelErrors(name));
    }
    if (const json::array* finalizers = FindArr(obj, {"spec", "finalizers"})) {
      for (const json::value& f : *finalizers) {
        const json::string* s = f.if_string();
        std::string_view name = s ? std::string_view(*s) : std::string_view();
        errs.InvalidEach("spec.finalizers", name, QualifiedNameErrors(name));
        if (name.find('/') == std::string_view::npos && !IsStandardFinalizer(name)) {
          errs.InvalidString("spec.finalizers", name,
                             "name is neither a standard finalizer name nor is it fully qualified");
        }
      }
    }
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    if (field == "status.phase") return std::string(FindStr(obj, {"status", "phase"}));
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(), {"Status", "string", "", "The status of the namespace", 0}, AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"status", "phase"}));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& NamespaceStrategy() {
  static const NamespaceStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
