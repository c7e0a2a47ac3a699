// ControllerRevision (apps/v1): data is required and fixed once written, and the
// `kubectl get controllerrevisions` table.
#include <cctype>

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

// The owner reference marked controller: true, if any.
const json::object* ControllerRef(const json::object& obj) {
  const json::array* refs = FindArr(obj, {"metadata", "ownerReferences"});
  if (!refs) return nullptr;
  for (const json::value& v : *refs) {
    const json::object* ref = v.if_object();
    if (ref && FindBool(*ref, {"controller"})) return ref;
  }
  return nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class ControllerRevisionStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    if (!obj.if_contains("data") || obj.at("data").is_null()) {
      errs.Required("data", "data is mandatory");
    }
    if (auto revision = FindInt(obj, {"revision"}); revision && *revision < 0) {
      errs.InvalidInt("revision", *revision, "must be greater than or equal to 0");
    }
    if (old && !SemanticEqualMember(obj.if_contains("data"), old->if_contains("data"))) {
      errs.Invalid("data", "runtime.RawExtension{...}", "field is immutable");
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Controller", "string", "", "Controller of the object", 0},
            {"Revision", "string", "", "Revision number of the state in data.", 0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string controller = "<none>";
    if (const json::object* ref = ControllerRef(obj)) {
      // printers.FormatResourceName with the kind: "<kind>.<group>/<name>", lower-case.
      std::string_view api_version = FindStr(*ref, {"apiVersion"});
      size_t slash = api_version.find('/');
      std::string group = slash == std::string_view::npos
                              ? std::string()
                              : std::string(api_version.substr(0, slash));
      std::string kind = Lower(FindStr(*ref, {"kind"}));
      if (!group.empty()) kind += "." + Lower(group);
      controller = kind + "/" + std::string(FindStr(*ref, {"name"}));
    }
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(controller);
    cells.emplace_back(FindInt(obj, {"revision"}).value_or(0));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& ControllerRevisionStrategy() {
  static const ControllerRevisionStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
