// Job (batch/v1): the defaults of SetDefaults_Job, the generated selector and
// controller-uid labels, spec rules, the fields that may not change after creation (the
// pod template only while the job is suspended and has never started), generation
// bumps, and the `kubectl get jobs` table.
#include <boost/json.hpp>

#include "api/kinds/job_rules.h"
#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr std::string_view kControllerUidLabel = "batch.kubernetes.io/controller-uid";
constexpr std::string_view kLegacyControllerUidLabel = "controller-uid";
constexpr std::string_view kJobNameLabel = "batch.kubernetes.io/job-name";
constexpr std::string_view kLegacyJobNameLabel = "job-name";
constexpr int64_t kMaxParallelismForIndexedJob = 100000;

bool ManualSelector(const json::object& spec) { return FindBool(spec, {"manualSelector"}); }

// The template labels and the selector a Job gets unless it asks for a manual selector.
void GenerateSelector(json::object& obj) {
  // Copies: the object is modified below.
  const json::value name(FindStr(obj, {"metadata", "name"}));
  const json::value uid(FindStr(obj, {"metadata", "uid"}));
  json::object& spec = EnsureObj(obj, {"spec"});
  json::object& labels = EnsureObj(spec, {"template", "metadata", "labels"});
  for (std::string_view key : {kLegacyJobNameLabel, kJobNameLabel}) SetIfAbsent(labels, key, name);
  for (std::string_view key : {kLegacyControllerUidLabel, kControllerUidLabel}) {
    SetIfAbsent(labels, key, uid);
  }
  json::object& match_labels = EnsureObj(spec, {"selector", "matchLabels"});
  SetIfAbsent(match_labels, kControllerUidLabel, uid);
}

// validateGeneratedSelector: a generated selector must still be the generated one.
void ValidateGeneratedSelector(const json::object& obj, FieldErrors& errs) {
  const json::object* spec = FindObj(obj, {"spec"});
  if (!spec || ManualSelector(*spec)) return;
  const json::object* labels = FindObj(*spec, {"template", "metadata", "labels"});
  if (!labels) return;
  std::string_view uid = FindStr(obj, {"metadata", "uid"});
  std::string_view name = FindStr(obj, {"metadata", "name"});
  auto label_ok = [&](std::string_view key, std::string_view want) {
    const json::value* v = labels->if_contains(key);
    return v && v->is_string() && v->get_string() == want;
  };
  if (!label_ok(kLegacyControllerUidLabel, uid) || !label_ok(kControllerUidLabel, uid) ||
      !label_ok(kLegacyJobNameLabel, name) || !label_ok(kJobNameLabel, name)) {
    errs.Invalid("spec.template.metadata", GoStringMap(labels),
                 "`selector` does not match template `labels`");
  }
  json::object expected{{kControllerUidLabel, uid}};
  const json::object* selector = FindObj(*spec, {"selector"});
  if (!LabelSelectorMatches(selector, &expected)) {
    errs.Invalid("spec.selector", GoLabelSelector(selector), "`selector` not auto-generated");
  }
}

// ValidateImmutableField for a value rendered as JSON.
void Immutable(const json::object& spec, const json::object& old_spec, std::string_view field,
               FieldErrors& errs) {
  const json::value* now = spec.if_contains(field);
  const json::value* before = old_spec.if_contains(field);
  if (SemanticEqualMember(now, before)) return;
  std::string shown = "null";
  if (now) {
    if (now->is_int64()) {
      shown = std::to_string(now->get_int64());
    } else if (now->is_string()) {
      shown = GoQuote(now->get_string());
    } else if (now->is_object() && field == "selector") {
      shown = GoLabelSelector(&now->get_object());
    } else {
      shown = json::serialize(*now);
    }
  }
  errs.Invalid(Child("spec", field), shown, "field is immutable");
}

// The template may change only in its scheduling directives, and only while the job is
// suspended and has never started.
void ValidateTemplateUpdate(const json::object& spec, const json::object& old_spec,
                            bool scheduling_mutable, FieldErrors& errs) {
  static const json::object kEmpty;
  const json::object* tmpl_ptr = FindObj(spec, {"template"});
  const json::object* old_ptr = FindObj(old_spec, {"template"});
  json::object now = tmpl_ptr ? *tmpl_ptr : kEmpty;
  json::object before = old_ptr ? *old_ptr : kEmpty;
  if (scheduling_mutable) {
    for (json::object* t : {&now, &before}) {
      if (json::object* meta = FindMutObj(*t, {"metadata"})) {
        meta->erase("labels");
        meta->erase("annotations");
      }
      if (json::object* pod_spec = FindMutObj(*t, {"spec"})) {
        pod_spec->erase("nodeSelector");
        pod_spec->erase("tolerations");
        pod_spec->erase("schedulingGates");
        if (json::object* affinity = FindMutObj(*pod_spec, {"affinity"})) {
          affinity->erase("nodeAffinity");
          if (affinity->empty()) pod_spec->erase("affinity");
        }
      }
    }
  }
  if (!SemanticEqual(json::value(now), json::value(before))) {
    errs.Invalid("spec.template", json::serialize(tmpl_ptr ? *tmpl_ptr : kEmpty),
                 "field is immutable");
  }
}

bool HasCondition(const json::object& obj, std::string_view type) {
  const json::array* conditions = FindArr(obj, {"status", "conditions"});
  if (!conditions) return false;
  for (const json::value& v : *conditions) {
    const json::object* c = v.if_object();
    if (c && FindStr(*c, {"type"}) == type && FindStr(*c, {"status"}) == "True") return true;
  }
  return false;
}

class JobStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    json::object* spec_ptr = FindMutObj(obj, {"spec"});
    if (!spec_ptr) return;
    json::object& spec = *spec_ptr;
    if (!Find(spec, {"completions"}) && !Find(spec, {"parallelism"})) {
      spec["completions"] = 1;
      spec["parallelism"] = 1;
    }
    SetIfAbsent(spec, "parallelism", 1);
    SetIfAbsent(spec, "backoffLimit", Find(spec, {"backoffLimitPerIndex"}) ? 2147483647 : 6);
    CopyTemplateLabels(obj);
    spec_ptr = FindMutObj(obj, {"spec"});
    SetIfAbsent(*spec_ptr, "completionMode", "NonIndexed");
    SetIfAbsent(*spec_ptr, "suspend", false);
    SetIfAbsent(*spec_ptr, "podReplacementPolicy",
                Find(*spec_ptr, {"podFailurePolicy"}) ? "Failed" : "TerminatingOrFailed");
    SetIfAbsent(*spec_ptr, "manualSelector", false);
    if (json::object* pod_spec = FindMutObj(*spec_ptr, {"template", "spec"})) {
      ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
    }
  }

  void PrepareForCreate(json::object& obj) const override {
    SetInitialGeneration(obj);
    // Defaulting (the object labels from the template) happens before the selector is
    // generated, as in Kubernetes where it runs when the body is decoded.
    CopyTemplateLabels(obj);
    const json::object* spec = FindObj(obj, {"spec"});
    if (spec && !ManualSelector(*spec)) GenerateSelector(obj);
  }

  void PrepareForUpdate(json::object& obj, const json::object& old) const override {
    BumpGenerationOnChange(obj, old, /*count_annotations=*/false);
  }

  void Validate(const json::object& obj, const json::object* old,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    static const json::object kEmpty;
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    if (!old) ValidateGeneratedSelector(obj, errs);
    ValidateJobSpecRules(spec, "spec", errs);
    const json::object* selector = FindObj(spec, {"selector"});
    if (!selector) {
      errs.Required("spec.selector");
    } else {
      ValidateLabelSelector(*selector, "spec.selector", errs);
      const json::object* tmpl = FindObj(spec, {"template"});
      ValidateSelectorMatchesTemplate(selector, tmpl ? *tmpl : kEmpty, "spec.template", errs);
    }
    if (!old) return;
    const json::object* old_spec_ptr = FindObj(*old, {"spec"});
    const json::object& old_spec = old_spec_ptr ? *old_spec_ptr : kEmpty;
    bool indexed = FindStr(spec, {"completionMode"}) == "Indexed";
    if (!indexed) {
      Immutable(spec, old_spec, "completions", errs);
    } else if (!SemanticEqualMember(spec.if_contains("completions"),
                                    old_spec.if_contains("completions"))) {
      auto completions = FindInt(spec, {"completions"});
      if (completions && *completions != FindInt(spec, {"parallelism"}).value_or(-1)) {
        errs.InvalidInt("spec.completions", *completions,
                        "can only be modified in tandem with spec.parallelism");
      }
    }
    Immutable(spec, old_spec, "selector", errs);
    bool suspended_never_started =
        FindBool(old_spec, {"suspend"}) && !Find(*old, {"status", "startTime"});
    ValidateTemplateUpdate(spec, old_spec, suspended_never_started, errs);
    for (std::string_view field : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex",
                                   "managedBy", "successPolicy"}) {
      Immutable(spec, old_spec, field, errs);
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Status", "string", "", "Status of the job.", 0},
        {"Completions", "string", "", "The number of pods which reached phase Succeeded.", 0},
        {"Duration", "string", "", "Time required to complete the job.", 0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
        {"Selector", "string", "", "A label query over pods that should match the pod count.", 1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    int64_t succeeded = FindInt(obj, {"status", "succeeded"}).value_or(0);
    std::string completions;
    if (auto c = FindInt(obj, {"spec", "completions"})) {
      completions = std::to_string(succeeded) + "/" + std::to_string(*c);
    } else if (int64_t p = FindInt(obj, {"spec", "parallelism"}).value_or(0); p > 1) {
      completions = std::to_string(succeeded) + "/1 of " + std::to_string(p);
    } else {
      completions = std::to_string(succeeded) + "/1";
    }
    std::string duration;
    auto start = ParseTimestamp(FindStr(obj, {"status", "startTime"}));
    if (start) {
      auto end = ParseTimestamp(FindStr(obj, {"status", "completionTime"}));
      duration = HumanDurationSince(*start, end ? *end : ctx.now);
    }
    std::string status = "Running";
    if (HasCondition(obj, "Complete")) {
      status = "Complete";
    } else if (HasCondition(obj, "Failed")) {
      status = "Failed";
    } else if (Find(obj, {"metadata", "deletionTimestamp"})) {
      status = "Terminating";
    } else if (HasCondition(obj, "Suspended")) {
      status = "Suspended";
    } else if (HasCondition(obj, "FailureTarget")) {
      status = "FailureTarget";
    } else if (HasCondition(obj, "SuccessCriteriaMet")) {
      status = "SuccessCriteriaMet";
    }
    const json::object* pod_spec = FindObj(obj, {"spec", "template", "spec"});
    std::string selector = LabelSelectorString(FindObj(obj, {"spec", "selector"}));
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(status);
    cells.emplace_back(completions);
    cells.emplace_back(duration);
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(selector.empty() ? "<none>" : selector);
  }

 private:
  // SetDefaults_Job: a job without labels takes its template's labels.
  static void CopyTemplateLabels(json::object& obj) {
    const json::object* labels = FindObj(obj, {"spec", "template", "metadata", "labels"});
    if (!labels || CountAt(obj, {"metadata", "labels"}) > 0) return;
    json::object copy = *labels;
    EnsureObj(obj, {"metadata"})["labels"] = std::move(copy);
  }
};

}  // namespace

void ValidateJobSpecRules(const json::object& spec, const std::string& path, FieldErrors& errs) {
  for (std::string_view field :
       {"parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
        "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"}) {
    if (auto v = FindInt(spec, {field}); v && *v < 0) {
      errs.InvalidInt(Child(path, field), *v, "must be greater than or equal to 0");
    }
  }
  if (Find(spec, {"maxFailedIndexes"}) && !Find(spec, {"backoffLimitPerIndex"})) {
    errs.Required(Child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified");
  }
  if (const json::value* mode_value = spec.if_contains("completionMode")) {
    std::string_view mode =
        mode_value->is_string() ? std::string_view(mode_value->get_string()) : std::string_view();
    if (mode != "NonIndexed" && mode != "Indexed") {
      errs.NotSupported(Child(path, "completionMode"), mode, {"NonIndexed", "Indexed"});
    }
    if (mode == "Indexed") {
      if (!Find(spec, {"completions"})) {
        errs.Required(Child(path, "completions"), "when completion mode is Indexed");
      }
      if (auto p = FindInt(spec, {"parallelism"}); p && *p > kMaxParallelismForIndexedJob) {
        errs.InvalidInt(Child(path, "parallelism"), *p,
                        "must be less than or equal to 100000 when completion mode is Indexed");
      }
    } else if (Find(spec, {"backoffLimitPerIndex"})) {
      errs.Invalid(Child(path, "backoffLimitPerIndex"),
                   std::to_string(FindInt(spec, {"backoffLimitPerIndex"}).value_or(0)),
                   "requires indexed completion mode");
    }
  }
  if (const json::value* policy_value = spec.if_contains("podReplacementPolicy")) {
    std::string_view policy = policy_value->is_string()
                                  ? std::string_view(policy_value->get_string())
                                  : std::string_view();
    if (Find(spec, {"podFailurePolicy"})) {
      if (policy != "Failed") {
        errs.NotSupported(Child(path, "podReplacementPolicy"), policy, {"Failed"});
      }
    } else if (policy != "TerminatingOrFailed" && policy != "Failed") {
      errs.NotSupported(Child(path, "podReplacementPolicy"), policy,
                        {"Failed", "TerminatingOrFailed"});
    }
  }
  if (const json::array* rules = FindArr(spec, {"podFailurePolicy", "rules"})) {
    const std::string rules_path = Child(Child(path, "podFailurePolicy"), "rules");
    for (size_t i = 0; i < rules->size(); ++i) {
      const json::object* rule = (*rules)[i].if_object();
      if (!rule) continue;
      std::string rule_path = Index(rules_path, i);
      std::string_view action = FindStr(*rule, {"action"});
      if (action != "FailJob" && action != "FailIndex" && action != "Ignore" && action != "Count") {
        errs.NotSupported(Child(rule_path, "action"), action,
                          {"Count", "FailIndex", "FailJob", "Ignore"});
      }
      bool exit_codes = Find(*rule, {"onExitCodes"}) != nullptr;
      bool conditions = CountAt(*rule, {"onPodConditions"}) > 0;
      if (exit_codes && conditions) {
        errs.Invalid(rule_path, "",
                     "specifying both OnExitCodes and OnPodConditions is not supported");
      } else if (!exit_codes && !conditions) {
        errs.Invalid(rule_path, "",
                     "specifying one of OnExitCodes and OnPodConditions is required");
      }
    }
  }
  static const json::object kEmpty;
  const json::object* tmpl_ptr = FindObj(spec, {"template"});
  const json::object& tmpl = tmpl_ptr ? *tmpl_ptr : kEmpty;
  const std::string tmpl_path = Child(path, "template");
  ValidatePodTemplate(tmpl, tmpl_path, errs);
  std::string_view restart = FindStr(tmpl, {"spec", "restartPolicy"});
  const std::string restart_path = Child(Child(tmpl_path, "spec"), "restartPolicy");
  if (restart.empty() || restart == "Always") {
    errs.Required(restart_path, "valid values: \"OnFailure\", \"Never\"");
  } else if (restart != "OnFailure" && restart != "Never") {
    errs.NotSupported(restart_path, restart, {"OnFailure", "Never"});
  }
}

const KindStrategy& JobStrategy() {
  static const JobStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
