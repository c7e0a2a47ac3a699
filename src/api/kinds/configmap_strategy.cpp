// ConfigMap: valid keys, no key in both data and binaryData, at most 1 MiB in
// total, and nothing changes once `immutable` is set.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/base64.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr int64_t kMaxConfigMapBytes = 1024 * 1024;  // core.MaxSecretSize

class ConfigMapStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    if (old && FindBool(*old, {"immutable"})) {
      if (!FindBool(obj, {"immutable"})) {
        errs.Forbidden("immutable", "field is immutable when `immutable` is set");
      }
      if (!SemanticEqualMember(Find(obj, {"data"}), Find(*old, {"data"}))) {
        errs.Forbidden("data", "field is immutable when `immutable` is set");
      }
      if (!SemanticEqualMember(Find(obj, {"binaryData"}), Find(*old, {"binaryData"}))) {
        errs.Forbidden("binaryData", "field is immutable when `immutable` is set");
      }
    }
    int64_t total = 0;
    const json::object* binary = FindObj(obj, {"binaryData"});
    if (const json::object* data = FindObj(obj, {"data"})) {
      for (const auto& kv : *data) {
        std::string path = KeyOf("data", kv.key());
        errs.InvalidEach(path, kv.key(), ConfigMapKeyErrors(kv.key()));
        if (binary && binary->contains(kv.key())) {
          errs.InvalidString(path, kv.key(), "duplicate of key present in binaryData");
        }
        if (const json::string* s = kv.value().if_string())
          total += static_cast<int64_t>(s->size());
      }
    }
    if (binary) {
      for (const auto& kv : *binary) {
        errs.InvalidEach(KeyOf("binaryData", kv.key()), kv.key(), ConfigMapKeyErrors(kv.key()));
        if (const json::string* s = kv.value().if_string()) {
          auto decoded = Base64Decode(*s);
          total += static_cast<int64_t>(decoded ? decoded->size() : s->size());
        }
      }
    }
    if (total > kMaxConfigMapBytes) errs.TooLong("", kMaxConfigMapBytes);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Data", "string", "",
             "Data contains the configuration data. Each key must consist of alphanumeric "
             "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the "
             "BinaryData field. The keys stored in Data must not overlap with the keys in the "
             "BinaryData field, this is enforced during validation process.",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(static_cast<int64_t>(CountAt(obj, {"data"}) + CountAt(obj, {"binaryData"})));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& ConfigMapStrategy() {
  static const ConfigMapStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
