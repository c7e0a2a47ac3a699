// Secret: stringData folded into data, type Opaque by default, type-specific
// required keys, 1 MiB of data at most, immutable type.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/base64.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr int64_t kMaxSecretBytes = 1024 * 1024;  // core.MaxSecretSize

// stringData is a write-only convenience: its entries overwrite data's (base64
// encoded) and it is never stored.
void MergeStringData(json::object& obj) {
  json::value* string_data = obj.if_contains("stringData");
  if (!string_data) return;
  // Copied out first: inserting "data" may move obj's members.
  json::object entries;
  if (const json::object* given = string_data->if_object()) entries = *given;
  obj.erase("stringData");
  if (!entries.empty()) {
    json::value& data = obj["data"];
    if (!data.is_object()) data = json::object();
    for (const auto& kv : entries) {
      const json::string* s = kv.value().if_string();
      data.get_object()[kv.key()] = Base64Encode(s ? std::string_view(*s) : std::string_view());
    }
  }
}

bool HasDataKey(const json::object& obj, std::string_view key) {
  const json::object* data = FindObj(obj, {"data"});
  return data && data->contains(key);
}

std::optional<std::string> DecodedData(const json::object& obj, std::string_view key) {
  std::string_view encoded = FindStr(obj, {"data", key});
  return Base64Decode(encoded);
}

void ValidateJsonKey(const json::object& obj, std::string_view key, FieldErrors& errs) {
  if (!HasDataKey(obj, key)) {
    errs.Required(KeyOf("data", key));
    return;
  }
  auto decoded = DecodedData(obj, key);
  json::error_code ec;
  json::value parsed = json::parse(decoded ? *decoded : std::string(), ec);
  if (ec || !parsed.is_object()) {
    errs.Invalid(KeyOf("data", key), GoQuote("<secret contents redacted>"),
                 ec ? "unexpected end of JSON input"
                    : "json: cannot unmarshal value into Go value of type map[string]interface {}");
  }
}

class SecretStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void ApplyDefaults(json::object& obj) const override {
    if (IsUnsetString(obj, "type")) obj["type"] = "Opaque";
  }

  void PrepareForCreate(json::object& obj) const override { MergeStringData(obj); }

  void PrepareForUpdate(json::object& obj, const json::object& /*old*/) const override {
    MergeStringData(obj);
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    std::string_view type = FindStr(obj, {"type"});
    if (old) {
      std::string_view old_type = FindStr(*old, {"type"});
      if (type != old_type) errs.InvalidString("type", type, "field is immutable");
      if (FindBool(*old, {"immutable"})) {
        if (!FindBool(obj, {"immutable"})) {
          errs.Forbidden("immutable", "field is immutable when `immutable` is set");
        }
        if (!SemanticEqualMember(Find(obj, {"data"}), Find(*old, {"data"}))) {
          errs.Forbidden("data", "field is immutable when `immutable` is set");
        }
      }
    }

    int64_t total = 0;
    if (const json::object* data = FindObj(obj, {"data"})) {
      for (const auto& kv : *data) {
        std::string path = KeyOf("data", kv.key());
        errs.InvalidEach(path, kv.key(), ConfigMapKeyErrors(kv.key()));
        const json::string* s = kv.value().if_string();
        auto decoded = Base64Decode(s ? std::string_view(*s) : std::string_view());
        if (!decoded) {
          errs.Invalid(path, GoQuote("<secret contents redacted>"), "illegal base64 data");
          continue;
        }
        total += static_cast<int64_t>(decoded->size());
      }
    }
    if (total > kMaxSecretBytes) errs.TooLong("data", kMaxSecretBytes);

    if (type == "kubernetes.io/service-account-token") {
      if (FindStr(obj, {"metadata", "annotations", "kubernetes.io/service-account.name"}).empty()) {
        errs.Required("metadata.annotations[kubernetes.io/service-account.name]");
      }
    } else if (type == "kubernetes.io/dockercfg") {
      ValidateJsonKey(obj, ".dockercfg", errs);
    } else if (type == "kubernetes.io/dockerconfigjson") {
      ValidateJsonKey(obj, ".dockerconfigjson", errs);
    } else if (type == "kubernetes.io/basic-auth") {
      if (!HasDataKey(obj, "username") && !HasDataKey(obj, "password")) {
        errs.Required("data[username]");
        errs.Required("data[password]");
      }
    } else if (type == "kubernetes.io/ssh-auth") {
      auto key = DecodedData(obj, "ssh-privatekey");
      if (!key || key->empty()) errs.Required("data[ssh-privatekey]");
    } else if (type == "kubernetes.io/tls") {
      if (!HasDataKey(obj, "tls.crt")) errs.Required("data[tls.crt]");
      if (!HasDataKey(obj, "tls.key")) errs.Required("data[tls.key]");
    }
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    if (field == "type") return std::string(FindStr(obj, {"type"}));
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Type", "string", "",
             "Used to facilitate programmatic handling of secret data. More info: "
             "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
             0},
            {"Data", "string", "",
             "Data contains the secret data. Each key must consist of alphanumeric characters, "
             "'-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, "
             "representing the arbitrary (possibly non-string) data value here. Described in "
             "https://tools.ietf.org/html/rfc4648#section-4",
             0},
            AgeColumn()};
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"type"}));
    cells.emplace_back(static_cast<int64_t>(CountAt(obj, {"data"})));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& SecretStrategy() {
  static const SecretStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
