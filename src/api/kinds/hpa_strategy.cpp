// HorizontalPodAutoscaler (autoscaling/v2, the storage version): the default metric and
// scaling rules, validation with Kubernetes' messages, and the `kubectl get hpa` table.
// autoscaling/v1 requests reach this strategy after conversion to v2.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"
#include "base/k8s_names.h"
#include "base/quantity.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr int kDefaultCpuUtilization = 80;
constexpr int64_t kMaxStabilizationWindowSeconds = 3600;
constexpr int64_t kMaxPeriodSeconds = 1800;

json::object Policy(std::string_view type, int value, int period) {
  return json::object{{"type", type}, {"value", value}, {"periodSeconds", period}};
}

// Kubernetes' default rules, completing whatever a direction leaves unset.
void CompleteRules(json::object& behavior, std::string_view direction) {
  json::value& slot = behavior[direction];
  if (!slot.is_object()) slot = json::object();
  json::object& rules = slot.as_object();
  if (direction == "scaleUp") {
    SetIfAbsent(rules, "stabilizationWindowSeconds", 0);
    SetIfAbsent(rules, "selectPolicy", "Max");
    SetIfAbsent(rules, "policies", json::array{Policy("Pods", 4, 15), Policy("Percent", 100, 15)});
  } else {
    SetIfAbsent(rules, "selectPolicy", "Max");
    SetIfAbsent(rules, "policies", json::array{Policy("Percent", 100, 15)});
  }
}

// The configurable tolerance is behind a feature gate that is off in Kubernetes 1.33: it
// is dropped unless the stored object already uses it.
bool UsesTolerance(const json::object& obj) {
  for (const char* dir : {"scaleUp", "scaleDown"}) {
    if (Find(obj, {"spec", "behavior", dir, "tolerance"})) return true;
  }
  return false;
}

void DropTolerance(json::object& obj) {
  for (const char* dir : {"scaleUp", "scaleDown"}) {
    if (json::object* rules = FindMutObj(obj, {"spec", "behavior", dir})) rules->erase("tolerance");
  }
}

// Kubernetes' status of a new autoscaler: the zero value as v2 serializes it.
json::object EmptyStatus() {
  return json::object{{"currentMetrics", nullptr}, {"desiredReplicas", 0}};
}

std::string QuantityText(const json::value* v) {
  if (!v) return "<nil>";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

// --- validation ------------------------------------------------------------------------

void ValidateCrossVersionObjectReference(const json::object* ref, const std::string& path,
                                         FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object& r = ref ? *ref : kEmpty;
  for (const char* field : {"kind", "name"}) {
    std::string_view v = FindStr(r, {field});
    if (v.empty()) {
      errs.Required(Child(path, field));
    } else {
      errs.InvalidEach(Child(path, field), v, IsValidPathSegmentName(v));
    }
  }
}

std::optional<Quantity> QuantityAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  auto q = Quantity::Parse(v->is_string() ? std::string_view(v->as_string()) : std::string_view());
  if (!q) return std::nullopt;
  return *q;
}

void ValidateMetricTarget(const json::object* target, const std::string& path, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object& t = target ? *target : kEmpty;
  std::string_view type = FindStr(t, {"type"});
  if (type.empty()) {
    errs.Required(Child(path, "type"), "must specify a metric target type");
  } else if (type != "Utilization" && type != "Value" && type != "AverageValue") {
    errs.InvalidString(Child(path, "type"), type,
                       "must be either Utilization, Value, or AverageValue");
  }
  for (const char* key : {"value", "averageValue"}) {
    if (auto q = QuantityAt(t, key); q && *q <= Quantity()) {
      errs.Invalid(Child(path, key), QuantityText(t.if_contains(key)), "must be positive");
    }
  }
  if (auto u = FindInt(t, {"averageUtilization"}); u && *u <= 0) {
    errs.InvalidInt(Child(path, "averageUtilization"), *u, "must be greater than 0");
  }
}

void ValidateMetricIdentifier(const json::object* id, const std::string& path, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object& m = id ? *id : kEmpty;
  std::string_view name = FindStr(m, {"name"});
  if (name.empty()) {
    errs.Required(Child(path, "name"), "must specify a metric name");
  } else {
    errs.InvalidEach(Child(path, "name"), name, IsValidPathSegmentName(name));
  }
}

void ValidateResourceSource(const json::object& src, const std::string& path, bool container,
                            FieldErrors& errs) {
  if (FindStr(src, {"name"}).empty())
    errs.Required(Child(path, "name"), "must specify a resource name");
  if (container) {
    std::string_view c = FindStr(src, {"container"});
    if (c.empty()) {
      errs.Required(Child(path, "container"), "must specify a container");
    } else {
      errs.InvalidEach(Child(path, "container"), c, Dns1123LabelErrors(c));
    }
  }
  const json::object* target = FindObj(src, {"target"});
  std::string tpath = Child(path, "target");
  ValidateMetricTarget(target, tpath, errs);
  bool util = target && target->contains("averageUtilization");
  bool value = target && target->contains("averageValue");
  if (!util && !value) {
    errs.Required(Child(tpath, "averageUtilization"),
                  "must set either a target raw value or a target utilization");
  }
  if (util && value) {
    errs.Forbidden(Child(tpath, "averageValue"),
                   "may not set both a target raw value and a target utilization");
  }
}

void ValidateMetricSpec(const json::object& m, const std::string& path, FieldErrors& errs) {
  std::string_view type = FindStr(m, {"type"});
  if (type.empty()) {
    errs.Required(Child(path, "type"), "must specify a metric source type");
  }
  struct Source {
    std::string_view type;
    const char* field;
  };
  static const Source kSources[] = {{"Object", "object"},
                                    {"Pods", "pods"},
                                    {"Resource", "resource"},
                                    {"External", "external"},
                                    {"ContainerResource", "containerResource"}};
  bool known = type.empty();
  for (const Source& s : kSources) {
    bool present = m.contains(s.field);
    if (s.type == type) {
      known = true;
      if (!present) {
        errs.Required(Child(path, s.field),
                      "must populate information for the given metric source");
      }
    } else if (present && !type.empty()) {
      errs.Forbidden(Child(path, s.field), "must populate the given metric source only");
    }
  }
  if (!known) {
    errs.NotSupported(Child(path, "type"), type,
                      {"ContainerResource", "External", "Object", "Pods", "Resource"});
  }
  if (const json::object* o = FindObj(m, {"object"})) {
    std::string p = Child(path, "object");
    ValidateCrossVersionObjectReference(FindObj(*o, {"describedObject"}),
                                        Child(p, "describedObject"), errs);
    ValidateMetricIdentifier(FindObj(*o, {"metric"}), Child(p, "metric"), errs);
    const json::object* target = FindObj(*o, {"target"});
    ValidateMetricTarget(target, Child(p, "target"), errs);
    if (!target || (!target->contains("value") && !target->contains("averageValue"))) {
      errs.Required(Child(p, "target.averageValue"),
                    "must set either a target value or averageValue");
    }
  }
  if (const json::object* o = FindObj(m, {"pods"})) {
    std::string p = Child(path, "pods");
    ValidateMetricIdentifier(FindObj(*o, {"metric"}), Child(p, "metric"), errs);
    const json::object* target = FindObj(*o, {"target"});
    ValidateMetricTarget(target, Child(p, "target"), errs);
    if (!target || !target->contains("averageValue")) {
      errs.Required(Child(p, "target.averageValue"), "must specify a positive target averageValue");
    }
  }
  if (const json::object* o = FindObj(m, {"external"})) {
    std::string p = Child(path, "external");
    ValidateMetricIdentifier(FindObj(*o, {"metric"}), Child(p, "metric"), errs);
    const json::object* target = FindObj(*o, {"target"});
    ValidateMetricTarget(target, Child(p, "target"), errs);
    bool value = target && target->contains("value");
    bool average = target && target->contains("averageValue");
    if (!value && !average) {
      errs.Required(Child(p, "target.averageValue"),
                    "must set either a target value for metric or a per-pod target");
    }
    if (value && average) {
      errs.Forbidden(Child(p, "target.value"),
                     "may not set both a target value for metric and a per-pod target");
    }
  }
  if (const json::object* o = FindObj(m, {"resource"})) {
    ValidateResourceSource(*o, Child(path, "resource"), false, errs);
  }
  if (const json::object* o = FindObj(m, {"containerResource"})) {
    ValidateResourceSource(*o, Child(path, "containerResource"), true, errs);
  }
}

void ValidateScalingRules(const json::object* rules, const std::string& path, FieldErrors& errs) {
  if (!rules) return;
  if (auto w = FindInt(*rules, {"stabilizationWindowSeconds"})) {
    if (*w < 0) {
      errs.InvalidInt(Child(path, "stabilizationWindowSeconds"), *w,
                      "must be greater than or equal to zero");
    } else if (*w > kMaxStabilizationWindowSeconds) {
      errs.InvalidInt(Child(path, "stabilizationWindowSeconds"), *w,
                      "must be less than or equal to 3600");
    }
  }
  std::string_view select = FindStr(*rules, {"selectPolicy"});
  if (rules->contains("selectPolicy") && select != "Max" && select != "Min" &&
      select != "Disabled") {
    errs.NotSupported(Child(path, "selectPolicy"), select, {"Disabled", "Max", "Min"});
  }
  const json::array* policies = FindArr(*rules, {"policies"});
  if ((!policies || policies->empty()) && select != "Disabled") {
    errs.Required(Child(path, "policies"), "must specify at least one Policy");
  }
  if (!policies) return;
  for (size_t i = 0; i < policies->size(); ++i) {
    const json::object* p = (*policies)[i].if_object();
    if (!p) continue;
    std::string ppath = Index(Child(path, "policies"), i);
    std::string_view type = FindStr(*p, {"type"});
    if (type != "Pods" && type != "Percent") {
      errs.InvalidString(Child(ppath, "type"), type, "must be either Pods or Percent");
    }
    int64_t period = FindInt(*p, {"periodSeconds"}).value_or(0);
    if (period <= 0) {
      errs.InvalidInt(Child(ppath, "periodSeconds"), period, "must be greater than zero");
    } else if (period > kMaxPeriodSeconds) {
      errs.InvalidInt(Child(ppath, "periodSeconds"), period, "must be less than or equal to 1800");
    }
    int64_t value = FindInt(*p, {"value"}).value_or(0);
    if (value <= 0) errs.InvalidInt(Child(ppath, "value"), value, "must be greater than zero");
  }
}

// --- the TARGETS cell ------------------------------------------------------------------

std::string MetricCell(const json::object& spec, const json::object* status) {
  std::string_view type = FindStr(spec, {"type"});
  auto current_of = [&](const char* source, const char* field) -> std::string {
    if (!status || !FindObj(*status, {source})) return "<unknown>";
    return QuantityText(Find(*status, {source, "current", field}));
  };
  if (type == "External" || type == "Object") {
    const char* source = type == "External" ? "external" : "object";
    if (const json::value* avg = Find(spec, {source, "target", "averageValue"})) {
      std::string current = "<unknown>";
      if (status && Find(*status, {source, "current", "averageValue"})) {
        current = current_of(source, "averageValue");
      }
      return current + "/" + QuantityText(avg) + " (avg)";
    }
    return current_of(source, "value") + "/" +
           QuantityText(Find(spec, {source, "target", "value"}));
  }
  if (type == "Pods") {
    return current_of("pods", "averageValue") + "/" +
           QuantityText(Find(spec, {"pods", "target", "averageValue"}));
  }
  if (type == "Resource" || type == "ContainerResource") {
    const char* source = type == "Resource" ? "resource" : "containerResource";
    std::string name(FindStr(spec, {source, "name"}));
    if (const json::value* avg = Find(spec, {source, "target", "averageValue"})) {
      return name + ": " + current_of(source, "averageValue") + "/" + QuantityText(avg);
    }
    std::string current = "<unknown>";
    if (status) {
      if (auto u = FindInt(*status, {source, "current", "averageUtilization"})) {
        current = std::to_string(*u) + "%";
      }
    }
    std::string target = "<auto>";
    if (auto u = FindInt(spec, {source, "target", "averageUtilization"})) {
      target = std::to_string(*u) + "%";
    }
    return name + ": " + current + "/" + target;
  }
  return "<unknown type>";
}

std::string TargetsCell(const json::object& obj) {
  const json::array* specs = FindArr(obj, {"spec", "metrics"});
  if (!specs || specs->empty()) return "<none>";
  const json::array* statuses = FindArr(obj, {"status", "currentMetrics"});
  constexpr size_t kShown = 2;
  std::string out;
  for (size_t i = 0; i < specs->size() && i < kShown; ++i) {
    const json::object* spec = (*specs)[i].if_object();
    const json::object* status =
        statuses && i < statuses->size() ? (*statuses)[i].if_object() : nullptr;
    if (i) out += ", ";
    out += spec ? MetricCell(*spec, status) : "<unknown type>";
  }
  if (specs->size() > kShown) out += " + " + std::to_string(specs->size() - kShown) + " more...";
  return out;
}

class HpaStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec = FindMutObj(obj, {"spec"});
    if (!spec) return;
    const json::array* metrics = FindArr(*spec, {"metrics"});
    if (!metrics || metrics->empty()) {
      (*spec)["metrics"] = json::array{json::object{
          {"type", "Resource"},
          {"resource", json::object{{"name", "cpu"},
                                    {"target", json::object{{"type", "Utilization"},
                                                            {"averageUtilization",
                                                             kDefaultCpuUtilization}}}}}}};
    }
    if (json::object* behavior = FindMutObj(*spec, {"behavior"})) {
      CompleteRules(*behavior, "scaleUp");
      CompleteRules(*behavior, "scaleDown");
    }
  }

  void PrepareForCreate(json::object& obj) const override {
    obj["status"] = EmptyStatus();
    DropTolerance(obj);
  }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    if (!UsesTolerance(old)) DropTolerance(obj);
    if (json::object* status = FindMutObj(obj, {"status"})) {
      if (!status->contains("currentMetrics")) (*status)["currentMetrics"] = nullptr;
      SetIfAbsent(*status, "desiredReplicas", 0);
    }
  }

  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    ValidateCrossVersionObjectReference(FindObj(spec, {"scaleTargetRef"}), "spec.scaleTargetRef",
                                        errs);
    auto min = FindInt(spec, {"minReplicas"});
    if (min && *min < 1) {
      errs.InvalidInt("spec.minReplicas", *min, "must be greater than or equal to 1");
    }
    int64_t max = FindInt(spec, {"maxReplicas"}).value_or(0);
    if (max < 1) errs.InvalidInt("spec.maxReplicas", max, "must be greater than 0");
    if (min && max < *min) {
      errs.InvalidInt("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
    }
    if (const json::array* metrics = FindArr(spec, {"metrics"})) {
      for (size_t i = 0; i < metrics->size(); ++i) {
        if (const json::object* m = (*metrics)[i].if_object()) {
          ValidateMetricSpec(*m, Index("spec.metrics", i), errs);
        }
      }
    }
    if (const json::object* behavior = FindObj(spec, {"behavior"})) {
      ValidateScalingRules(FindObj(*behavior, {"scaleUp"}), "spec.behavior.scaleUp", errs);
      ValidateScalingRules(FindObj(*behavior, {"scaleDown"}), "spec.behavior.scaleDown", errs);
    }
    for (const char* field : {"currentReplicas", "desiredReplicas"}) {
      if (auto v = FindInt(obj, {"status", field}); v && *v < 0) {
        errs.InvalidInt(std::string("status.") + field, *v, "must be greater than or equal to 0");
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Reference", "string", "", "The resource whose replicas the autoscaler scales.", 0},
        {"Targets", "string", "", "The metrics and their targets the replica count follows.", 0},
        {"MinPods", "string", "", "Lower bound of the replica count.", 0},
        {"MaxPods", "integer", "", "Upper bound of the replica count.", 0},
        {"Replicas", "integer", "", "Current number of replicas of the scaled pods.", 0},
        AgeColumn(),
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(std::string(FindStr(obj, {"spec", "scaleTargetRef", "kind"})) + "/" +
                       std::string(FindStr(obj, {"spec", "scaleTargetRef", "name"})));
    cells.emplace_back(TargetsCell(obj));
    auto min = FindInt(obj, {"spec", "minReplicas"});
    cells.emplace_back(min ? std::to_string(*min) : std::string("<unset>"));
    cells.emplace_back(FindInt(obj, {"spec", "maxReplicas"}).value_or(0));
    cells.emplace_back(FindInt(obj, {"status", "currentReplicas"}).value_or(0));
    cells.emplace_back(AgeCell(obj, ctx));
  }
};

}  // namespace

const KindStrategy& HorizontalPodAutoscalerStrategy() {
  static const HpaStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
