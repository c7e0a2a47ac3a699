// Event (core/v1): the `kubectl get events` table, the field selectors Kubernetes
// offers for events, and the legacy namespace/reporting rules.
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

namespace {

namespace json = boost::json;

constexpr size_t kReportingInstanceLimit = 128;
constexpr size_t kActionLimit = 128;
constexpr size_t kReasonLimit = 128;
constexpr size_t kNoteLimit = 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view FirstNonEmpty(std::string_view a, std::string_view b) { return a.empty() ? b : a; }

// Component, then ", instance" when there is one (source.host or reportingInstance).
std::string FormatSource(const json::object& obj) {
  std::string_view component =
      FirstNonEmpty(FindStr(obj, {"source", "component"}), FindStr(obj, {"reportingComponent"}));
  std::string_view instance =
      FirstNonEmpty(FindStr(obj, {"source", "host"}), FindStr(obj, {"reportingInstance"}));
  std::string out(component);
  if (!instance.empty()) {
    out += ", ";
    out += instance;
  }
  return out;
}

class EventStrategyImpl final : public KindStrategy {
 public:
  // KindStrategy
  void Validate(const json::object& obj, const json::object* /*old*/,
                std::vector<StatusCause>& errors) const override {
    FieldErrors errs(errors);
    std::string_view ns = FindStr(obj, {"metadata", "namespace"});
    std::string_view involved_ns = FindStr(obj, {"involvedObject", "namespace"});
    if (FindStr(obj, {"eventTime"}).empty()) {
      // Old-style events: the namespaces must agree ("default" stands for cluster-scoped
      // objects, for old clients).
      bool ok = involved_ns.empty() ? (ns.empty() || ns == "default") : ns == involved_ns;
      if (!ok) {
        errs.InvalidString("involvedObject.namespace", involved_ns,
                           "does not match event.namespace");
      }
    } else {
      if (involved_ns.empty() && ns != "default" && ns != "kube-system") {
        errs.InvalidString("involvedObject.namespace", involved_ns,
                           "does not match event.namespace");
      }
      std::string_view controller = FindStr(obj, {"reportingComponent"});
      if (controller.empty()) errs.Required("reportingComponent");
      errs.InvalidEach("reportingComponent", controller, QualifiedNameErrors(controller));
      auto check_length = [&](std::string_view field, size_t limit, bool required) {
        std::string_view value = FindStr(obj, {field});
        if (required && value.empty()) errs.Required(std::string(field));
        if (value.size() > limit) {
          errs.InvalidString(std::string(field), "",
                             "can have at most " + std::to_string(limit) + " characters");
        }
      };
      check_length("reportingInstance", kReportingInstanceLimit, true);
      check_length("action", kActionLimit, true);
      check_length("reason", kReasonLimit, true);
      check_length("message", kNoteLimit, false);
    }
    if (!ns.empty()) errs.InvalidEach("namespace", ns, Dns1123SubdomainErrors(ns));
  }

  std::optional<std::string> FieldValue(const json::object& obj,
                                        std::string_view field) const override {
    static constexpr std::string_view kInvolved[] = {
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"};
    if (field.starts_with("involvedObject.")) {
      std::string_view sub = field.substr(std::string_view("involvedObject.").size());
      for (std::string_view f : kInvolved) {
        if (sub == f) return std::string(FindStr(obj, {"involvedObject", f}));
      }
      return std::nullopt;
    }
    if (field == "reason" || field == "type") return std::string(FindStr(obj, {field}));
    if (field == "reportingComponent") return std::string(FindStr(obj, {"reportingComponent"}));
    if (field == "source") {
      return std::string(FirstNonEmpty(FindStr(obj, {"source", "component"}),
                                       FindStr(obj, {"reportingComponent"})));
    }
    return std::nullopt;
  }

  std::vector<TableColumn> Columns() const override {
    TableColumn name = NameColumn();
    name.priority = 1;
    return {
        {"Last Seen", "string", "",
         "The time at which the most recent occurrence of this event was recorded.", 0},
        {"Type", "string", "",
         "Type of this event (Normal, Warning), new types could be added in the future", 0},
        {"Reason", "string", "",
         "This should be a short, machine understandable string that gives the reason for the "
         "transition into the object's current status.",
         0},
        {"Object", "string", "", "The object that this event is about.", 0},
        {"Subobject", "string", "",
         "If referring to a piece of an object instead of an entire object, this string should "
         "contain a valid JSON/Go field access statement, such as desiredState.manifest."
         "containers[2]. For example, if the object reference is to a container within a pod, "
         "this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to "
         "the name of the container that triggered the event) or if no container name is "
         "specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is "
         "chosen only to have some well-defined way of referencing a part of an object.",
         1},
        {"Source", "string", "",
         "The component reporting this event. Should be a short machine understandable string.", 1},
        {"Message", "string", "", "A human-readable description of the status of this operation.",
         0},
        {"First Seen", "string", "",
         "The time at which the event was first recorded. (Time of server receipt is in "
         "TypeMeta.)",
         1},
        {"Count", "string", "", "The number of times this event has occurred.", 1},
        name,
    };
  }

  void Row(const json::object& obj, const StrategyContext& ctx, json::array& cells) const override {
    std::string_view first_ts = FindStr(obj, {"firstTimestamp"});
    std::string first_seen = first_ts.empty() ? TimestampSince(FindStr(obj, {"eventTime"}), ctx.now)
                                              : TimestampSince(first_ts, ctx.now);
    std::string_view last_ts = FindStr(obj, {"lastTimestamp"});
    std::string last_seen = last_ts.empty() ? first_seen : TimestampSince(last_ts, ctx.now);
    int64_t count = FindInt(obj, {"count"}).value_or(0);
    if (const json::object* series = FindObj(obj, {"series"})) {
      last_seen = TimestampSince(FindStr(*series, {"lastObservedTime"}), ctx.now);
      count = FindInt(*series, {"count"}).value_or(0);
    } else if (count == 0) {
      count = 1;  // singleton events of the new API carry no count
    }
    std::string_view kind = FindStr(obj, {"involvedObject", "kind"});
    std::string_view involved_name = FindStr(obj, {"involvedObject", "name"});
    std::string target = Lower(kind);
    if (!involved_name.empty()) target += "/" + std::string(involved_name);

    cells.emplace_back(last_seen);
    cells.emplace_back(FindStr(obj, {"type"}));
    cells.emplace_back(FindStr(obj, {"reason"}));
    cells.emplace_back(target);
    cells.emplace_back(FindStr(obj, {"involvedObject", "fieldPath"}));
    cells.emplace_back(FormatSource(obj));
    cells.emplace_back(Trim(FindStr(obj, {"message"})));
    cells.emplace_back(first_seen);
    cells.emplace_back(count);
    cells.emplace_back(FindStr(obj, {"metadata", "name"}));
  }
};

}  // namespace

const KindStrategy& EventStrategy() {
  static const EventStrategyImpl strategy;
  return strategy;
}

}  // namespace skiff::api::kinds
