// StatefulSet (apps/v1): update-strategy and claim-retention defaults, selector/template
// rules, the spec fields that may not change after creation, generation bumps and the
// `kubectl get statefulsets` table.
#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"
#include "base/k8s_names.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

// The spec fields an update may change; everything else is fixed at creation.
constexpr std::string_view kMutableSpecFields[] = {"replicas",
                                                   "ordinals",
                                                   "template",
                                                   "updateStrategy",
                                                   "minReadySeconds",
                                                   "revisionHistoryLimit",
                                                   "persistentVolumeClaimRetentionPolicy"};

void ValidateUpdateStrategy(const json::object& spec, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* strategy_ptr = FindObj(spec, {"updateStrategy"});
  const json::object& strategy = strategy_ptr ? *strategy_ptr : kEmpty;
  std::string_view type = FindStr(strategy, {"type"});
  const json::object* rolling = FindObj(strategy, {"rollingUpdate"});
  if (type.empty()) {
    errs.Required("spec.updateStrategy");
  } else if (type == "OnDelete") {
    if (rolling) {
      errs.Invalid("spec.updateStrategy.rollingUpdate", json::serialize(*rolling),
                   "only allowed for updateStrategy 'RollingUpdate'");
    }
  } else if (type == "RollingUpdate") {
    if (rolling) {
      if (auto partition = FindInt(*rolling, {"partition"}); partition && *partition < 0) {
        errs.InvalidInt("spec.updateStrategy.rollingUpdate.partition", *partition,
                        "must be greater than or equal to 0");
      }
      if (const json::value* max_unavailable = rolling->if_contains("maxUnavailable")) {
        const std::string path = "spec.updateStrategy.rollingUpdate.maxUnavailable";
        ValidateIntOrPercent(max_unavailable, path, true, errs);
        if (IntOrPercentNumber(max_unavailable) == 0) {
          errs.Invalid(path, GoIntOrString(max_unavailable), "must be greater than 0");
        }
      }
    }
  } else {
    errs.Invalid("spec.updateStrategy", json::serialize(strategy),
                 "must be 'RollingUpdate' or 'OnDelete'");
  }
}

void ValidateRetentionPolicy(const json::object& spec, FieldErrors& errs) {
  const json::object* policy = FindObj(spec, {"persistentVolumeClaimRetentionPolicy"});
  if (!policy) return;
  for (std::string_view when : {"whenDeleted", "whenScaled"}) {
    std::string_view value = FindStr(*policy, {when});
    if (value != "Retain" && value != "Delete") {
      errs.NotSupported(Child("spec.persistentVolumeClaimRetentionPolicy", when), value,
                        {"Retain", "Delete"});
    }
  }
}

class StatefulSetStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec_ptr = FindMutObj(obj, {"spec"});
    if (!spec_ptr) return;
    json::object& spec = *spec_ptr;
    json::object& strategy = EnsureObj(spec, {"updateStrategy"});
    if (IsUnsetString(strategy, "type")) {
      strategy["type"] = "RollingUpdate";
      EnsureObj(strategy, {"rollingUpdate"});
    }
    if (FindStr(strategy, {"type"}) == "RollingUpdate") {
      if (json::object* rolling = FindMutObj(strategy, {"rollingUpdate"})) {
        SetIfAbsent(*rolling, "partition", 0);
      }
    }
    SetIfAbsent(spec, "replicas", 1);
    SetIfAbsent(spec, "revisionHistoryLimit", 10);
    if (json::object* pod_spec = FindMutObj(spec, {"template", "spec"})) {
      ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
    }
    // Claim templates are PersistentVolumeClaims: they get a claim's defaults and, as
    // embedded objects, their apiVersion and kind.
    if (json::array* claims = FindMutArr(spec, {"volumeClaimTemplates"})) {
      for (json::value& claim_value : *claims) {
        json::object* claim = claim_value.if_object();
        if (!claim) continue;
        SetIfAbsent(*claim, "apiVersion", "v1");
        SetIfAbsent(*claim, "kind", "PersistentVolumeClaim");
        json::object& claim_spec = EnsureObj(*claim, {"spec"});
        SetIfAbsent(claim_spec, "volumeMode", "Filesystem");
        json::object& status = EnsureObj(*claim, {"status"});
        if (IsUnsetString(status, "phase")) status["phase"] = "Pending";
      }
    }
  }

  void PrepareForCreate(json::object& obj) const override { SetInitialGeneration(obj); }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    BumpGenerationOnChange(obj, old, /*count_annotations=*/false);
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    std::string_view policy = FindStr(spec, {"podManagementPolicy"});
    if (policy.empty()) {
      errs.Required("spec.podManagementPolicy");
    } else if (policy != "OrderedReady" && policy != "Parallel") {
      errs.InvalidString("spec.podManagementPolicy", policy,
                         "must be 'OrderedReady' or 'Parallel'");
    }
    ValidateUpdateStrategy(spec, errs);
    ValidateRetentionPolicy(spec, errs);
    ValidateNonNegativeField(spec, "replicas", errs);
    ValidateNonNegativeField(spec, "minReadySeconds", errs);
    if (auto start = FindInt(spec, {"ordinals", "start"}); start && *start < 0) {
      errs.InvalidInt("spec.ordinals.start", *start, "must be greater than or equal to 0");
    }
    if (std::string_view service = FindStr(spec, {"serviceName"}); !service.empty()) {
      errs.InvalidEach("spec.serviceName", service, IsDns1035Label(service));
    }

    const json::object* selector = FindObj(spec, {"selector"});
    if (!selector) {
      errs.Required("spec.selector");
    } else {
      ValidateLabelSelector(*selector, "spec.selector", errs);
      if (CountAt(*selector, {"matchLabels"}) + CountAt(*selector, {"matchExpressions"}) == 0) {
        errs.Invalid("spec.selector", GoLabelSelector(selector),
                     "empty selector is invalid for statefulset");
      }
    }
    const json::object* tmpl_ptr = FindObj(spec, {"template"});
    const json::object& tmpl = tmpl_ptr ? *tmpl_ptr : kEmpty;
    if (selector &&
        CountAt(*selector, {"matchLabels"}) + CountAt(*selector, {"matchExpressions"}) > 0) {
      ValidateSelectorMatchesTemplate(selector, tmpl, "spec.template", errs);
    }
    if (const json::object* labels = FindObj(tmpl, {"metadata", "labels"})) {
      ValidateLabelMap(*labels, "spec.template.labels", errs);
    }
    std::string_view restart = FindStr(tmpl, {"spec", "restartPolicy"});
    if (restart != "Always") {
      errs.NotSupported("spec.template.spec.restartPolicy", restart, {"Always"});
    }
    if (Find(tmpl, {"spec", "activeDeadlineSeconds"})) {
      errs.Forbidden("spec.template.spec.activeDeadlineSeconds",
                     "activeDeadlineSeconds in StatefulSet is not Supported");
    }
    // Kubernetes checks only the template's labels and annotations here, not its pod spec:
    // volumes may refer to the claim templates.
    ValidateNonNegativeField(spec, "revisionHistoryLimit", errs);

    if (old) {
      const json::object* old_spec_ptr = FindObj(*old, {"spec"});
      const json::object& old_spec = old_spec_ptr ? *old_spec_ptr : kEmpty;
      json::object now = spec;
      json::object before = old_spec;
      for (std::string_view field : kMutableSpecFields) {
        now.erase(field);
        before.erase(field);
      }
      if (!SemanticEqual(json::value(now), json::value(before))) {
        errs.Forbidden("spec",
                       "updates to statefulset spec for fields other than 'replicas', "
                       "'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
                       "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                       "forbidden");
      }
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Ready", "string", "", "Number of the pod with ready state", 0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::object* pod_spec = FindObj(obj, {"spec", "template", "spec"});
    int64_t desired = FindInt(obj, {"spec", "replicas"}).value_or(0);
    int64_t ready = FindInt(obj, {"status", "readyReplicas"}).value_or(0);
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(std::to_string(ready) + "/" + std::to_string(desired));
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
  }
};

}  // namespace

const KindStrategy& StatefulSetStrategy() {
  static const StatefulSetStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
