// CronJob (batch/v1): schedule and time zone rules, the job template's rules, generation
// bumps and the `kubectl get cronjobs` table.
#include <cctype>

#include <boost/json.hpp>

#include "api/kinds/cron_schedule.h"
#include "api/kinds/job_rules.h"
#include "api/kinds/kinds.h"
#include "api/kinds/pod_spec_rules.h"
#include "api/kinds/strategy_support.h"
#include "api/kinds/workload_rules.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

// Longest CronJob name: job names get an 11-character suffix and must stay DNS-1035 labels.
constexpr size_t kMaxCronJobNameLength = 52;

bool ValidTimeZonePart(std::string_view part) {
  if (part.empty() || part.size() > 14) return false;
  for (char c : part) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == '+';
    if (!ok) return false;
  }
  return true;
}

void ValidateTimeZone(const json::object& spec, FieldErrors& errs) {
  const json::value* v = spec.if_contains("timeZone");
  if (!v || v->is_null()) return;
  std::string_view zone = v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  const char* path = "spec.timeZone";
  if (zone.empty()) {
    errs.InvalidString(path, zone, "timeZone must be nil or non-empty string");
    return;
  }
  size_t start = 0;
  while (true) {
    size_t slash = zone.find('/', start);
    std::string_view part =
        zone.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part == "." || part == ".." || part.starts_with("-") || !ValidTimeZonePart(part)) {
      errs.InvalidString(path, zone, "unknown time zone " + std::string(zone));
      return;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string lower(zone);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "local") {
    errs.InvalidString(path, zone,
                       "timeZone must be an explicit time zone as defined in "
                       "https://www.iana.org/time-zones");
    return;
  }
  if (std::string err = TimeZoneError(zone); !err.empty()) errs.InvalidString(path, zone, err);
}

void ValidateSchedule(const json::object& spec, bool allow_tz_in_schedule, FieldErrors& errs) {
  std::string_view schedule = FindStr(spec, {"schedule"});
  if (schedule.empty()) {
    errs.Required("spec.schedule");
    return;
  }
  if (std::string err = CronScheduleError(schedule); !err.empty()) {
    errs.InvalidString("spec.schedule", schedule, err);
  }
  bool has_tz = schedule.find("TZ") != std::string_view::npos;
  if (allow_tz_in_schedule && has_tz && Find(spec, {"timeZone"})) {
    errs.InvalidString("spec.schedule", schedule,
                       "cannot use both timeZone field and TZ or CRON_TZ in schedule");
  } else if (!allow_tz_in_schedule && has_tz) {
    errs.InvalidString("spec.schedule", schedule,
                       "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  }
}

class CronJobStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  bool HasStatusSubresource() const override { return true; }
  bool TracksGeneration() const override { return true; }

  void ApplyDefaults(json::object& obj) const override {
    if (json::object* pod_spec =
            FindMutObj(obj, {"spec", "jobTemplate", "spec", "template", "spec"})) {
      ApplyPodSpecDefaults(*pod_spec, PodSpecOwner::kTemplate);
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
    if (!old) {
      std::string_view name = FindStr(obj, {"metadata", "name"});
      if (name.size() > kMaxCronJobNameLength) {
        errs.InvalidString("metadata.name", name, "must be no more than 52 characters");
      }
    }
    const json::object* spec_ptr = FindObj(obj, {"spec"});
    const json::object& spec = spec_ptr ? *spec_ptr : kEmpty;
    bool allow_tz = false;
    if (old) {
      allow_tz = FindStr(*old, {"spec", "schedule"}).find("TZ") != std::string_view::npos;
    }
    ValidateSchedule(spec, allow_tz, errs);
    ValidateTimeZone(spec, errs);
    if (auto deadline = FindInt(spec, {"startingDeadlineSeconds"}); deadline && *deadline < 0) {
      errs.InvalidInt("spec.startingDeadlineSeconds", *deadline,
                      "must be greater than or equal to 0");
    }
    std::string_view policy = FindStr(spec, {"concurrencyPolicy"});
    if (policy.empty()) {
      errs.Required("spec.concurrencyPolicy");
    } else if (policy != "Allow" && policy != "Forbid" && policy != "Replace") {
      errs.NotSupported("spec.concurrencyPolicy", policy, {"Allow", "Forbid", "Replace"});
    }
    for (std::string_view field : {"successfulJobsHistoryLimit", "failedJobsHistoryLimit"}) {
      if (auto v = FindInt(spec, {field}); v && *v < 0) {
        errs.InvalidInt(Child("spec", field), *v, "must be greater than or equal to 0");
      }
    }
    const json::object* job_spec = FindObj(spec, {"jobTemplate", "spec"});
    if (const json::object* labels = FindObj(spec, {"jobTemplate", "metadata", "labels"})) {
      ValidateLabelMap(*labels, "spec.jobTemplate.metadata.labels", errs);
    }
    ValidateJobSpecRules(job_spec ? *job_spec : kEmpty, "spec.jobTemplate.spec", errs);
    if (job_spec && FindBool(*job_spec, {"manualSelector"})) {
      errs.NotSupported("spec.jobTemplate.spec.manualSelector", "true", {"nil", "false"});
    }
  }

  std::vector<TableColumn> Columns() const override {
    return {
        NameColumn(),
        {"Schedule", "string", "", "The schedule in Cron format.", 0},
        {"Timezone", "string", "", "The time zone name for the given schedule.", 0},
        {"Suspend", "boolean", "", "Whether subsequent executions are suspended.", 0},
        {"Active", "integer", "", "Pointers to currently running jobs.", 0},
        {"Last Schedule", "string", "", "When the job was last successfully scheduled.", 0},
        AgeColumn(),
        {"Containers", "string", "", "Names of each container in the template.", 1},
        {"Images", "string", "", "Images referenced by each container in the template.", 1},
        {"Selector", "string", "", "A label query over pods that should match the pod count.", 1},
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    const json::value* tz = Find(obj, {"spec", "timeZone"});
    const json::value* suspend = Find(obj, {"spec", "suspend"});
    std::string last_schedule = "<none>";
    if (auto t = ParseTimestamp(FindStr(obj, {"status", "lastScheduleTime"}))) {
      last_schedule = HumanDurationSince(*t, ctx.now);
    }
    const json::object* pod_spec =
        FindObj(obj, {"spec", "jobTemplate", "spec", "template", "spec"});
    std::string selector =
        LabelSelectorString(FindObj(obj, {"spec", "jobTemplate", "spec", "selector"}));
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
    cells.emplace_back(FindStr(obj, {"spec", "schedule"}));
    cells.emplace_back(tz && tz->is_string() ? std::string(tz->get_string()) : "<none>");
    if (suspend && suspend->is_bool()) {
      cells.emplace_back(suspend->get_bool() ? "True" : "False");
    } else {
      cells.emplace_back("<unset>");
    }
    cells.emplace_back(static_cast<int64_t>(CountAt(obj, {"status", "active"})));
    cells.emplace_back(last_schedule);
    cells.emplace_back(AgeCell(obj, ctx));
    cells.emplace_back(ContainerNamesCell(pod_spec));
    cells.emplace_back(ContainerImagesCell(pod_spec));
    cells.emplace_back(selector.empty() ? "<none>" : selector);
  }
};

}  // namespace

const KindStrategy& CronJobStrategy() {
  static const CronJobStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
