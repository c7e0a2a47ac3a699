#include "apiserver/openapi.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/schema.h"

namespace skiff {
namespace {

namespace json = boost::json;

using api::Property;
using api::ResourceInfo;
using api::Schema;
using api::SchemaType;

enum class Dialect { kV2, kV3 };

// Definition names of the types that operations and fallbacks refer to.
constexpr std::string_view kMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const std::string kObjectMeta = std::string(kMeta) + "ObjectMeta";
const std::string kListMeta = std::string(kMeta) + "ListMeta";
const std::string kTime = std::string(kMeta) + "Time";
const std::string kStatus = std::string(kMeta) + "Status";
const std::string kStatusDetails = std::string(kMeta) + "StatusDetails";
const std::string kStatusCause = std::string(kMeta) + "StatusCause";
const std::string kDeleteOptions = std::string(kMeta) + "DeleteOptions";
const std::string kPreconditions = std::string(kMeta) + "Preconditions";
const std::string kWatchEvent = std::string(kMeta) + "WatchEvent";
const std::string kPatch = std::string(kMeta) + "Patch";
const std::string kApiResourceList = std::string(kMeta) + "APIResourceList";
const std::string kApiResource = std::string(kMeta) + "APIResource";
const std::string kApiVersions = std::string(kMeta) + "APIVersions";
const std::string kApiGroupList = std::string(kMeta) + "APIGroupList";
const std::string kApiGroup = std::string(kMeta) + "APIGroup";
const std::string kGroupVersionForDiscovery = std::string(kMeta) + "GroupVersionForDiscovery";
const std::string kServerAddressByClientCidr = std::string(kMeta) + "ServerAddressByClientCIDR";
const std::string kRawExtension = "io.k8s.apimachinery.pkg.runtime.RawExtension";
const std::string kQuantity = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const std::string kIntOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const std::string kVersionInfo = "io.k8s.apimachinery.pkg.version.Info";
const std::string kScale = "io.k8s.api.autoscaling.v1.Scale";
const std::string kScaleSpec = "io.k8s.api.autoscaling.v1.ScaleSpec";
const std::string kScaleStatus = "io.k8s.api.autoscaling.v1.ScaleStatus";

constexpr std::string_view kApiVersionDescription =
    "The versioned schema of this representation of an object, e.g. \"apps/v1\". Servers "
    "convert recognized schemas to the latest internal value and may reject unrecognized "
    "values.";
constexpr std::string_view kKindDescription =
    "The REST resource this object represents, in CamelCase, e.g. \"Deployment\". Servers may "
    "infer it from the endpoint the client submits requests to. Cannot be updated.";

struct Gvk {
  std::string group;
  std::string version;
  std::string kind;
  auto operator<=>(const Gvk&) const = default;
};

json::object GvkObject(const Gvk& gvk) {
  return json::object{{"group", gvk.group}, {"kind", gvk.kind}, {"version", gvk.version}};
}

std::string Capitalize(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// "apps" -> "Apps", "rbac.authorization.k8s.io" -> "RbacAuthorization", "" -> "Core":
// the group as it appears in Kubernetes operation IDs.
std::string FriendlyGroup(std::string_view group) {
  if (group.empty()) return "Core";
  std::string_view g = group;
  if (g.ends_with(".k8s.io")) g.remove_suffix(7);
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= g.size(); ++i) {
    if (i == g.size() || g[i] == '.' || g[i] == '-') {
      out += Capitalize(g.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The operation tag: "core_v1", "apps_v1", "rbacAuthorization_v1".
std::string Tag(std::string_view group, std::string_view version) {
  std::string friendly = FriendlyGroup(group);
  friendly[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(friendly[0])));
  return friendly + "_" + std::string(version);
}

// The conventional definition name of a kind, for kinds the registry names otherwise
// or not at all: "io.k8s.api.core.v1.Binding", "io.k8s.api.policy.v1.Eviction",
// "com.example.stable.v1.CronTab".
std::string ConventionalName(std::string_view group, std::string_view version,
                             std::string_view kind) {
  std::string tail = "." + std::string(version) + "." + std::string(kind);
  if (group.empty()) return "io.k8s.api.core" + tail;
  if (group.ends_with(".k8s.io")) {
    return "io.k8s.api." + std::string(group.substr(0, group.find('.'))) + tail;
  }
  if (group.find('.') == std::string_view::npos) return "io.k8s.api." + std::string(group) + tail;
  std::string reversed;
  std::string_view g = group;
  while (!g.empty()) {
    size_t dot = g.rfind('.');
    std::string_view label = dot == std::string_view::npos ? g : g.substr(dot + 1);
    if (!reversed.empty()) reversed += '.';
    reversed += label;
    g = dot == std::string_view::npos ? std::string_view() : g.substr(0, dot);
  }
  return reversed + tail;
}

// --- Types: the registry's, else built-in fallbacks ---------------------------------------

// Looks named types up in the registry and describes, on demand, those that operations
// need but the registry lacks. Owns the nodes it creates. Not thread-safe: one per
// document being rendered.
class TypeSource {
 public:
  explicit TypeSource(const ServedApis& apis) : apis_(apis) {}
  TypeSource(const TypeSource&) = delete;
  TypeSource& operator=(const TypeSource&) = delete;

  // The named type `name`, or nullptr when neither the registry nor a fallback has it.
  const Schema* Find(const std::string& name) {
    if (apis_.types != nullptr) {
      auto it = apis_.types->find(name);
      if (it != apis_.types->end() && it->second != nullptr) return it->second;
    }
    if (auto it = built_.find(name); it != built_.end()) return it->second;
    return Fallback(name);
  }

  // The <Kind>List type of `r`: the registry's when it has one, else synthesised.
  const Schema* ListOf(const ResourceInfo& r) {
    const Schema* kind = r.decl->schema;
    std::string name = ListName(r);
    if (const Schema* found = Find(name)) return found;
    Schema* list = Object(name, r.list_kind + " is a list of " + r.kind() + " objects.");
    AddField(list, "apiVersion", Primitive(SchemaType::kString), kApiVersionDescription);
    AddField(list, "items", ArrayOf(kind), "The list of " + r.kind() + " objects.", true);
    AddField(list, "kind", Primitive(SchemaType::kString), kKindDescription);
    AddField(list, "metadata", Find(kListMeta), "Standard list metadata.");
    return list;
  }

  static std::string ListName(const ResourceInfo& r) {
    const std::string& kind_name = r.decl->schema->name;
    size_t dot = kind_name.rfind('.');
    if (dot == std::string::npos) return ConventionalName(r.group(), r.version(), r.list_kind);
    return kind_name.substr(0, dot + 1) + r.list_kind;
  }

 private:
  Schema* NewNode() { return &nodes_.emplace_back(); }

  Schema* Object(const std::string& name, std::string description) {
    Schema* s = NewNode();
    s->name = name;
    s->description = std::move(description);
    s->type = SchemaType::kObject;
    built_[name] = s;
    return s;
  }

  const Schema* Primitive(SchemaType type, std::string_view format = "") {
    std::string key = std::to_string(static_cast<int>(type)) + "/" + std::string(format);
    if (auto it = primitives_.find(key); it != primitives_.end()) return it->second;
    Schema* s = NewNode();
    s->type = type;
    s->format = std::string(format);
    primitives_[key] = s;
    return s;
  }

  const Schema* ArrayOf(const Schema* items, std::string_view list_type = "") {
    Schema* s = NewNode();
    s->type = SchemaType::kArray;
    s->items = items;
    s->list_type = std::string(list_type);
    return s;
  }

  const Schema* MapOf(const Schema* values) {
    Schema* s = NewNode();
    s->type = SchemaType::kMap;
    s->items = values;
    return s;
  }

  static void AddField(Schema* s, std::string name, const Schema* type,
                       std::string_view description, bool required = false) {
    if (type == nullptr) return;
    Property p;
    p.name = std::move(name);
    p.description = std::string(description);
    p.schema = type;
    p.required = required;
    s->properties.push_back(std::move(p));
  }

  const Schema* Fallback(const std::string& name);

  const ServedApis& apis_;
  std::deque<Schema> nodes_;  // stable addresses
  std::map<std::string, const Schema*, std::less<>> built_;
  std::map<std::string, const Schema*> primitives_;
};

const Schema* TypeSource::Fallback(const std::string& name) {
  const Schema* str = Primitive(SchemaType::kString);
  const Schema* int32 = Primitive(SchemaType::kInteger, "int32");
  const Schema* int64 = Primitive(SchemaType::kInteger, "int64");
  const Schema* boolean = Primitive(SchemaType::kBoolean);

  if (name == kQuantity) {
    Schema* s = Object(name,
                       "A fixed-point number with an optional SI or binary suffix, such as "
                       "\"100m\", \"1.5\", \"128Mi\" or \"2G\". Serialized as a string.");
    s->type = SchemaType::kQuantity;
    return s;
  }
  if (name == kIntOrString) {
    Schema* s = Object(name,
                       "An int32 or a string. JSON carries whichever it holds, so a field can "
                       "accept, for example, a port number or a port name.");
    s->type = SchemaType::kIntOrString;
    return s;
  }
  if (name == kTime) {
    Schema* s = Object(name, "A timestamp in RFC 3339 form, with second precision.");
    s->type = SchemaType::kString;
    s->format = "date-time";
    return s;
  }
  if (name == kRawExtension) {
    Schema* s = Object(name, "An embedded object of any kind, kept as received.");
    s->type = SchemaType::kAny;
    return s;
  }
  if (name == kPatch) {
    return Object(name, "The body of a PATCH request, in the format its Content-Type names.");
  }
  if (name == kObjectMeta) {
    Schema* s = Object(name, "Metadata that all persisted resources must have.");
    AddField(s, "annotations", MapOf(str), "Unstructured key value data kept with the object.");
    AddField(s, "creationTimestamp", Find(kTime), "When the object was created.");
    AddField(s, "deletionTimestamp", Find(kTime), "When the object will be deleted.");
    AddField(s, "finalizers", ArrayOf(str, "set"),
             "Conditions that must be cleared before the object is deleted.");
    AddField(s, "generateName", str, "A prefix from which the server generates a unique name.");
    AddField(s, "generation", int64, "A sequence number for the desired state.");
    AddField(s, "labels", MapOf(str), "Key value pairs used to select and organise objects.");
    AddField(s, "name", str, "The name of the object, unique within its namespace.");
    AddField(s, "namespace", str, "The namespace of the object.");
    AddField(s, "resourceVersion", str, "An opaque value identifying the object's version.");
    AddField(s, "uid", str, "The unique identifier of the object over its lifetime.");
    return s;
  }
  if (name == kListMeta) {
    Schema* s = Object(name, "Metadata that synthetic resources, such as lists, must have.");
    AddField(s, "continue", str, "Set when more results remain: pass it to fetch the next page.");
    AddField(s, "remainingItemCount", int64,
             "The number of objects after this page, when the server can tell.");
    AddField(s, "resourceVersion", str, "The version of the list, for watching from it.");
    AddField(s, "selfLink", str, "Deprecated; never set.");
    return s;
  }
  if (name == kStatusCause) {
    Schema* s = Object(name, "One cause of an error, often a field.");
    AddField(s, "field", str, "The field that caused the error, e.g. \"spec.replicas\".");
    AddField(s, "message", str, "A human-readable description of the cause.");
    AddField(s, "reason", str, "A machine-readable description of the cause.");
    return s;
  }
  if (name == kStatusDetails) {
    Schema* s = Object(name, "More about a Status: the object concerned and the causes.");
    AddField(s, "causes", ArrayOf(Find(kStatusCause), "atomic"), "The causes of the error.");
    AddField(s, "group", str, "The group of the object concerned.");
    AddField(s, "kind", str, "The kind of the object concerned.");
    AddField(s, "name", str, "The name of the object concerned.");
    AddField(s, "retryAfterSeconds", int32, "When set, seconds to wait before retrying.");
    AddField(s, "uid", str, "The UID of the object concerned.");
    return s;
  }
  if (name == kStatus) {
    Schema* s = Object(name, "The result of an operation that does not return an object.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "code", int32, "The HTTP status code of the response.");
    AddField(s, "details", Find(kStatusDetails), "More about the reason, if any.");
    AddField(s, "kind", str, kKindDescription);
    AddField(s, "message", str, "A human-readable description of the status.");
    AddField(s, "metadata", Find(kListMeta), "Standard list metadata.");
    AddField(s, "reason", str, "A machine-readable reason, e.g. \"NotFound\".");
    AddField(s, "status", str, "\"Success\" or \"Failure\".");
    return s;
  }
  if (name == kPreconditions) {
    Schema* s = Object(name, "Conditions that must hold before an operation is carried out.");
    AddField(s, "resourceVersion", str, "The object's resourceVersion must equal this.");
    AddField(s, "uid", str, "The object's UID must equal this.");
    return s;
  }
  if (name == kDeleteOptions) {
    Schema* s = Object(name, "Options for deleting an object.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "dryRun", ArrayOf(str, "atomic"), "When \"All\", nothing is persisted.");
    AddField(s, "gracePeriodSeconds", int64,
             "Seconds before the object is deleted; zero deletes it at once.");
    AddField(s, "kind", str, kKindDescription);
    AddField(s, "orphanDependents", boolean, "Deprecated: use propagationPolicy.");
    AddField(s, "preconditions", Find(kPreconditions), "Must hold, or the delete fails.");
    AddField(s, "propagationPolicy", str,
             "How dependents are collected: Orphan, Background or Foreground.");
    return s;
  }
  if (name == kWatchEvent) {
    Schema* s = Object(name, "One event of a watch stream.");
    AddField(s, "object", Find(kRawExtension),
             "The object of the event, or a Status for an ERROR event.", true);
    AddField(s, "type", str, "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.", true);
    return s;
  }
  if (name == kApiResource) {
    Schema* s = Object(name, "A resource served in a group-version.");
    AddField(s, "categories", ArrayOf(str, "atomic"), "Groupings the resource belongs to.");
    AddField(s, "group", str, "The group of the response kind, when it differs.");
    AddField(s, "kind", str, "The kind of the resource.", true);
    AddField(s, "name", str, "The plural name of the resource.", true);
    AddField(s, "namespaced", boolean, "Whether the resource is namespaced.", true);
    AddField(s, "shortNames", ArrayOf(str, "atomic"), "Short names of the resource.");
    AddField(s, "singularName", str, "The singular name of the resource.", true);
    AddField(s, "storageVersionHash", str, "An opaque hash of the storage version.");
    AddField(s, "verbs", ArrayOf(str), "The verbs the resource supports.", true);
    AddField(s, "version", str, "The version of the response kind, when it differs.");
    return s;
  }
  if (name == kApiResourceList) {
    Schema* s = Object(name, "The resources served in a group-version.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "groupVersion", str, "The group-version the list is for.", true);
    AddField(s, "kind", str, kKindDescription);
    AddField(s, "resources", ArrayOf(Find(kApiResource), "atomic"), "The resources.", true);
    return s;
  }
  if (name == kServerAddressByClientCidr) {
    Schema* s = Object(name, "The address clients in a CIDR should use to reach the server.");
    AddField(s, "clientCIDR", str, "The CIDR the clients are in.", true);
    AddField(s, "serverAddress", str, "The server address, host or host:port.", true);
    return s;
  }
  if (name == kApiVersions) {
    Schema* s = Object(name, "The versions served under /api.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "kind", str, kKindDescription);
    AddField(s, "serverAddressByClientCIDRs", ArrayOf(Find(kServerAddressByClientCidr), "atomic"),
             "Where clients in each CIDR reach the server.", true);
    AddField(s, "versions", ArrayOf(str, "atomic"), "The served versions.", true);
    return s;
  }
  if (name == kGroupVersionForDiscovery) {
    Schema* s = Object(name, "One version of a group.");
    AddField(s, "groupVersion", str, "\"group/version\".", true);
    AddField(s, "version", str, "The version.", true);
    return s;
  }
  if (name == kApiGroup) {
    Schema* s = Object(name, "A served group and its versions.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "kind", str, kKindDescription);
    AddField(s, "name", str, "The name of the group.", true);
    AddField(s, "preferredVersion", Find(kGroupVersionForDiscovery),
             "The version clients should prefer.");
    AddField(s, "serverAddressByClientCIDRs", ArrayOf(Find(kServerAddressByClientCidr), "atomic"),
             "Where clients in each CIDR reach the server.");
    AddField(s, "versions", ArrayOf(Find(kGroupVersionForDiscovery), "atomic"),
             "The served versions.", true);
    return s;
  }
  if (name == kApiGroupList) {
    Schema* s = Object(name, "The groups served under /apis.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "groups", ArrayOf(Find(kApiGroup), "atomic"), "The groups.", true);
    AddField(s, "kind", str, kKindDescription);
    return s;
  }
  if (name == kVersionInfo) {
    Schema* s = Object(name, "The version of the server.");
    for (const char* field : {"buildDate", "compiler", "gitCommit", "gitTreeState", "gitVersion",
                              "goVersion", "major", "minor", "platform"}) {
      AddField(s, field, str, "", true);
    }
    return s;
  }
  if (name == kScaleSpec) {
    Schema* s = Object(name, "The desired scale.");
    AddField(s, "replicas", int32, "The desired number of instances.");
    return s;
  }
  if (name == kScaleStatus) {
    Schema* s = Object(name, "The observed scale.");
    AddField(s, "replicas", int32, "The observed number of instances.", true);
    AddField(s, "selector", str, "The label selector of the instances, as a string.");
    return s;
  }
  if (name == kScale) {
    Schema* s = Object(name, "A scaling request for a resource.");
    AddField(s, "apiVersion", str, kApiVersionDescription);
    AddField(s, "kind", str, kKindDescription);
    AddField(s, "metadata", Find(kObjectMeta), "Standard object metadata.");
    AddField(s, "spec", Find(kScaleSpec), "The desired scale.");
    AddField(s, "status", Find(kScaleStatus), "The current scale; read-only.");
    return s;
  }
  return nullptr;
}

// --- Parameters ------------------------------------------------------------------------

struct ParamSpec {
  std::string_view name;
  std::string_view in;
  std::string_view type;  // "string", "boolean", "integer"
  std::string_view description;
  bool required = false;
};

constexpr ParamSpec kPretty{"pretty", "query", "string",
                            "If 'true', then the output is pretty printed."};
constexpr ParamSpec kNamespaceParam{"namespace", "path", "string", "The namespace of the objects.",
                                    true};
constexpr ParamSpec kDryRun{
    "dryRun", "query", "string",
    "When present, the request is processed but nothing is persisted. The only valid value is "
    "All."};
constexpr ParamSpec kFieldManager{
    "fieldManager", "query", "string",
    "The name of the actor making these changes. Required for apply patches "
    "(application/apply-patch+yaml), optional for other requests."};
constexpr ParamSpec kFieldValidation{
    "fieldValidation", "query", "string",
    "How the server treats unknown or duplicate fields in the object: Ignore drops them "
    "silently, Warn drops them and returns a warning for each, Strict fails the request."};
constexpr ParamSpec kForce{
    "force", "query", "boolean",
    "Apply only: take over fields owned by other managers instead of failing on conflicts. "
    "Must be unset for other patches."};
constexpr ParamSpec kGracePeriodSeconds{
    "gracePeriodSeconds", "query", "integer",
    "Seconds before the object is deleted; zero deletes it at once. Unset uses the default of "
    "the kind."};
constexpr ParamSpec kOrphanDependents{"orphanDependents", "query", "boolean",
                                      "Deprecated: use propagationPolicy."};
constexpr ParamSpec kPropagationPolicy{
    "propagationPolicy", "query", "string",
    "How dependents are garbage collected: Orphan, Background or Foreground."};
constexpr ParamSpec kAllowWatchBookmarks{"allowWatchBookmarks", "query", "boolean",
                                         "Ask for BOOKMARK events. Ignored unless watching."};
constexpr ParamSpec kContinue{
    "continue", "query", "string",
    "The continue token of a previous limited list, to fetch the next page."};
constexpr ParamSpec kFieldSelector{
    "fieldSelector", "query", "string",
    "Only objects whose fields match this selector. Defaults to everything."};
constexpr ParamSpec kLabelSelector{
    "labelSelector", "query", "string",
    "Only objects whose labels match this selector. Defaults to everything."};
constexpr ParamSpec kLimit{
    "limit", "query", "integer",
    "The most objects to return; when more remain, the list's continue token is set."};
constexpr ParamSpec kResourceVersion{
    "resourceVersion", "query", "string",
    "Constrains which resource version the request may be served from. Defaults to unset."};
constexpr ParamSpec kResourceVersionMatch{
    "resourceVersionMatch", "query", "string",
    "How resourceVersion applies to a list: Exact or NotOlderThan. Defaults to unset."};
constexpr ParamSpec kSendInitialEvents{
    "sendInitialEvents", "query", "boolean",
    "With watch: start with synthetic ADDED events for the current state, then a bookmark."};
constexpr ParamSpec kTimeoutSeconds{"timeoutSeconds", "query", "integer",
                                    "Timeout for the list or watch call."};
constexpr ParamSpec kWatch{"watch", "query", "boolean",
                           "Watch for changes to the objects instead of listing them."};

const std::vector<const ParamSpec*> kListParams = {&kAllowWatchBookmarks,
                                                   &kContinue,
                                                   &kFieldSelector,
                                                   &kLabelSelector,
                                                   &kLimit,
                                                   &kResourceVersion,
                                                   &kResourceVersionMatch,
                                                   &kSendInitialEvents,
                                                   &kTimeoutSeconds,
                                                   &kWatch};
const std::vector<const ParamSpec*> kWriteParams = {&kDryRun, &kFieldManager, &kFieldValidation};
const std::vector<const ParamSpec*> kPatchParams = {&kDryRun, &kFieldManager, &kFieldValidation,
                                                    &kForce};
const std::vector<const ParamSpec*> kDeleteParams = {&kDryRun, &kGracePeriodSeconds,
                                                     &kOrphanDependents, &kPropagationPolicy};

const std::vector<std::string> kPatchContentTypes = {
    "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
    "application/strategic-merge-patch+json"};

// --- The document writer ---------------------------------------------------------------

// One operation of a path item.
struct Operation {
  std::string method;  // "get", "put", "post", "patch", "delete"
  std::string description;
  std::string operation_id;
  std::string tag;
  std::string action;  // x-kubernetes-action; empty for none
  std::optional<Gvk> gvk;
  std::vector<const ParamSpec*> params;
  const Schema* body = nullptr;
  bool body_required = true;
  bool patch_body = false;
  const Schema* response = nullptr;
  std::vector<std::pair<std::string, std::string>> codes = {{"200", "OK"}};
  bool stream = false;  // also produced as a watch stream
};

// Builds one document (Swagger 2.0 or OpenAPI 3.0): paths are added group-version by
// group-version, then Finish writes the definitions they reach. Used once per rendering,
// by one thread.
class SpecWriter {
 public:
  SpecWriter(const ServedApis& apis, Dialect dialect)
      : apis_(apis), dialect_(dialect), types_(apis) {
    ref_prefix_ = dialect == Dialect::kV3 ? "#/components/schemas/" : "#/definitions/";
    CollectGvks();
  }

  // The paths of every resource served at group/version, and its discovery path.
  void AddGroupVersion(const std::string& group, const std::string& version);
  // GET /api/, /apis/, /apis/<group>/, /version/.
  void AddLegacyRoot();
  void AddGroupsRoot();
  void AddGroupRoot(const std::string& group);
  void AddVersionRoot();

  // The whole document, with the definitions reachable from its paths.
  json::object Finish();

 private:
  void CollectGvks();
  void AddResource(const ResourceInfo& r);
  void AddSubresource(const ResourceInfo& r, const std::string& sub, const std::string& item_path,
                      const std::vector<const ParamSpec*>& path_params);
  void AddOperation(const std::string& path, const std::vector<const ParamSpec*>& path_params,
                    Operation op);

  json::object Param(const ParamSpec& p) const;
  json::object RefTo(const Schema* named);
  // How a field (or an array's items, a map's values) of type `s` is written: a
  // reference for named types, the schema itself otherwise. `patch_strategy` is the
  // field's own (Property::patch_strategy).
  json::object Use(const Schema* s, std::string_view description,
                   const std::optional<std::string>& default_json, int depth,
                   std::string_view patch_strategy = "");
  json::object Inline(const Schema* s, std::string_view description,
                      const std::optional<std::string>& default_json, int depth);
  json::object Definition(const Schema* s);
  void Properties(const Schema* s, json::object& out, int depth);
  static void Extensions(const Schema* s, json::object& out);
  void Require(const Schema* named);

  const ServedApis& apis_;
  Dialect dialect_;
  TypeSource types_;
  std::string ref_prefix_;
  std::map<std::string, json::object> paths_;
  std::map<std::string, std::vector<Gvk>> gvks_;  // definition name -> kinds it is
  std::set<std::string> required_;                // definition names queued or written
  std::vector<const Schema*> pending_;
};

void SpecWriter::CollectGvks() {
  auto add = [&](const std::string& name, Gvk gvk) {
    auto& list = gvks_[name];
    if (std::find(list.begin(), list.end(), gvk) == list.end()) list.push_back(std::move(gvk));
  };
  for (const ResourceInfo* r : apis_.resources) {
    if (r->decl->schema == nullptr || r->decl->schema->name.empty()) continue;
    add(r->decl->schema->name, {r->group(), r->version(), r->kind()});
    add(TypeSource::ListName(*r), {r->group(), r->version(), r->list_kind});
  }
  // Options and events are kinds of every served group-version, as in Kubernetes.
  std::set<std::pair<std::string, std::string>> gvs = {{"", "v1"}};
  for (const auto& [group, versions] : apis_.group_versions) {
    for (const auto& v : versions) gvs.insert({group, v});
  }
  for (const auto& [g, v] : gvs) {
    add(kDeleteOptions, {g, v, "DeleteOptions"});
    add(kWatchEvent, {g, v, "WatchEvent"});
  }
  add(kStatus, {"", "v1", "Status"});
  add(kApiResourceList, {"", "v1", "APIResourceList"});
  add(kApiVersions, {"", "v1", "APIVersions"});
  add(kApiGroupList, {"", "v1", "APIGroupList"});
  add(kApiGroup, {"", "v1", "APIGroup"});
  add(kScale, {"autoscaling", "v1", "Scale"});
}

void SpecWriter::Require(const Schema* named) {
  if (named == nullptr || named->name.empty()) return;
  if (required_.insert(named->name).second) pending_.push_back(named);
}

json::object SpecWriter::RefTo(const Schema* named) {
  Require(named);
  return json::object{{"$ref", ref_prefix_ + named->name}};
}

json::object SpecWriter::Param(const ParamSpec& p) const {
  json::object out;
  out["description"] = p.description;
  out["in"] = p.in;
  out["name"] = p.name;
  if (p.required) out["required"] = true;
  if (dialect_ == Dialect::kV3) {
    out["schema"] = json::object{{"type", p.type}, {"uniqueItems", true}};
  } else {
    out["type"] = p.type;
    out["uniqueItems"] = true;
  }
  return out;
}

void SpecWriter::Extensions(const Schema* s, json::object& out) {
  if (!s->list_map_keys.empty()) {
    json::array keys;
    for (const auto& k : s->list_map_keys) keys.emplace_back(k);
    out["x-kubernetes-list-map-keys"] = std::move(keys);
  }
  if (!s->list_type.empty()) out["x-kubernetes-list-type"] = s->list_type;
  if (!s->map_type.empty()) out["x-kubernetes-map-type"] = s->map_type;
  if (!s->patch_merge_key.empty()) out["x-kubernetes-patch-merge-key"] = s->patch_merge_key;
  if (!s->patch_strategy.empty()) out["x-kubernetes-patch-strategy"] = s->patch_strategy;
}

json::object SpecWriter::Use(const Schema* s, std::string_view description,
                             const std::optional<std::string>& default_json, int depth,
                             std::string_view patch_strategy) {
  if (s == nullptr) return json::object{};
  const Schema* target = s;
  // Quantities and int-or-strings are named types in Kubernetes' documents even where
  // a schema spells them inline.
  if (s->name.empty() && s->type == SchemaType::kQuantity) target = types_.Find(kQuantity);
  if (s->name.empty() && s->type == SchemaType::kIntOrString) target = types_.Find(kIntOrString);
  if (target == nullptr || target->name.empty()) {
    json::object out = Inline(s, description, default_json, depth);
    if (!patch_strategy.empty()) out["x-kubernetes-patch-strategy"] = patch_strategy;
    return out;
  }

  json::object ref = RefTo(target);
  json::object out;
  if (dialect_ == Dialect::kV3 && (!description.empty() || default_json)) {
    // OpenAPI 3.0 ignores siblings of $ref; Kubernetes wraps the reference in allOf.
    out["allOf"] = json::array{std::move(ref)};
  } else {
    out = std::move(ref);
  }
  if (default_json && dialect_ == Dialect::kV3) {
    boost::system::error_code ec;
    json::value v = json::parse(*default_json, ec);
    if (!ec) out["default"] = std::move(v);
  }
  if (!description.empty()) out["description"] = description;
  // A named object field's merge strategy (e.g. retainKeys) sits beside the reference,
  // where strategic merge patch looks for it.
  if (!patch_strategy.empty()) out["x-kubernetes-patch-strategy"] = patch_strategy;
  return out;
}

void SpecWriter::Properties(const Schema* s, json::object& out, int depth) {
  json::object props;
  json::array required;
  for (const Property& p : s->properties) {
    props[p.name] = Use(p.schema, p.description, p.default_json, depth + 1, p.patch_strategy);
    if (p.required) required.emplace_back(p.name);
  }
  if (!props.empty()) out["properties"] = std::move(props);
  if (!required.empty()) out["required"] = std::move(required);
}

json::object SpecWriter::Inline(const Schema* s, std::string_view description,
                                const std::optional<std::string>& default_json, int depth) {
  json::object out;
  // Schemas are trees between named types; a deeper nest means a broken registry.
  if (depth > 64) return out;
  std::string_view text = description.empty() ? std::string_view(s->description) : description;
  if (default_json) {
    boost::system::error_code ec;
    json::value v = json::parse(*default_json, ec);
    if (!ec) out["default"] = std::move(v);
  }
  if (!text.empty()) out["description"] = text;
  switch (s->type) {
    case SchemaType::kObject:
      Properties(s, out, depth);
      out["type"] = "object";
      if (s->preserve_unknown_fields) out["x-kubernetes-preserve-unknown-fields"] = true;
      break;
    case SchemaType::kArray:
      out["items"] = Use(s->items, "", std::nullopt, depth + 1);
      out["type"] = "array";
      break;
    case SchemaType::kMap:
      out["additionalProperties"] = Use(s->items, "", std::nullopt, depth + 1);
      out["type"] = "object";
      break;
    case SchemaType::kString:
      if (!s->enum_values.empty()) {
        json::array values;
        for (const auto& v : s->enum_values) values.emplace_back(v);
        out["enum"] = std::move(values);
      }
      if (!s->format.empty()) out["format"] = s->format;
      out["type"] = "string";
      break;
    case SchemaType::kInteger:
      if (!s->format.empty()) out["format"] = s->format;
      out["type"] = "integer";
      break;
    case SchemaType::kNumber:
      out["format"] = s->format.empty() ? "double" : s->format;
      out["type"] = "number";
      break;
    case SchemaType::kBoolean: out["type"] = "boolean"; break;
    case SchemaType::kIntOrString:
      // Only reached for a named int-or-string's definition.
      out["format"] = "int-or-string";
      if (dialect_ == Dialect::kV3) {
        out["oneOf"] =
            json::array{json::object{{"type", "integer"}}, json::object{{"type", "string"}}};
        out["x-kubernetes-int-or-string"] = true;
      } else {
        out["type"] = "string";
      }
      break;
    case SchemaType::kQuantity:
      // Only reached for a named quantity's definition.
      if (dialect_ == Dialect::kV3) {
        out["oneOf"] =
            json::array{json::object{{"type", "string"}}, json::object{{"type", "number"}}};
      } else {
        out["type"] = "string";
      }
      break;
    case SchemaType::kAny:
      if (!s->name.empty()) {
        out["type"] = "object";  // e.g. RawExtension: an embedded object
      } else {
        out["x-kubernetes-preserve-unknown-fields"] = true;
      }
      break;
  }
  Extensions(s, out);
  return out;
}

json::object SpecWriter::Definition(const Schema* s) {
  json::object out = Inline(s, "", std::nullopt, 0);
  std::vector<Gvk> gvks;
  if (auto it = gvks_.find(s->name); it != gvks_.end()) gvks = it->second;
  if (!s->gvk_kind.empty()) {
    Gvk own{s->gvk_group, s->gvk_version, s->gvk_kind};
    if (std::find(gvks.begin(), gvks.end(), own) == gvks.end()) gvks.push_back(own);
  }
  if (!gvks.empty()) {
    std::sort(gvks.begin(), gvks.end());
    json::array list;
    for (const Gvk& g : gvks) list.push_back(GvkObject(g));
    out["x-kubernetes-group-version-kind"] = std::move(list);
  }
  return out;
}

void SpecWriter::AddOperation(const std::string& path,
                              const std::vector<const ParamSpec*>& path_params, Operation op) {
  json::object& item = paths_[path];
  if (!item.contains("parameters")) {
    json::array params;
    for (const ParamSpec* p : path_params) params.push_back(Param(*p));
    item["parameters"] = std::move(params);
  }

  std::vector<std::string> produces = {"application/json", "application/yaml"};
  if (op.stream) produces.push_back("application/json;stream=watch");

  json::object o;
  if (dialect_ == Dialect::kV2) {
    json::array consumes;
    if (op.patch_body) {
      for (const auto& t : kPatchContentTypes) consumes.emplace_back(t);
    } else {
      consumes.emplace_back("*/*");
    }
    o["consumes"] = std::move(consumes);
  }
  o["description"] = op.description;
  o["operationId"] = op.operation_id;

  json::array params;
  for (const ParamSpec* p : op.params) params.push_back(Param(*p));
  if (op.body != nullptr && dialect_ == Dialect::kV2) {
    json::object body;
    body["in"] = "body";
    body["name"] = "body";
    if (op.body_required) body["required"] = true;
    body["schema"] = RefTo(op.patch_body ? types_.Find(kPatch) : op.body);
    params.push_back(std::move(body));
  }
  if (!params.empty()) o["parameters"] = std::move(params);

  if (dialect_ == Dialect::kV2) {
    json::array list;
    for (const auto& t : produces) list.emplace_back(t);
    o["produces"] = std::move(list);
  }
  if (op.body != nullptr && dialect_ == Dialect::kV3) {
    json::object content;
    if (op.patch_body) {
      for (const auto& t : kPatchContentTypes) {
        content[t] = json::object{{"schema", RefTo(types_.Find(kPatch))}};
      }
    } else {
      content["*/*"] = json::object{{"schema", RefTo(op.body)}};
    }
    json::object request{{"content", std::move(content)}};
    if (op.body_required) request["required"] = true;
    o["requestBody"] = std::move(request);
  }

  json::object responses;
  for (const auto& [code, text] : op.codes) {
    json::object r;
    if (dialect_ == Dialect::kV3) {
      if (op.response != nullptr) {
        json::object content;
        for (const auto& t : produces) content[t] = json::object{{"schema", RefTo(op.response)}};
        r["content"] = std::move(content);
      }
      r["description"] = text;
    } else {
      r["description"] = text;
      if (op.response != nullptr) r["schema"] = RefTo(op.response);
    }
    responses[code] = std::move(r);
  }
  if (dialect_ == Dialect::kV2) responses["401"] = json::object{{"description", "Unauthorized"}};
  o["responses"] = std::move(responses);
  if (dialect_ == Dialect::kV2) o["schemes"] = json::array{"https"};
  o["tags"] = json::array{json::value(op.tag)};
  if (!op.action.empty()) o["x-kubernetes-action"] = op.action;
  if (op.gvk) o["x-kubernetes-group-version-kind"] = GvkObject(*op.gvk);
  item[op.method] = std::move(o);
}

void SpecWriter::AddGroupVersion(const std::string& group, const std::string& version) {
  std::string prefix = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  Operation root;
  root.method = "get";
  root.description = "get available resources";
  root.operation_id = "get" + FriendlyGroup(group) + Capitalize(version) + "APIResources";
  root.tag = Tag(group, version);
  root.response = types_.Find(kApiResourceList);
  AddOperation(prefix + "/", {}, std::move(root));

  std::vector<const ResourceInfo*> served;
  for (const ResourceInfo* r : apis_.resources) {
    if (r->group() == group && r->version() == version) served.push_back(r);
  }
  std::sort(served.begin(), served.end(),
            [](const ResourceInfo* a, const ResourceInfo* b) { return a->plural() < b->plural(); });
  for (const ResourceInfo* r : served) AddResource(*r);
}

void SpecWriter::AddResource(const ResourceInfo& r) {
  const Schema* kind_schema = r.decl->schema;
  if (kind_schema == nullptr || kind_schema->name.empty()) return;  // nothing to refer to
  const std::vector<std::string> verbs = ResourceVerbs(r);
  auto has = [&](std::string_view verb) {
    return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
  };

  const std::string prefix =
      r.group().empty() ? "/api/" + r.version() : "/apis/" + r.group() + "/" + r.version();
  const std::string id_middle = FriendlyGroup(r.group()) + Capitalize(r.version());
  const std::string scoped_kind = (r.namespaced() ? "Namespaced" : "") + r.kind();
  const std::string tag = Tag(r.group(), r.version());
  const Gvk gvk{r.group(), r.version(), r.kind()};
  const std::string ns_segment = r.namespaced() ? "/namespaces/{namespace}" : "";
  const std::string collection = prefix + ns_segment + "/" + r.plural();
  const std::string item = collection + "/{name}";
  const Schema* list_schema = types_.ListOf(r);
  const Schema* status = types_.Find(kStatus);
  const Schema* delete_options = types_.Find(kDeleteOptions);
  const Schema* watch_event = types_.Find(kWatchEvent);

  static const ParamSpec kNameParam{"name", "path", "string", "The name of the object.", true};
  std::vector<const ParamSpec*> collection_params;
  if (r.namespaced()) collection_params.push_back(&kNamespaceParam);
  collection_params.push_back(&kPretty);
  std::vector<const ParamSpec*> item_params = {&kNameParam};
  item_params.insert(item_params.end(), collection_params.begin(), collection_params.end());

  auto make = [&](std::string method, std::string description, std::string id, std::string action) {
    Operation op;
    op.method = std::move(method);
    op.description = std::move(description);
    op.operation_id = std::move(id);
    op.tag = tag;
    op.action = std::move(action);
    op.gvk = gvk;
    return op;
  };

  // The collection: list, create, delete collection.
  if (has("list")) {
    Operation op = make("get", "list or watch objects of kind " + r.kind(),
                        "list" + id_middle + scoped_kind, "list");
    op.params = kListParams;
    op.response = list_schema;
    op.stream = true;
    AddOperation(collection, collection_params, std::move(op));
  }
  if (has("create")) {
    Operation op = make("post", "create a " + r.kind(), "create" + id_middle + scoped_kind, "post");
    op.params = kWriteParams;
    op.body = kind_schema;
    op.response = kind_schema;
    op.codes = {{"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}};
    AddOperation(collection, collection_params, std::move(op));
  }
  if (has("deletecollection")) {
    Operation op = make("delete", "delete collection of " + r.kind(),
                        "delete" + id_middle + "Collection" + scoped_kind, "deletecollection");
    op.params = kDeleteParams;
    op.params.insert(op.params.end(), kListParams.begin(), kListParams.end());
    op.body = delete_options;
    op.body_required = false;
    op.response = status;
    AddOperation(collection, collection_params, std::move(op));
  }

  // One object: read, replace, patch, delete.
  if (has("get")) {
    Operation op =
        make("get", "read the specified " + r.kind(), "read" + id_middle + scoped_kind, "get");
    op.response = kind_schema;
    AddOperation(item, item_params, std::move(op));
  }
  if (has("update")) {
    Operation op = make("put", "replace the specified " + r.kind(),
                        "replace" + id_middle + scoped_kind, "put");
    op.params = kWriteParams;
    op.body = kind_schema;
    op.response = kind_schema;
    op.codes = {{"200", "OK"}, {"201", "Created"}};
    AddOperation(item, item_params, std::move(op));
  }
  if (has("patch")) {
    Operation op = make("patch", "partially update the specified " + r.kind(),
                        "patch" + id_middle + scoped_kind, "patch");
    op.params = kPatchParams;
    op.body = kind_schema;
    op.patch_body = true;
    op.response = kind_schema;
    op.codes = {{"200", "OK"}, {"201", "Created"}};
    AddOperation(item, item_params, std::move(op));
  }
  if (has("delete")) {
    Operation op =
        make("delete", "delete a " + r.kind(), "delete" + id_middle + scoped_kind, "delete");
    op.params = kDeleteParams;
    op.body = delete_options;
    op.body_required = false;
    op.response = status;
    op.codes = {{"200", "OK"}, {"202", "Accepted"}};
    AddOperation(item, item_params, std::move(op));
  }

  // Across namespaces, and the watch paths.
  std::vector<const ParamSpec*> list_path_params = kListParams;
  list_path_params.push_back(&kPretty);
  if (r.namespaced() && has("list")) {
    Operation op = make("get", "list or watch objects of kind " + r.kind(),
                        "list" + id_middle + r.kind() + "ForAllNamespaces", "list");
    op.response = list_schema;
    op.stream = true;
    AddOperation(prefix + "/" + r.plural(), list_path_params, std::move(op));
  }
  if (has("watch")) {
    std::vector<const ParamSpec*> scoped = kListParams;
    if (r.namespaced()) scoped.push_back(&kNamespaceParam);
    scoped.push_back(&kPretty);
    std::vector<const ParamSpec*> named = scoped;
    named.insert(named.begin(), &kNameParam);
    const std::string watch_collection = prefix + "/watch" + ns_segment + "/" + r.plural();

    Operation list_op = make("get", "watch individual changes to a list of " + r.kind(),
                             "watch" + id_middle + scoped_kind + "List", "watchlist");
    list_op.response = watch_event;
    list_op.stream = true;
    AddOperation(watch_collection, scoped, std::move(list_op));

    Operation one = make("get", "watch changes to an object of kind " + r.kind(),
                         "watch" + id_middle + scoped_kind, "watch");
    one.response = watch_event;
    one.stream = true;
    AddOperation(watch_collection + "/{name}", named, std::move(one));

    if (r.namespaced()) {
      Operation all = make("get", "watch individual changes to a list of " + r.kind(),
                           "watch" + id_middle + r.kind() + "ListForAllNamespaces", "watchlist");
      all.response = watch_event;
      all.stream = true;
      AddOperation(prefix + "/watch/" + r.plural(), list_path_params, std::move(all));
    }
  }

  std::vector<std::string> subs = r.decl->subresources;
  std::sort(subs.begin(), subs.end());
  subs.erase(std::unique(subs.begin(), subs.end()), subs.end());
  for (const auto& sub : subs) AddSubresource(r, sub, item, item_params);
}

void SpecWriter::AddSubresource(const ResourceInfo& r, const std::string& sub,
                                const std::string& item_path,
                                const std::vector<const ParamSpec*>& path_params) {
  // Streaming and proxy subresources carry no objects a client needs described.
  static const std::set<std::string_view> kConnect = {"log", "exec", "attach", "portforward",
                                                      "proxy"};
  if (kConnect.contains(sub)) return;

  SubresourceDescription d = DescribeSubresource(r, sub);
  Gvk gvk{d.group.empty() && d.version.empty() ? r.group() : d.group,
          d.group.empty() && d.version.empty() ? r.version() : d.version, d.kind};
  const Schema* object = nullptr;
  if (gvk.kind == r.kind() && gvk.group == r.group() && gvk.version == r.version()) {
    object = r.decl->schema;
  } else if (gvk.group == "autoscaling" && gvk.version == "v1" && gvk.kind == "Scale") {
    object = types_.Find(kScale);
  } else {
    object = types_.Find(ConventionalName(gvk.group, gvk.version, gvk.kind));
  }
  if (object == nullptr || object->name.empty()) return;

  const std::string id_middle = FriendlyGroup(r.group()) + Capitalize(r.version());
  const std::string scoped_kind = (r.namespaced() ? "Namespaced" : "") + r.kind();
  const std::string suffix = Capitalize(sub);
  const std::string path = item_path + "/" + sub;
  const std::string what = sub + " of the specified " + r.kind();
  auto has = [&](std::string_view verb) {
    return std::find(d.verbs.begin(), d.verbs.end(), verb) != d.verbs.end();
  };
  auto make = [&](std::string method, std::string description, std::string id, std::string action) {
    Operation op;
    op.method = std::move(method);
    op.description = std::move(description);
    op.operation_id = std::move(id) + id_middle + scoped_kind + suffix;
    op.tag = Tag(r.group(), r.version());
    op.action = std::move(action);
    op.gvk = gvk;
    op.response = object;
    return op;
  };
  if (has("get")) AddOperation(path, path_params, make("get", "read " + what, "read", "get"));
  if (has("create")) {
    Operation op = make("post", "create " + what, "create", "post");
    op.params = kWriteParams;
    op.body = object;
    op.codes = {{"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}};
    AddOperation(path, path_params, std::move(op));
  }
  if (has("update")) {
    Operation op = make("put", "replace " + what, "replace", "put");
    op.params = kWriteParams;
    op.body = object;
    op.codes = {{"200", "OK"}, {"201", "Created"}};
    AddOperation(path, path_params, std::move(op));
  }
  if (has("patch")) {
    Operation op = make("patch", "partially update " + what, "patch", "patch");
    op.params = kPatchParams;
    op.body = object;
    op.patch_body = true;
    op.codes = {{"200", "OK"}, {"201", "Created"}};
    AddOperation(path, path_params, std::move(op));
  }
}

void SpecWriter::AddLegacyRoot() {
  Operation op;
  op.method = "get";
  op.description = "get available API versions";
  op.operation_id = "getCoreAPIVersions";
  op.tag = "core";
  op.response = types_.Find(kApiVersions);
  AddOperation("/api/", {}, std::move(op));
}

void SpecWriter::AddGroupsRoot() {
  Operation op;
  op.method = "get";
  op.description = "get available API versions";
  op.operation_id = "getAPIVersions";
  op.tag = "apis";
  op.response = types_.Find(kApiGroupList);
  AddOperation("/apis/", {}, std::move(op));
}

void SpecWriter::AddGroupRoot(const std::string& group) {
  Operation op;
  op.method = "get";
  op.description = "get information of a group";
  op.operation_id = "get" + FriendlyGroup(group) + "APIGroup";
  std::string tag = FriendlyGroup(group);
  tag[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(tag[0])));
  op.tag = tag;
  op.response = types_.Find(kApiGroup);
  AddOperation("/apis/" + group + "/", {}, std::move(op));
}

void SpecWriter::AddVersionRoot() {
  Operation op;
  op.method = "get";
  op.description = "get the version information for this server";
  op.operation_id = "getCodeVersion";
  op.tag = "version";
  op.response = types_.Find(kVersionInfo);
  AddOperation("/version/", {}, std::move(op));
}

json::object SpecWriter::Finish() {
  std::map<std::string, json::object> definitions;
  // Writing a definition may require more; drain until closed.
  while (!pending_.empty()) {
    const Schema* s = pending_.back();
    pending_.pop_back();
    definitions[s->name] = Definition(s);
  }

  json::object paths;
  for (auto& [path, item] : paths_) paths[path] = std::move(item);
  json::object defs;
  for (auto& [name, def] : definitions) defs[name] = std::move(def);
  json::object bearer{{"description", "Bearer Token authentication"},
                      {"in", "header"},
                      {"name", "authorization"},
                      {"type", "apiKey"}};

  json::object doc;
  if (dialect_ == Dialect::kV3) {
    doc["components"] = json::object{{"schemas", std::move(defs)},
                                     {"securitySchemes", json::object{{"BearerToken", bearer}}}};
    doc["info"] = json::object{{"title", "Kubernetes"}, {"version", "unversioned"}};
    doc["openapi"] = "3.0.0";
    doc["paths"] = std::move(paths);
  } else {
    doc["definitions"] = std::move(defs);
    doc["info"] = json::object{{"title", "Kubernetes"}, {"version", "unversioned"}};
    doc["paths"] = std::move(paths);
    doc["securityDefinitions"] = json::object{{"BearerToken", bearer}};
    doc["swagger"] = "2.0";
  }
  doc["security"] = json::array{json::object{{"BearerToken", json::array{}}}};
  return doc;
}

// Groups in discovery order; any group missing from group_order follows by name.
std::vector<std::string> OrderedGroups(const ServedApis& apis) {
  std::vector<std::string> out;
  for (const auto& g : apis.group_order) {
    if (apis.group_versions.contains(g) && std::find(out.begin(), out.end(), g) == out.end()) {
      out.push_back(g);
    }
  }
  for (const auto& [g, versions] : apis.group_versions) {
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

bool Serves(const ServedApis& apis, const std::string& group, const std::string& version) {
  auto it = apis.group_versions.find(group);
  if (it == apis.group_versions.end()) return false;
  return std::find(it->second.begin(), it->second.end(), version) != it->second.end();
}

// Every path of /openapi/v3, in index order.
std::vector<std::string> V3Paths(const ServedApis& apis) {
  std::vector<std::string> out = {"api", "apis", "version"};
  for (const auto& g : OrderedGroups(apis)) {
    if (!g.empty()) out.push_back("apis/" + g);
    for (const auto& v : apis.group_versions.at(g)) {
      out.push_back(g.empty() ? "api/" + v : "apis/" + g + "/" + v);
    }
  }
  return out;
}

std::optional<std::string> RenderV3(const ServedApis& apis, std::string_view path) {
  SpecWriter writer(apis, Dialect::kV3);
  if (path == "api") {
    writer.AddLegacyRoot();
  } else if (path == "apis") {
    writer.AddGroupsRoot();
  } else if (path == "version") {
    writer.AddVersionRoot();
  } else if (path.starts_with("api/")) {
    std::string version(path.substr(4));
    if (version.find('/') != std::string::npos || !Serves(apis, "", version)) return std::nullopt;
    writer.AddGroupVersion("", version);
  } else if (path.starts_with("apis/")) {
    std::string_view rest = path.substr(5);
    size_t slash = rest.find('/');
    std::string group(rest.substr(0, slash));
    if (group.empty() || !apis.group_versions.contains(group)) return std::nullopt;
    if (slash == std::string_view::npos) {
      writer.AddGroupRoot(group);
    } else {
      std::string version(rest.substr(slash + 1));
      if (version.find('/') != std::string::npos || !Serves(apis, group, version)) {
        return std::nullopt;
      }
      writer.AddGroupVersion(group, version);
    }
  } else {
    return std::nullopt;
  }
  return json::serialize(writer.Finish());
}

json::object SwaggerDocument(const ServedApis& apis) {
  SpecWriter writer(apis, Dialect::kV2);
  writer.AddLegacyRoot();
  writer.AddGroupsRoot();
  writer.AddVersionRoot();
  for (const auto& g : OrderedGroups(apis)) {
    if (!g.empty()) writer.AddGroupRoot(g);
    for (const auto& v : apis.group_versions.at(g)) writer.AddGroupVersion(g, v);
  }
  return writer.Finish();
}

// --- Swagger 2.0 as protobuf ---------------------------------------------------------------
//
// The message openapi.v2.Document of gnostic's OpenAPIv2.proto, which kubectl up to 1.28
// reads from /openapi/v2 to validate objects and to find the fieldValidation parameter.
// The encoder walks the JSON document above; field numbers are those of the proto file.
// Values of free form (defaults, enums, vendor extensions) travel as Any.yaml text, for
// which compact JSON serves (JSON is YAML).

// Appends protobuf wire format to a buffer.
class ProtoWriter {
 public:
  const std::string& bytes() const { return buf_; }

  void String(int field, std::string_view value) {
    if (value.empty()) return;
    Bytes(field, value);
  }
  void Bytes(int field, std::string_view value) {
    Key(field, 2);
    Varint(value.size());
    buf_.append(value);
  }
  void Bool(int field, bool value) {
    if (!value) return;
    Key(field, 0);
    Varint(1);
  }
  // A boolean member of a oneof: written even when false, since presence matters.
  void OneofBool(int field, bool value) {
    Key(field, 0);
    Varint(value ? 1 : 0);
  }
  // A nested message, written even when empty (presence matters for oneofs).
  void Message(int field, const ProtoWriter& message) { Bytes(field, message.bytes()); }

 private:
  void Key(int field, int wire_type) { Varint((static_cast<uint64_t>(field) << 3) | wire_type); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      buf_.push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    buf_.push_back(static_cast<char>(v));
  }
  std::string buf_;
};

std::string_view StringOf(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return it->value().get_string();
}

bool BoolOf(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_bool() && it->value().get_bool();
}

const json::object* JsonObject(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || !it->value().is_object() ? nullptr : &it->value().get_object();
}

const json::array* JsonArray(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || !it->value().is_array() ? nullptr : &it->value().get_array();
}

void StringList(ProtoWriter& w, int field, const json::object& o, std::string_view key) {
  if (const json::array* a = JsonArray(o, key)) {
    for (const auto& v : *a) {
      if (v.is_string()) w.Bytes(field, v.get_string());
    }
  }
}

ProtoWriter AnyOf(const json::value& v) {
  ProtoWriter any;
  any.Bytes(2, json::serialize(v));  // Any.yaml
  return any;
}

// Vendor extensions ("x-..." keys of `o`) as repeated NamedAny.
void VendorExtensions(ProtoWriter& w, int field, const json::object& o) {
  for (const auto& kv : o) {
    if (!kv.key().starts_with("x-")) continue;
    ProtoWriter named;
    named.String(1, kv.key());
    named.Message(2, AnyOf(kv.value()));
    w.Message(field, named);
  }
}

ProtoWriter SchemaProto(const json::object& s) {
  ProtoWriter w;
  w.String(1, StringOf(s, "$ref"));
  w.String(2, StringOf(s, "format"));
  w.String(4, StringOf(s, "description"));
  if (auto it = s.find("default"); it != s.end()) w.Message(5, AnyOf(it->value()));
  StringList(w, 19, s, "required");
  if (const json::array* values = JsonArray(s, "enum")) {
    for (const auto& v : *values) w.Message(20, AnyOf(v));
  }
  if (auto it = s.find("additionalProperties"); it != s.end()) {
    ProtoWriter item;
    if (it->value().is_object()) {
      item.Message(1, SchemaProto(it->value().get_object()));
    } else if (it->value().is_bool()) {
      item.OneofBool(2, it->value().get_bool());
    }
    w.Message(21, item);
  }
  if (std::string_view type = StringOf(s, "type"); !type.empty()) {
    ProtoWriter type_item;
    type_item.Bytes(1, type);
    w.Message(22, type_item);
  }
  if (const json::object* items = JsonObject(s, "items")) {
    ProtoWriter items_item;
    items_item.Message(1, SchemaProto(*items));
    w.Message(23, items_item);
  }
  if (const json::array* all_of = JsonArray(s, "allOf")) {
    for (const auto& v : *all_of) {
      if (v.is_object()) w.Message(24, SchemaProto(v.get_object()));
    }
  }
  if (const json::object* props = JsonObject(s, "properties")) {
    ProtoWriter properties;
    for (const auto& kv : *props) {
      if (!kv.value().is_object()) continue;
      ProtoWriter named;
      named.String(1, kv.key());
      named.Message(2, SchemaProto(kv.value().get_object()));
      properties.Message(1, named);
    }
    w.Message(25, properties);
  }
  VendorExtensions(w, 31, s);
  return w;
}

ProtoWriter ParameterProto(const json::object& p) {
  ProtoWriter item;  // ParametersItem
  if (std::string_view ref = StringOf(p, "$ref"); !ref.empty()) {
    ProtoWriter reference;
    reference.String(1, ref);
    item.Message(2, reference);
    return item;
  }
  std::string_view in = StringOf(p, "in");
  ProtoWriter parameter;
  if (in == "body") {
    ProtoWriter body;
    body.String(1, StringOf(p, "description"));
    body.String(2, StringOf(p, "name"));
    body.String(3, in);
    body.Bool(4, BoolOf(p, "required"));
    if (const json::object* schema = JsonObject(p, "schema")) body.Message(5, SchemaProto(*schema));
    VendorExtensions(body, 6, p);
    parameter.Message(1, body);
  } else {
    // Query and form parameters share one field layout; path and header another.
    bool query_like = in == "query" || in == "formData";
    ProtoWriter sub;
    sub.Bool(1, BoolOf(p, "required"));
    sub.String(2, in);
    sub.String(3, StringOf(p, "description"));
    sub.String(4, StringOf(p, "name"));
    sub.String(query_like ? 6 : 5, StringOf(p, "type"));
    sub.String(query_like ? 7 : 6, StringOf(p, "format"));
    sub.Bool(query_like ? 20 : 19, BoolOf(p, "uniqueItems"));
    VendorExtensions(sub, query_like ? 23 : 22, p);
    int which = in == "header" ? 1 : in == "formData" ? 2 : in == "query" ? 3 : 4;
    ProtoWriter non_body;
    non_body.Message(which, sub);
    parameter.Message(2, non_body);
  }
  item.Message(1, parameter);
  return item;
}

ProtoWriter OperationProto(const json::object& op) {
  ProtoWriter w;
  StringList(w, 1, op, "tags");
  w.String(2, StringOf(op, "summary"));
  w.String(3, StringOf(op, "description"));
  w.String(5, StringOf(op, "operationId"));
  StringList(w, 6, op, "produces");
  StringList(w, 7, op, "consumes");
  if (const json::array* params = JsonArray(op, "parameters")) {
    for (const auto& p : *params) {
      if (p.is_object()) w.Message(8, ParameterProto(p.get_object()));
    }
  }
  if (const json::object* responses = JsonObject(op, "responses")) {
    ProtoWriter list;
    for (const auto& kv : *responses) {
      if (!kv.value().is_object()) continue;
      const json::object& r = kv.value().get_object();
      ProtoWriter response;
      response.String(1, StringOf(r, "description"));
      if (const json::object* schema = JsonObject(r, "schema")) {
        ProtoWriter schema_item;
        schema_item.Message(1, SchemaProto(*schema));
        response.Message(2, schema_item);
      }
      ProtoWriter value;
      value.Message(1, response);
      ProtoWriter named;
      named.String(1, kv.key());
      named.Message(2, value);
      list.Message(1, named);
    }
    w.Message(9, list);
  }
  StringList(w, 10, op, "schemes");
  w.Bool(11, BoolOf(op, "deprecated"));
  VendorExtensions(w, 13, op);
  return w;
}

std::string SwaggerProtobuf(const json::object& doc) {
  ProtoWriter w;
  w.String(1, StringOf(doc, "swagger"));
  if (const json::object* info = JsonObject(doc, "info")) {
    ProtoWriter i;
    i.String(1, StringOf(*info, "title"));
    i.String(2, StringOf(*info, "version"));
    w.Message(2, i);
  }
  if (const json::object* paths = JsonObject(doc, "paths")) {
    static constexpr std::pair<std::string_view, int> kMethods[] = {
        {"get", 2},     {"put", 3},  {"post", 4}, {"delete", 5},
        {"options", 6}, {"head", 7}, {"patch", 8}};
    ProtoWriter list;
    for (const auto& kv : *paths) {
      if (!kv.value().is_object()) continue;
      const json::object& item = kv.value().get_object();
      ProtoWriter path_item;
      for (const auto& [method, field] : kMethods) {
        if (const json::object* op = JsonObject(item, method)) {
          path_item.Message(field, OperationProto(*op));
        }
      }
      if (const json::array* params = JsonArray(item, "parameters")) {
        for (const auto& p : *params) {
          if (p.is_object()) path_item.Message(9, ParameterProto(p.get_object()));
        }
      }
      VendorExtensions(path_item, 10, item);
      ProtoWriter named;
      named.String(1, kv.key());
      named.Message(2, path_item);
      list.Message(2, named);
    }
    w.Message(8, list);
  }
  if (const json::object* defs = JsonObject(doc, "definitions")) {
    ProtoWriter definitions;
    for (const auto& kv : *defs) {
      if (!kv.value().is_object()) continue;
      ProtoWriter named;
      named.String(1, kv.key());
      named.Message(2, SchemaProto(kv.value().get_object()));
      definitions.Message(1, named);
    }
    w.Message(9, definitions);
  }
  if (const json::array* security = JsonArray(doc, "security")) {
    for (const auto& requirement : *security) {
      if (!requirement.is_object()) continue;
      ProtoWriter r;
      for (const auto& kv : requirement.get_object()) {
        ProtoWriter scopes;  // StringArray
        if (kv.value().is_array()) {
          for (const auto& v : kv.value().get_array()) {
            if (v.is_string()) scopes.Bytes(1, v.get_string());
          }
        }
        ProtoWriter named;
        named.String(1, kv.key());
        named.Message(2, scopes);
        r.Message(1, named);
      }
      w.Message(12, r);
    }
  }
  if (const json::object* defs = JsonObject(doc, "securityDefinitions")) {
    ProtoWriter definitions;
    for (const auto& kv : *defs) {
      if (!kv.value().is_object()) continue;
      const json::object& d = kv.value().get_object();
      if (StringOf(d, "type") != "apiKey") continue;  // the only scheme we publish
      ProtoWriter api_key;
      api_key.String(1, StringOf(d, "type"));
      api_key.String(2, StringOf(d, "name"));
      api_key.String(3, StringOf(d, "in"));
      api_key.String(4, StringOf(d, "description"));
      ProtoWriter item;
      item.Message(2, api_key);
      ProtoWriter named;
      named.String(1, kv.key());
      named.Message(2, item);
      definitions.Message(1, named);
    }
    w.Message(13, definitions);
  }
  return w.bytes();
}

}  // namespace

OpenApiV3Set OpenApiV3Set::Build(const ServedApis& apis) {
  OpenApiV3Set set;
  json::object paths;
  for (const auto& path : V3Paths(apis)) {
    std::optional<std::string> doc = RenderV3(apis, path);
    if (!doc) continue;
    OpenApiV3Document entry{std::move(*doc), ""};
    entry.hash = DocumentHash(entry.json);
    paths[path] =
        json::object{{"serverRelativeURL", "/openapi/v3/" + path + "?hash=" + entry.hash}};
    set.documents_.emplace(path, std::move(entry));
  }
  set.index_ = json::serialize(json::object{{"paths", std::move(paths)}});
  return set;
}

const OpenApiV3Document* OpenApiV3Set::Find(std::string_view path) const {
  auto it = documents_.find(path);
  return it == documents_.end() ? nullptr : &it->second;
}

std::string OpenApiV3Index(const ServedApis& apis) { return OpenApiV3Set::Build(apis).index(); }

std::string OpenApiV3Index(const api::Catalogue& catalogue) {
  return OpenApiV3Index(ServedApis::Of(catalogue));
}

std::optional<std::string> OpenApiV3GroupVersion(const ServedApis& apis, std::string_view path) {
  return RenderV3(apis, path);
}

std::optional<std::string> OpenApiV3GroupVersion(const api::Catalogue& catalogue,
                                                 std::string_view path) {
  return RenderV3(ServedApis::Of(catalogue), path);
}

std::string OpenApiV2(const ServedApis& apis) { return json::serialize(SwaggerDocument(apis)); }

std::string OpenApiV2(const api::Catalogue& catalogue) {
  return OpenApiV2(ServedApis::Of(catalogue));
}

std::string OpenApiV2Protobuf(const ServedApis& apis) {
  return SwaggerProtobuf(SwaggerDocument(apis));
}

std::string OpenApiV2Protobuf(const api::Catalogue& catalogue) {
  return OpenApiV2Protobuf(ServedApis::Of(catalogue));
}

}  // namespace skiff
