// HorizontalPodAutoscaler: autoscaling/v1 <-> autoscaling/v2 (the storage version).
//
// v1 knows one metric, the CPU utilization target (spec.targetCPUUtilizationPercentage,
// status.currentCPUUtilizationPercentage). Like Kubernetes, the v1 form keeps the rest in
// annotations: the other metrics and the current metrics in v1's metric shape, the
// conditions, and the behavior (in the field spelling of Kubernetes' internal type), so
// that an object read and written back through v1 loses nothing. Beyond Kubernetes, the
// CPU metric also stays in the metrics annotation when it is not the last metric, so
// that the order of the metrics survives the round trip as well.

#include <cctype>
#include <optional>

#include <boost/json.hpp>

#include "api/conversions/conversions.h"

namespace skiff::api::conversions {

namespace json = boost::json;

namespace {

constexpr std::string_view kMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
constexpr std::string_view kCurrentMetricsAnnotation =
    "autoscaling.alpha.kubernetes.io/current-metrics";
constexpr std::string_view kConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
constexpr std::string_view kBehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";
constexpr int kDefaultCpuUtilization = 80;

const json::object* Obj(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

json::object* MutObj(json::object& o, std::string_view key) {
  json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* Arr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

// Copies o[from] to out[to] when present.
void Move(const json::object& o, std::string_view from, json::object& out, std::string_view to) {
  if (const json::value* v = o.if_contains(from)) out[to] = *v;
}

// --- metric sources: v2 shape <-> v1 shape ---------------------------------------------

// v2 {metric: {name, selector}} fields into v1's metricName / selector key.
void IdentifierToV1(const json::object& v2, json::object& out, std::string_view selector_key) {
  if (const json::object* m = Obj(v2, "metric")) {
    Move(*m, "name", out, "metricName");
    Move(*m, "selector", out, selector_key);
  }
}

json::object IdentifierFromV1(const json::object& v1, std::string_view selector_key) {
  json::object m;
  Move(v1, "metricName", m, "name");
  Move(v1, selector_key, m, "selector");
  return m;
}

json::object MetricSpecToV1(const json::object& in) {
  json::object out;
  Move(in, "type", out, "type");
  if (const json::object* s = Obj(in, "object")) {
    json::object o;
    Move(*s, "describedObject", o, "target");
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "name", o, "metricName");
    if (const json::object* t = Obj(*s, "target")) Move(*t, "value", o, "targetValue");
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "selector", o, "selector");
    if (const json::object* t = Obj(*s, "target")) Move(*t, "averageValue", o, "averageValue");
    out["object"] = std::move(o);
  }
  if (const json::object* s = Obj(in, "pods")) {
    json::object o;
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "name", o, "metricName");
    if (const json::object* t = Obj(*s, "target"))
      Move(*t, "averageValue", o, "targetAverageValue");
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "selector", o, "selector");
    out["pods"] = std::move(o);
  }
  for (std::string_view key : {"resource", "containerResource"}) {
    if (const json::object* s = Obj(in, key)) {
      json::object o;
      Move(*s, "name", o, "name");
      if (const json::object* t = Obj(*s, "target")) {
        Move(*t, "averageUtilization", o, "targetAverageUtilization");
        Move(*t, "averageValue", o, "targetAverageValue");
      }
      Move(*s, "container", o, "container");
      out[key] = std::move(o);
    }
  }
  if (const json::object* s = Obj(in, "external")) {
    json::object o;
    IdentifierToV1(*s, o, "metricSelector");
    if (const json::object* t = Obj(*s, "target")) {
      Move(*t, "value", o, "targetValue");
      Move(*t, "averageValue", o, "targetAverageValue");
    }
    out["external"] = std::move(o);
  }
  return out;
}

json::object MetricSpecFromV1(const json::object& in) {
  json::object out;
  Move(in, "type", out, "type");
  if (const json::object* s = Obj(in, "object")) {
    json::object o;
    Move(*s, "target", o, "describedObject");
    json::object target{{"type", s->contains("averageValue") ? "AverageValue" : "Value"}};
    Move(*s, "targetValue", target, "value");
    Move(*s, "averageValue", target, "averageValue");
    o["target"] = std::move(target);
    o["metric"] = IdentifierFromV1(*s, "selector");
    out["object"] = std::move(o);
  }
  if (const json::object* s = Obj(in, "pods")) {
    json::object o;
    o["metric"] = IdentifierFromV1(*s, "selector");
    json::object target{{"type", "AverageValue"}};
    Move(*s, "targetAverageValue", target, "averageValue");
    o["target"] = std::move(target);
    out["pods"] = std::move(o);
  }
  for (std::string_view key : {"resource", "containerResource"}) {
    if (const json::object* s = Obj(in, key)) {
      json::object o;
      Move(*s, "name", o, "name");
      json::object target{
          {"type", s->contains("targetAverageUtilization") ? "Utilization" : "AverageValue"}};
      Move(*s, "targetAverageUtilization", target, "averageUtilization");
      Move(*s, "targetAverageValue", target, "averageValue");
      o["target"] = std::move(target);
      Move(*s, "container", o, "container");
      out[key] = std::move(o);
    }
  }
  if (const json::object* s = Obj(in, "external")) {
    json::object o;
    o["metric"] = IdentifierFromV1(*s, "metricSelector");
    json::object target{{"type", s->contains("targetAverageValue") ? "AverageValue" : "Value"}};
    Move(*s, "targetValue", target, "value");
    Move(*s, "targetAverageValue", target, "averageValue");
    o["target"] = std::move(target);
    out["external"] = std::move(o);
  }
  return out;
}

json::object MetricStatusToV1(const json::object& in) {
  json::object out;
  Move(in, "type", out, "type");
  if (const json::object* s = Obj(in, "object")) {
    json::object o;
    Move(*s, "describedObject", o, "target");
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "name", o, "metricName");
    if (const json::object* c = Obj(*s, "current")) Move(*c, "value", o, "currentValue");
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "selector", o, "selector");
    if (const json::object* c = Obj(*s, "current")) Move(*c, "averageValue", o, "averageValue");
    out["object"] = std::move(o);
  }
  if (const json::object* s = Obj(in, "pods")) {
    json::object o;
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "name", o, "metricName");
    if (const json::object* c = Obj(*s, "current"))
      Move(*c, "averageValue", o, "currentAverageValue");
    if (const json::object* m = Obj(*s, "metric")) Move(*m, "selector", o, "selector");
    out["pods"] = std::move(o);
  }
  for (std::string_view key : {"resource", "containerResource"}) {
    if (const json::object* s = Obj(in, key)) {
      json::object o;
      Move(*s, "name", o, "name");
      if (const json::object* c = Obj(*s, "current")) {
        Move(*c, "averageUtilization", o, "currentAverageUtilization");
        Move(*c, "averageValue", o, "currentAverageValue");
      }
      Move(*s, "container", o, "container");
      out[key] = std::move(o);
    }
  }
  if (const json::object* s = Obj(in, "external")) {
    json::object o;
    IdentifierToV1(*s, o, "metricSelector");
    if (const json::object* c = Obj(*s, "current")) {
      Move(*c, "value", o, "currentValue");
      Move(*c, "averageValue", o, "currentAverageValue");
    }
    out["external"] = std::move(o);
  }
  return out;
}

json::object MetricStatusFromV1(const json::object& in) {
  json::object out;
  Move(in, "type", out, "type");
  if (const json::object* s = Obj(in, "object")) {
    json::object o;
    o["metric"] = IdentifierFromV1(*s, "selector");
    json::object current;
    Move(*s, "currentValue", current, "value");
    Move(*s, "averageValue", current, "averageValue");
    o["current"] = std::move(current);
    Move(*s, "target", o, "describedObject");
    out["object"] = std::move(o);
  }
  if (const json::object* s = Obj(in, "pods")) {
    json::object o;
    o["metric"] = IdentifierFromV1(*s, "selector");
    json::object current;
    Move(*s, "currentAverageValue", current, "averageValue");
    o["current"] = std::move(current);
    out["pods"] = std::move(o);
  }
  for (std::string_view key : {"resource", "containerResource"}) {
    if (const json::object* s = Obj(in, key)) {
      json::object o;
      Move(*s, "name", o, "name");
      json::object current;
      Move(*s, "currentAverageUtilization", current, "averageUtilization");
      Move(*s, "currentAverageValue", current, "averageValue");
      o["current"] = std::move(current);
      Move(*s, "container", o, "container");
      out[key] = std::move(o);
    }
  }
  if (const json::object* s = Obj(in, "external")) {
    json::object o;
    o["metric"] = IdentifierFromV1(*s, "metricSelector");
    json::object current;
    Move(*s, "currentValue", current, "value");
    Move(*s, "currentAverageValue", current, "averageValue");
    o["current"] = std::move(current);
    out["external"] = std::move(o);
  }
  return out;
}

// --- behavior: v2 JSON <-> Kubernetes' internal-type JSON (Go field names) -------------

json::value RulesToInternal(const json::value* rules) {
  if (!rules || !rules->is_object()) return nullptr;
  const json::object& r = rules->as_object();
  json::object out;
  const json::value* w = r.if_contains("stabilizationWindowSeconds");
  out["StabilizationWindowSeconds"] = w ? *w : json::value(nullptr);
  const json::value* sp = r.if_contains("selectPolicy");
  out["SelectPolicy"] = sp ? *sp : json::value(nullptr);
  json::value policies = nullptr;
  if (const json::array* ps = Arr(r, "policies")) {
    json::array arr;
    for (const json::value& p : *ps) {
      if (!p.is_object()) continue;
      json::object po;
      Move(p.as_object(), "type", po, "Type");
      Move(p.as_object(), "value", po, "Value");
      Move(p.as_object(), "periodSeconds", po, "PeriodSeconds");
      arr.push_back(std::move(po));
    }
    policies = std::move(arr);
  }
  out["Policies"] = std::move(policies);
  const json::value* tol = r.if_contains("tolerance");
  out["Tolerance"] = tol ? *tol : json::value(nullptr);
  return out;
}

// Go's JSON decoder matches field names without regard to case; so does this.
const json::value* FieldCI(const json::object& o, std::string_view name) {
  for (const auto& kv : o) {
    std::string_view k = kv.key();
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same && !kv.value().is_null()) return &kv.value();
  }
  return nullptr;
}

std::optional<json::object> RulesFromInternal(const json::value* rules) {
  if (!rules || !rules->is_object()) return std::nullopt;
  const json::object& r = rules->as_object();
  json::object out;
  if (auto* v = FieldCI(r, "stabilizationWindowSeconds")) out["stabilizationWindowSeconds"] = *v;
  if (auto* v = FieldCI(r, "selectPolicy")) out["selectPolicy"] = *v;
  if (auto* v = FieldCI(r, "policies"); v && v->is_array()) {
    json::array arr;
    for (const json::value& p : v->as_array()) {
      if (!p.is_object()) continue;
      json::object po;
      if (auto* x = FieldCI(p.as_object(), "type")) po["type"] = *x;
      if (auto* x = FieldCI(p.as_object(), "value")) po["value"] = *x;
      if (auto* x = FieldCI(p.as_object(), "periodSeconds")) po["periodSeconds"] = *x;
      arr.push_back(std::move(po));
    }
    out["policies"] = std::move(arr);
  }
  if (auto* v = FieldCI(r, "tolerance")) out["tolerance"] = *v;
  return out;
}

bool IsCpuResource(const json::object& metric) {
  if (Str(metric, "type") != "Resource") return false;
  const json::object* res = Obj(metric, "resource");
  return res && Str(*res, "name") == "cpu";
}

const json::value* CpuUtilization(const json::object& metric, std::string_view holder) {
  const json::object* res = Obj(metric, "resource");
  const json::object* t = res ? Obj(*res, holder) : nullptr;
  return t ? t->if_contains("averageUtilization") : nullptr;
}

std::optional<json::array> ParseArrayAnnotation(const json::object& annotations,
                                                std::string_view key) {
  std::string_view text = Str(annotations, key);
  if (text.empty()) return std::nullopt;
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return std::nullopt;
  return std::move(v.as_array());
}

void DropRoundTripAnnotations(json::object& meta) {
  json::object* ann = MutObj(meta, "annotations");
  if (!ann) return;
  for (std::string_view key : {kMetricsAnnotation, kCurrentMetricsAnnotation, kConditionsAnnotation,
                               kBehaviorAnnotation}) {
    ann->erase(key);
  }
  if (ann->empty()) meta.erase("annotations");
}

}  // namespace

void HpaV2ToV1(json::object& obj) {
  json::value& meta_v = obj["metadata"];
  if (!meta_v.is_object()) meta_v = json::object();
  json::object& meta = meta_v.as_object();
  DropRoundTripAnnotations(meta);
  json::object annotations;

  if (json::object* spec = MutObj(obj, "spec")) {
    json::value metrics = spec->contains("metrics") ? (*spec)["metrics"] : json::value(nullptr);
    json::value behavior = spec->contains("behavior") ? (*spec)["behavior"] : json::value(nullptr);
    spec->erase("metrics");
    spec->erase("behavior");
    if (metrics.is_array()) {
      const json::array& list = metrics.as_array();
      // The first CPU resource metric maps to targetCPUUtilizationPercentage.
      size_t cpu_index = list.size();
      for (size_t i = 0; i < list.size(); ++i) {
        if (list[i].is_object() && IsCpuResource(list[i].as_object())) {
          cpu_index = i;
          break;
        }
      }
      const json::value* cpu_target = nullptr;
      if (cpu_index < list.size())
        cpu_target = CpuUtilization(list[cpu_index].as_object(), "target");
      if (cpu_target) (*spec)["targetCPUUtilizationPercentage"] = *cpu_target;
      // The CPU target leaves the annotation only where v1 puts it back: at the end.
      bool cpu_in_field = cpu_target && cpu_index + 1 == list.size();
      json::array others;
      for (size_t i = 0; i < list.size(); ++i) {
        if (cpu_in_field && i == cpu_index) continue;
        if (list[i].is_object()) others.push_back(MetricSpecToV1(list[i].as_object()));
      }
      if (!others.empty()) annotations[kMetricsAnnotation] = json::serialize(others);
    }
    if (behavior.is_object()) {
      json::object internal{
          {"ScaleUp", RulesToInternal(behavior.as_object().if_contains("scaleUp"))},
          {"ScaleDown", RulesToInternal(behavior.as_object().if_contains("scaleDown"))}};
      annotations[kBehaviorAnnotation] = json::serialize(internal);
    }
  }

  if (json::object* status = MutObj(obj, "status")) {
    json::object v1;
    Move(*status, "observedGeneration", v1, "observedGeneration");
    Move(*status, "lastScaleTime", v1, "lastScaleTime");
    const json::value* current = status->if_contains("currentReplicas");
    v1["currentReplicas"] = current ? *current : json::value(0);
    const json::value* desired = status->if_contains("desiredReplicas");
    v1["desiredReplicas"] = desired ? *desired : json::value(0);
    if (const json::array* metrics = Arr(*status, "currentMetrics"); metrics && !metrics->empty()) {
      json::array list;
      for (const json::value& m : *metrics) {
        if (!m.is_object()) continue;
        if (IsCpuResource(m.as_object()) && !v1.contains("currentCPUUtilizationPercentage")) {
          if (const json::value* u = CpuUtilization(m.as_object(), "current")) {
            v1["currentCPUUtilizationPercentage"] = *u;
          }
        }
        list.push_back(MetricStatusToV1(m.as_object()));
      }
      // A lone CPU utilization is all v1's field says; anything more needs the annotation.
      bool field_says_all = false;
      if (metrics->size() == 1 && metrics->front().is_object()) {
        const json::object& only = metrics->front().as_object();
        const json::object* current = Obj(only, "resource");
        current = current ? Obj(*current, "current") : nullptr;
        field_says_all = IsCpuResource(only) && current && current->size() == 1 &&
                         current->contains("averageUtilization");
      }
      if (!field_says_all) annotations[kCurrentMetricsAnnotation] = json::serialize(list);
    }
    if (const json::array* conds = Arr(*status, "conditions"); conds && !conds->empty()) {
      annotations[kConditionsAnnotation] = json::serialize(*conds);
    }
    *status = std::move(v1);
  }

  if (!annotations.empty()) {
    json::value& ann = meta["annotations"];
    if (!ann.is_object()) ann = json::object();
    for (auto& kv : annotations) ann.as_object()[kv.key()] = std::move(kv.value());
  }
}

void HpaV1ToV2(json::object& obj) {
  json::value& meta_v = obj["metadata"];
  if (!meta_v.is_object()) meta_v = json::object();
  json::object& meta = meta_v.as_object();
  json::object annotations;
  if (const json::object* ann = Obj(meta, "annotations")) annotations = *ann;

  if (json::object* spec = MutObj(obj, "spec")) {
    const json::value* cpu = spec->if_contains("targetCPUUtilizationPercentage");
    json::value cpu_target = cpu ? *cpu : json::value(nullptr);
    spec->erase("targetCPUUtilizationPercentage");
    json::array metrics;
    bool cpu_placed = false;
    if (auto others = ParseArrayAnnotation(annotations, kMetricsAnnotation)) {
      for (const json::value& m : *others) {
        if (!m.is_object()) continue;
        json::object v2 = MetricSpecFromV1(m.as_object());
        if (!cpu_placed && IsCpuResource(v2) && CpuUtilization(v2, "target")) {
          // The CPU target kept in place: the v1 field is the authority on its value.
          cpu_placed = true;
          if (cpu_target.is_null()) continue;
          v2["resource"].as_object()["target"].as_object()["averageUtilization"] = cpu_target;
        }
        metrics.push_back(std::move(v2));
      }
    }
    if (!cpu_placed && !cpu_target.is_null()) {
      metrics.push_back(json::object{
          {"type", "Resource"},
          {"resource",
           json::object{{"name", "cpu"},
                        {"target", json::object{{"type", "Utilization"},
                                                {"averageUtilization", cpu_target}}}}}});
    }
    if (metrics.empty()) {
      // autoscaling/v1's implicit target, made explicit as Kubernetes does.
      metrics.push_back(json::object{
          {"type", "Resource"},
          {"resource", json::object{{"name", "cpu"},
                                    {"target", json::object{{"type", "Utilization"},
                                                            {"averageUtilization",
                                                             kDefaultCpuUtilization}}}}}});
    }
    (*spec)["metrics"] = std::move(metrics);
    std::string_view behavior_text = Str(annotations, kBehaviorAnnotation);
    if (!behavior_text.empty()) {
      json::error_code ec;
      json::value internal = json::parse(behavior_text, ec);
      if (!ec && internal.is_object()) {
        json::object behavior;
        if (auto up = RulesFromInternal(FieldCI(internal.as_object(), "scaleUp"))) {
          behavior["scaleUp"] = std::move(*up);
        }
        if (auto down = RulesFromInternal(FieldCI(internal.as_object(), "scaleDown"))) {
          behavior["scaleDown"] = std::move(*down);
        }
        if (!behavior.empty()) (*spec)["behavior"] = std::move(behavior);
      }
    }
  }

  if (json::object* status = MutObj(obj, "status")) {
    json::object v2;
    Move(*status, "observedGeneration", v2, "observedGeneration");
    Move(*status, "lastScaleTime", v2, "lastScaleTime");
    if (const json::value* c = status->if_contains("currentReplicas");
        c && !(c->is_int64() && c->as_int64() == 0)) {
      v2["currentReplicas"] = *c;
    }
    const json::value* desired = status->if_contains("desiredReplicas");
    v2["desiredReplicas"] = desired ? *desired : json::value(0);
    json::value current_metrics = nullptr;
    if (auto list = ParseArrayAnnotation(annotations, kCurrentMetricsAnnotation)) {
      json::array out;
      for (const json::value& m : *list) {
        if (m.is_object()) out.push_back(MetricStatusFromV1(m.as_object()));
      }
      current_metrics = std::move(out);
    } else if (const json::value* u = status->if_contains("currentCPUUtilizationPercentage")) {
      current_metrics = json::array{json::object{
          {"type", "Resource"},
          {"resource",
           json::object{{"name", "cpu"}, {"current", json::object{{"averageUtilization", *u}}}}}}};
    }
    v2["currentMetrics"] = std::move(current_metrics);
    if (auto conds = ParseArrayAnnotation(annotations, kConditionsAnnotation)) {
      v2["conditions"] = std::move(*conds);
    }
    *status = std::move(v2);
  }
  DropRoundTripAnnotations(meta);
}

}  // namespace skiff::api::conversions
