#include "apiserver/openapi.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/schema.h"

namespace skiff {
namespace {

namespace json = boost::json;
using api::SchemaType;

// A tiny hand-built catalogue: example.com/v1 Widget (namespaced, with status and
// scale) and core/v1 Gadget (cluster-scoped), with a schema exercising every kind of
// node: named and inline objects, list-maps with merge keys, maps, enums, defaults,
// int-or-string and quantity.
class TinyApis {
 public:
  TinyApis() {
    const api::Schema* str = Primitive(SchemaType::kString);
    const api::Schema* int32 = Primitive(SchemaType::kInteger, "int32");

    api::Schema* meta =
        Named("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "Standard object metadata.");
    Field(meta, "name", str, "Name of the object.");
    Field(meta, "labels", MapOf(str), "Labels of the object.");

    api::Schema* container = Named("com.example.v1.Container", "A container of a widget.");
    Field(container, "name", str, "Name of the container.", true);
    Field(container, "image", str, "Image to run.");
    api::Schema* port = Node();
    port->type = SchemaType::kIntOrString;
    Field(container, "port", port, "Port number or name.");
    api::Schema* memory = Node();
    memory->type = SchemaType::kQuantity;
    Field(container, "memory", memory, "Memory limit.");

    api::Schema* spec = Named("com.example.v1.WidgetSpec", "The desired state of a widget.");
    api::Schema* containers = Node();
    containers->type = SchemaType::kArray;
    containers->items = container;
    containers->list_type = "map";
    containers->list_map_keys = {"name"};
    containers->patch_strategy = "merge";
    containers->patch_merge_key = "name";
    Field(spec, "containers", containers, "Containers of the widget.", true);
    api::Schema* mode = Node();
    mode->type = SchemaType::kString;
    mode->enum_values = {"Fast", "Slow"};
    Field(spec, "mode", mode, "How fast the widget spins.");
    api::Property& replicas = Field(spec, "replicas", int32, "Number of copies.");
    replicas.default_json = "1";
    api::Schema* strategy = Named("com.example.v1.Strategy", "How a widget is replaced.");
    Field(strategy, "type", str, "Recreate or Rolling.");
    Field(spec, "strategy", strategy, "How widgets are replaced.").patch_strategy = "retainKeys";
    api::Schema* extra = Named("com.example.v1.Extra", "Anything at all.");
    extra->preserve_unknown_fields = true;
    Field(spec, "extra", extra, "Free-form settings.");

    api::Schema* widget = Named("com.example.v1.Widget", "A widget.");
    widget->gvk_group = "example.com";
    widget->gvk_version = "v1";
    widget->gvk_kind = "Widget";
    Field(widget, "apiVersion", str, "API version.");
    Field(widget, "kind", str, "Kind.");
    Field(widget, "metadata", meta, "Standard object metadata.").default_json = "{}";
    Field(widget, "spec", spec, "Spec of the widget.");

    api::Schema* gadget = Named("io.k8s.api.core.v1.Gadget", "A gadget.");
    Field(gadget, "metadata", meta, "Standard object metadata.");

    Add({.group = "example.com",
         .version = "v1",
         .plural = "widgets",
         .singular = "widget",
         .kind = "Widget",
         .short_names = {"wd"},
         .subresources = {"status", "scale", "log"},
         .schema = widget});
    Add({.group = "",
         .version = "v1",
         .plural = "gadgets",
         .singular = "gadget",
         .kind = "Gadget",
         .namespaced = false,
         .schema = gadget});
    apis_.group_versions = {{"", {"v1"}}, {"example.com", {"v1"}}};
    apis_.group_order = {"", "example.com"};
    apis_.types = &types_;
  }

  const ServedApis& apis() const { return apis_; }

 private:
  api::Schema* Node() { return &nodes_.emplace_back(); }
  api::Schema* Named(std::string name, std::string description) {
    api::Schema* s = Node();
    s->name = name;
    s->description = std::move(description);
    types_[name] = s;
    return s;
  }
  const api::Schema* Primitive(SchemaType type, std::string format = "") {
    api::Schema* s = Node();
    s->type = type;
    s->format = std::move(format);
    return s;
  }
  const api::Schema* MapOf(const api::Schema* values) {
    api::Schema* s = Node();
    s->type = SchemaType::kMap;
    s->items = values;
    return s;
  }
  static api::Property& Field(api::Schema* s, std::string name, const api::Schema* type,
                              std::string description, bool required = false) {
    api::Property& p = s->properties.emplace_back();
    p.name = std::move(name);
    p.schema = type;
    p.description = std::move(description);
    p.required = required;
    return p;
  }
  void Add(api::ResourceDecl decl) {
    const api::ResourceDecl& d = decls_.emplace_back(std::move(decl));
    api::ResourceInfo& info = infos_.emplace_back();
    info.decl = &d;
    info.group_version = d.group.empty() ? d.version : d.group + "/" + d.version;
    info.list_kind = d.kind + "List";
    apis_.resources.push_back(&info);
  }

  std::deque<api::Schema> nodes_;
  std::map<std::string, const api::Schema*, std::less<>> types_;
  std::deque<api::ResourceDecl> decls_;
  std::deque<api::ResourceInfo> infos_;
  ServedApis apis_;
};

json::object Parse(const std::string& text) { return json::parse(text).as_object(); }

json::object V3(const TinyApis& tiny, std::string_view path) {
  auto text = OpenApiV3GroupVersion(tiny.apis(), path);
  EXPECT_TRUE(text) << path;
  return text ? Parse(*text) : json::object{};
}

const json::object& Schemas(const json::object& doc) {
  return doc.at("components").as_object().at("schemas").as_object();
}

json::object Gvk(std::string_view group, std::string_view version, std::string_view kind) {
  return json::object{{"group", group}, {"kind", kind}, {"version", version}};
}

// Follows "$ref" and a lone "allOf" reference to the schema they name.
const json::object& Resolve(const json::object& doc, const json::object& schema) {
  const json::object* s = &schema;
  for (int i = 0; i < 8; ++i) {
    if (auto it = s->find("allOf"); it != s->end() && it->value().as_array().size() == 1) {
      s = &it->value().as_array()[0].as_object();
      continue;
    }
    if (auto it = s->find("$ref"); it != s->end()) {
      std::string_view ref = it->value().as_string();
      constexpr std::string_view kPrefix = "#/components/schemas/";
      EXPECT_TRUE(ref.starts_with(kPrefix)) << ref;
      s = &Schemas(doc).at(ref.substr(kPrefix.size())).as_object();
      continue;
    }
    break;
  }
  return *s;
}

// What `kubectl explain <resource>.<fields...>` does with an OpenAPI v3 document: the
// GVK of the resource from the operations of its paths, the definition carrying that
// GVK, then the fields through references, arrays and maps. Returns the last field's
// schema (unresolved), or nullptr.
const json::object* Explain(const json::object& doc, const std::string& prefix,
                            const std::string& plural, bool namespaced,
                            const std::vector<std::string>& fields) {
  const json::object& paths = doc.at("paths").as_object();
  std::string path = prefix + (namespaced ? "/namespaces/{namespace}/" : "/") + plural;
  auto item = paths.find(path);
  if (item == paths.end()) return nullptr;
  const json::value* gvk = nullptr;
  for (const char* method : {"get", "post", "put", "patch", "delete"}) {
    if (auto op = item->value().as_object().find(method); op != item->value().as_object().end()) {
      if (auto g = op->value().as_object().find("x-kubernetes-group-version-kind");
          g != op->value().as_object().end()) {
        gvk = &g->value();
        break;
      }
    }
  }
  if (gvk == nullptr) return nullptr;
  const json::object* current = nullptr;
  for (const auto& def : Schemas(doc)) {
    auto list = def.value().as_object().find("x-kubernetes-group-version-kind");
    if (list == def.value().as_object().end()) continue;
    for (const auto& entry : list->value().as_array()) {
      if (entry == *gvk) current = &def.value().as_object();
    }
  }
  if (current == nullptr) return nullptr;
  for (const auto& field : fields) {
    const json::object* resolved = &Resolve(doc, *current);
    while (resolved->contains("items") || resolved->contains("additionalProperties")) {
      resolved = &Resolve(doc, resolved->contains("items")
                                   ? resolved->at("items").as_object()
                                   : resolved->at("additionalProperties").as_object());
    }
    auto props = resolved->find("properties");
    if (props == resolved->end()) return nullptr;
    auto next = props->value().as_object().find(field);
    if (next == props->value().as_object().end()) return nullptr;
    current = &next->value().as_object();
  }
  return current;
}

// Every "$ref" anywhere in `v`.
void CollectRefs(const json::value& v, std::vector<std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      if (kv.key() == "$ref" && kv.value().is_string()) {
        out.emplace_back(kv.value().as_string());
      } else {
        CollectRefs(kv.value(), out);
      }
    }
  } else if (v.is_array()) {
    for (const auto& e : v.as_array()) CollectRefs(e, out);
  }
}

bool HasQueryParam(const json::object& op, std::string_view name) {
  auto params = op.find("parameters");
  if (params == op.end()) return false;
  for (const auto& p : params->value().as_array()) {
    const json::object& o = p.as_object();
    if (o.at("name") == json::value(name) && o.at("in") == "query") return true;
  }
  return false;
}

TEST(OpenApiV3Test, IndexLinksEveryDocumentByItsHash) {
  TinyApis tiny;
  OpenApiV3Set set = OpenApiV3Set::Build(tiny.apis());
  json::object index = Parse(set.index());
  const json::object& paths = index.at("paths").as_object();
  for (const char* path :
       {"api", "api/v1", "apis", "apis/example.com", "apis/example.com/v1", "version"}) {
    ASSERT_TRUE(paths.contains(path)) << path;
    const OpenApiV3Document* doc = set.Find(path);
    ASSERT_NE(doc, nullptr) << path;
    EXPECT_EQ(doc->hash, DocumentHash(doc->json));
    EXPECT_EQ(paths.at(path).as_object().at("serverRelativeURL"),
              json::value("/openapi/v3/" + std::string(path) + "?hash=" + doc->hash));
    // The standalone renderer produces the very same bytes.
    EXPECT_EQ(OpenApiV3GroupVersion(tiny.apis(), path), doc->json);
  }
  EXPECT_EQ(paths.size(), 6u);
  EXPECT_EQ(OpenApiV3Index(tiny.apis()), set.index());
}

TEST(OpenApiV3Test, UnservedPathsAreAbsent) {
  TinyApis tiny;
  EXPECT_FALSE(OpenApiV3GroupVersion(tiny.apis(), "api/v2"));
  EXPECT_FALSE(OpenApiV3GroupVersion(tiny.apis(), "apis/apps/v1"));
  EXPECT_FALSE(OpenApiV3GroupVersion(tiny.apis(), "apis/example.com/v2"));
  EXPECT_FALSE(OpenApiV3GroupVersion(tiny.apis(), "apis/example.com/v1/extra"));
  EXPECT_FALSE(OpenApiV3GroupVersion(tiny.apis(), "nonsense"));
  EXPECT_EQ(OpenApiV3Set::Build(tiny.apis()).Find("apis/apps/v1"), nullptr);
}

TEST(OpenApiV3Test, EveryReferenceResolves) {
  TinyApis tiny;
  for (const char* path :
       {"api", "api/v1", "apis", "apis/example.com", "apis/example.com/v1", "version"}) {
    json::object doc = V3(tiny, path);
    EXPECT_EQ(doc.at("openapi"), "3.0.0");
    std::vector<std::string> refs;
    CollectRefs(doc, refs);
    EXPECT_FALSE(refs.empty()) << path;
    for (const auto& ref : refs) {
      ASSERT_TRUE(ref.starts_with("#/components/schemas/")) << ref;
      EXPECT_TRUE(Schemas(doc).contains(ref.substr(21))) << path << ": " << ref;
    }
  }
}

TEST(OpenApiV3Test, KindsCarryTheirGroupVersionKind) {
  TinyApis tiny;
  json::object doc = V3(tiny, "apis/example.com/v1");
  const json::object& schemas = Schemas(doc);
  EXPECT_EQ(schemas.at("com.example.v1.Widget").as_object().at("x-kubernetes-group-version-kind"),
            json::array{Gvk("example.com", "v1", "Widget")});
  const json::object& list = schemas.at("com.example.v1.WidgetList").as_object();
  EXPECT_EQ(list.at("x-kubernetes-group-version-kind"),
            json::array{Gvk("example.com", "v1", "WidgetList")});
  EXPECT_EQ(list.at("required"), json::array{"items"});
  EXPECT_EQ(
      Resolve(doc,
              list.at("properties").as_object().at("items").as_object().at("items").as_object()),
      schemas.at("com.example.v1.Widget"));
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"));
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.Status"));
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"));
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"));
  EXPECT_TRUE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.Patch"));
  EXPECT_TRUE(schemas.contains("io.k8s.api.autoscaling.v1.Scale"));
  // The core kind belongs to the other document.
  EXPECT_FALSE(schemas.contains("io.k8s.api.core.v1.Gadget"));
}

TEST(OpenApiV3Test, PropertiesFollowKubernetesConventions) {
  TinyApis tiny;
  json::object doc = V3(tiny, "apis/example.com/v1");
  const json::object& schemas = Schemas(doc);

  const json::object& widget = schemas.at("com.example.v1.Widget").as_object();
  EXPECT_EQ(widget.at("type"), "object");
  EXPECT_EQ(widget.at("description"), "A widget.");
  // A described reference is wrapped in allOf, with its default.
  const json::object& metadata = widget.at("properties").as_object().at("metadata").as_object();
  EXPECT_EQ(
      metadata.at("allOf"),
      (json::array{json::object{
          {"$ref", "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}}}));
  EXPECT_EQ(metadata.at("description"), "Standard object metadata.");
  EXPECT_EQ(metadata.at("default"), json::object{});

  const json::object& spec = schemas.at("com.example.v1.WidgetSpec").as_object();
  EXPECT_EQ(spec.at("required"), json::array{"containers"});
  const json::object& props = spec.at("properties").as_object();
  const json::object& containers = props.at("containers").as_object();
  EXPECT_EQ(containers.at("type"), "array");
  EXPECT_EQ(containers.at("x-kubernetes-list-type"), "map");
  EXPECT_EQ(containers.at("x-kubernetes-list-map-keys"), json::array{"name"});
  EXPECT_EQ(containers.at("x-kubernetes-patch-strategy"), "merge");
  EXPECT_EQ(containers.at("x-kubernetes-patch-merge-key"), "name");
  EXPECT_EQ(containers.at("items"),
            (json::object{{"$ref", "#/components/schemas/com.example.v1.Container"}}));
  EXPECT_EQ(props.at("mode").as_object().at("enum"), (json::array{"Fast", "Slow"}));
  EXPECT_EQ(props.at("replicas"), (json::object{{"default", 1},
                                                {"description", "Number of copies."},
                                                {"format", "int32"},
                                                {"type", "integer"}}));

  // Int-or-string and quantity are the named types of Kubernetes.
  const json::object& container = schemas.at("com.example.v1.Container").as_object();
  const json::object& port = container.at("properties").as_object().at("port").as_object();
  EXPECT_EQ(Resolve(doc, port), schemas.at("io.k8s.apimachinery.pkg.util.intstr.IntOrString"));
  const json::object& int_or_string =
      schemas.at("io.k8s.apimachinery.pkg.util.intstr.IntOrString").as_object();
  EXPECT_EQ(int_or_string.at("format"), "int-or-string");
  EXPECT_EQ(int_or_string.at("x-kubernetes-int-or-string"), true);
  const json::object& memory = container.at("properties").as_object().at("memory").as_object();
  const json::object& quantity =
      schemas.at("io.k8s.apimachinery.pkg.api.resource.Quantity").as_object();
  EXPECT_EQ(Resolve(doc, memory), quantity);
  EXPECT_EQ(quantity.at("oneOf"),
            (json::array{json::object{{"type", "string"}}, json::object{{"type", "number"}}}));
}

TEST(OpenApiV3Test, FieldPatchStrategySitsBesideTheReference) {
  TinyApis tiny;
  json::object doc = V3(tiny, "apis/example.com/v1");
  const json::object& spec = Schemas(doc).at("com.example.v1.WidgetSpec").as_object();
  const json::object& strategy = spec.at("properties").as_object().at("strategy").as_object();
  EXPECT_EQ(strategy.at("x-kubernetes-patch-strategy"), "retainKeys");
  EXPECT_EQ(strategy.at("allOf"),
            (json::array{json::object{{"$ref", "#/components/schemas/com.example.v1.Strategy"}}}));
  // The named type itself carries no field's merge strategy.
  EXPECT_FALSE(Schemas(doc)
                   .at("com.example.v1.Strategy")
                   .as_object()
                   .contains("x-kubernetes-patch-strategy"));
  const json::object& extra = Schemas(doc).at("com.example.v1.Extra").as_object();
  EXPECT_EQ(extra.at("type"), "object");
  EXPECT_EQ(extra.at("x-kubernetes-preserve-unknown-fields"), true);
}

TEST(OpenApiV3Test, ExplainFindsFieldsByGroupVersionKind) {
  TinyApis tiny;
  json::object doc = V3(tiny, "apis/example.com/v1");
  const json::object* containers =
      Explain(doc, "/apis/example.com/v1", "widgets", true, {"spec", "containers"});
  ASSERT_NE(containers, nullptr);
  EXPECT_EQ(containers->at("description"), "Containers of the widget.");
  EXPECT_EQ(containers->at("type"), "array");
  const json::object* image =
      Explain(doc, "/apis/example.com/v1", "widgets", true, {"spec", "containers", "image"});
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->at("description"), "Image to run.");
  EXPECT_EQ(image->at("type"), "string");
  EXPECT_EQ(Explain(doc, "/apis/example.com/v1", "widgets", true, {"spec", "nope"}), nullptr);

  json::object core = V3(tiny, "api/v1");
  const json::object* name = Explain(core, "/api/v1", "gadgets", false, {"metadata", "name"});
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->at("description"), "Name of the object.");
}

// kubectl enables server-side field validation only if the PATCH operation of the
// kind lists a fieldValidation query parameter; it checks whichever PATCH operation
// with that GVK it meets first, so every one of them must.
TEST(OpenApiV3Test, EveryPatchOperationOfAKindOffersFieldValidation) {
  TinyApis tiny;
  struct Case {
    const char* doc;
    json::object gvk;
    size_t patches;
  };
  for (const Case& c : {Case{"apis/example.com/v1", Gvk("example.com", "v1", "Widget"), 2},
                        Case{"apis/example.com/v1", Gvk("autoscaling", "v1", "Scale"), 1},
                        Case{"api/v1", Gvk("", "v1", "Gadget"), 1}}) {
    json::object doc = V3(tiny, c.doc);
    size_t found = 0;
    for (const auto& item : doc.at("paths").as_object()) {
      auto patch = item.value().as_object().find("patch");
      if (patch == item.value().as_object().end()) continue;
      const json::object& op = patch->value().as_object();
      if (op.at("x-kubernetes-group-version-kind") != c.gvk) continue;
      ++found;
      EXPECT_EQ(op.at("x-kubernetes-action"), "patch");
      for (const char* param : {"dryRun", "fieldManager", "fieldValidation", "force"}) {
        EXPECT_TRUE(HasQueryParam(op, param)) << item.key() << " " << param;
      }
      const json::object& content = op.at("requestBody").as_object().at("content").as_object();
      EXPECT_TRUE(content.contains("application/apply-patch+yaml"));
      EXPECT_TRUE(content.contains("application/strategic-merge-patch+json"));
    }
    EXPECT_EQ(found, c.patches) << c.doc << " " << json::serialize(c.gvk);
  }
}

TEST(OpenApiV3Test, ResourcesHaveTheStandardOperations) {
  TinyApis tiny;
  json::object doc = V3(tiny, "apis/example.com/v1");
  const json::object& paths = doc.at("paths").as_object();
  const json::object gvk = Gvk("example.com", "v1", "Widget");
  struct Expected {
    const char* path;
    const char* method;
    const char* action;
    const char* operation_id;
  };
  const std::string base = "/apis/example.com/v1";
  for (const Expected& e : {
           Expected{"/namespaces/{namespace}/widgets", "get", "list",
                    "listExampleComV1NamespacedWidget"},
           Expected{"/namespaces/{namespace}/widgets", "post", "post",
                    "createExampleComV1NamespacedWidget"},
           Expected{"/namespaces/{namespace}/widgets", "delete", "deletecollection",
                    "deleteExampleComV1CollectionNamespacedWidget"},
           Expected{"/namespaces/{namespace}/widgets/{name}", "get", "get",
                    "readExampleComV1NamespacedWidget"},
           Expected{"/namespaces/{namespace}/widgets/{name}", "put", "put",
                    "replaceExampleComV1NamespacedWidget"},
           Expected{"/namespaces/{namespace}/widgets/{name}", "delete", "delete",
                    "deleteExampleComV1NamespacedWidget"},
           Expected{"/namespaces/{namespace}/widgets/{name}/status", "get", "get",
                    "readExampleComV1NamespacedWidgetStatus"},
           Expected{"/widgets", "get", "list", "listExampleComV1WidgetForAllNamespaces"},
           Expected{"/watch/namespaces/{namespace}/widgets", "get", "watchlist",
                    "watchExampleComV1NamespacedWidgetList"},
           Expected{"/watch/namespaces/{namespace}/widgets/{name}", "get", "watch",
                    "watchExampleComV1NamespacedWidget"},
           Expected{"/watch/widgets", "get", "watchlist",
                    "watchExampleComV1WidgetListForAllNamespaces"},
       }) {
    std::string path = base + e.path;
    ASSERT_TRUE(paths.contains(path)) << path;
    const json::object& item = paths.at(path).as_object();
    ASSERT_TRUE(item.contains(e.method)) << path << " " << e.method;
    const json::object& op = item.at(e.method).as_object();
    EXPECT_EQ(op.at("x-kubernetes-action"), e.action) << path;
    EXPECT_EQ(op.at("operationId"), e.operation_id) << path;
    EXPECT_EQ(op.at("x-kubernetes-group-version-kind"), gvk) << path;
    EXPECT_EQ(op.at("tags"), json::array{"exampleCom_v1"});
  }
  const json::object& list = paths.at(base + "/namespaces/{namespace}/widgets").as_object();
  EXPECT_TRUE(HasQueryParam(list.at("get").as_object(), "labelSelector"));
  EXPECT_TRUE(HasQueryParam(list.at("get").as_object(), "watch"));
  EXPECT_TRUE(HasQueryParam(list.at("post").as_object(), "fieldValidation"));
  const json::array& params = list.at("parameters").as_array();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].as_object().at("name"), "namespace");
  EXPECT_EQ(params[0].as_object().at("in"), "path");
  EXPECT_EQ(params[0].as_object().at("required"), true);
  EXPECT_TRUE(paths.contains(base + "/"));
  // Streaming subresources are not described.
  EXPECT_FALSE(paths.contains(base + "/namespaces/{namespace}/widgets/{name}/log"));
  // The scale subresource speaks autoscaling/v1 Scale.
  const json::object& scale =
      paths.at(base + "/namespaces/{namespace}/widgets/{name}/scale").as_object();
  EXPECT_EQ(scale.at("put").as_object().at("x-kubernetes-group-version-kind"),
            Gvk("autoscaling", "v1", "Scale"));
  EXPECT_EQ(scale.at("get").as_object().at("operationId"), "readExampleComV1NamespacedWidgetScale");
}

TEST(OpenApiV3Test, ClusterScopedResourcesHaveNoNamespaceInTheirPaths) {
  TinyApis tiny;
  json::object doc = V3(tiny, "api/v1");
  const json::object& paths = doc.at("paths").as_object();
  EXPECT_TRUE(paths.contains("/api/v1/gadgets"));
  EXPECT_TRUE(paths.contains("/api/v1/gadgets/{name}"));
  EXPECT_TRUE(paths.contains("/api/v1/watch/gadgets"));
  EXPECT_TRUE(paths.contains("/api/v1/watch/gadgets/{name}"));
  EXPECT_EQ(
      paths.at("/api/v1/gadgets/{name}").as_object().at("patch").as_object().at("operationId"),
      "patchCoreV1Gadget");
  EXPECT_EQ(paths.at("/api/v1/gadgets").as_object().at("get").as_object().at("tags"),
            json::array{"core_v1"});
}

TEST(OpenApiV2Test, SwaggerDocumentHasDefinitionsAndPatchParameters) {
  TinyApis tiny;
  json::object doc = Parse(OpenApiV2(tiny.apis()));
  EXPECT_EQ(doc.at("swagger"), "2.0");
  const json::object& defs = doc.at("definitions").as_object();
  EXPECT_TRUE(defs.contains("com.example.v1.Widget"));
  EXPECT_TRUE(defs.contains("io.k8s.api.core.v1.Gadget"));
  EXPECT_EQ(defs.at("io.k8s.apimachinery.pkg.api.resource.Quantity").as_object().at("type"),
            "string");
  EXPECT_EQ(defs.at("io.k8s.apimachinery.pkg.util.intstr.IntOrString").as_object().at("format"),
            "int-or-string");

  std::vector<std::string> refs;
  CollectRefs(doc, refs);
  for (const auto& ref : refs) {
    ASSERT_TRUE(ref.starts_with("#/definitions/")) << ref;
    EXPECT_TRUE(defs.contains(ref.substr(14))) << ref;
  }

  const json::object& paths = doc.at("paths").as_object();
  EXPECT_TRUE(paths.contains("/api/"));
  EXPECT_TRUE(paths.contains("/apis/"));
  EXPECT_TRUE(paths.contains("/apis/example.com/"));
  EXPECT_TRUE(paths.contains("/version/"));
  const json::object& patch = paths.at("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}")
                                  .as_object()
                                  .at("patch")
                                  .as_object();
  EXPECT_EQ(patch.at("x-kubernetes-group-version-kind"), Gvk("example.com", "v1", "Widget"));
  bool found = false;
  for (const auto& p : patch.at("parameters").as_array()) {
    const json::object& o = p.as_object();
    if (o.at("name") == "fieldValidation") {
      found = true;
      EXPECT_EQ(o.at("in"), "query");
      EXPECT_EQ(o.at("type"), "string");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(patch.at("consumes").as_array().size() == 4);
  // A described reference keeps its description beside $ref in Swagger 2.0.
  const json::object& metadata = defs.at("com.example.v1.Widget")
                                     .as_object()
                                     .at("properties")
                                     .as_object()
                                     .at("metadata")
                                     .as_object();
  EXPECT_EQ(metadata.at("$ref"), "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
}

// A minimal protobuf reader for the tests: the length-delimited fields `number` of a
// message, in order.
std::vector<std::string> Submessages(std::string_view msg, int number) {
  std::vector<std::string> out;
  size_t i = 0;
  auto varint = [&]() {
    uint64_t v = 0;
    for (int shift = 0; i < msg.size(); shift += 7) {
      auto b = static_cast<unsigned char>(msg[i++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    return v;
  };
  while (i < msg.size()) {
    uint64_t key = varint();
    int field = static_cast<int>(key >> 3);
    switch (key & 7) {
      case 0: varint(); break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2: {
        uint64_t len = varint();
        if (field == number) out.emplace_back(msg.substr(i, len));
        i += len;
        break;
      }
      default: ADD_FAILURE() << "unexpected wire type"; return out;
    }
  }
  return out;
}

std::string First(std::string_view msg, int number) {
  auto all = Submessages(msg, number);
  return all.empty() ? std::string() : all.front();
}

// A repeated Named* message (name = 1, value = 2) as a map.
std::map<std::string, std::string> Named(std::string_view msg, int number) {
  std::map<std::string, std::string> out;
  for (const auto& entry : Submessages(msg, number)) out[First(entry, 1)] = First(entry, 2);
  return out;
}

TEST(OpenApiV2Test, ProtobufEncodingCarriesWhatKubectlReads) {
  TinyApis tiny;
  std::string pb = OpenApiV2Protobuf(tiny.apis());
  json::object doc = Parse(OpenApiV2(tiny.apis()));
  EXPECT_EQ(First(pb, 1), "2.0");  // Document.swagger

  auto paths = Named(First(pb, 8), 2);  // Paths.path
  EXPECT_EQ(paths.size(), doc.at("paths").as_object().size());
  const std::string& item = paths.at("/apis/example.com/v1/namespaces/{namespace}/widgets/{name}");
  std::string patch = First(item, 8);  // PathItem.patch
  ASSERT_FALSE(patch.empty());
  EXPECT_EQ(First(patch, 5), "patchExampleComV1NamespacedWidget");
  auto extensions = Named(patch, 13);  // Operation.vendor_extension
  EXPECT_EQ(json::parse(First(extensions.at("x-kubernetes-group-version-kind"), 2)),
            Gvk("example.com", "v1", "Widget"));  // Any.yaml
  EXPECT_EQ(json::parse(First(extensions.at("x-kubernetes-action"), 2)), "patch");
  std::vector<std::string> query_params;
  bool body = false;
  for (const auto& p : Submessages(patch, 8)) {  // Operation.parameters
    std::string parameter = First(p, 1);
    if (!First(parameter, 1).empty()) body = true;      // Parameter.body_parameter
    std::string query = First(First(parameter, 2), 3);  // NonBody.query_parameter_sub_schema
    if (!query.empty()) {
      EXPECT_EQ(First(query, 2), "query");
      query_params.push_back(First(query, 4));
    }
  }
  EXPECT_TRUE(body);
  EXPECT_EQ(query_params,
            (std::vector<std::string>{"dryRun", "fieldManager", "fieldValidation", "force"}));
  // Path-level parameters: name and namespace in the path, pretty in the query.
  EXPECT_EQ(Submessages(item, 9).size(), 3u);

  auto definitions = Named(First(pb, 9), 1);  // Definitions.additional_properties
  EXPECT_EQ(definitions.size(), doc.at("definitions").as_object().size());
  const std::string& widget = definitions.at("com.example.v1.Widget");
  EXPECT_EQ(First(First(widget, 22), 1), "object");  // Schema.type
  auto props = Named(First(widget, 25), 1);          // Schema.properties
  EXPECT_EQ(First(props.at("metadata"), 1),
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  auto widget_extensions = Named(widget, 31);
  EXPECT_EQ(json::parse(First(widget_extensions.at("x-kubernetes-group-version-kind"), 2)),
            json::array{Gvk("example.com", "v1", "Widget")});
  const std::string& spec = definitions.at("com.example.v1.WidgetSpec");
  const std::string containers = Named(First(spec, 25), 1).at("containers");
  EXPECT_EQ(First(First(First(containers, 23), 1), 1),  // Schema.items[0]._ref
            "#/definitions/com.example.v1.Container");
  auto container_extensions = Named(containers, 31);
  EXPECT_EQ(json::parse(First(container_extensions.at("x-kubernetes-patch-merge-key"), 2)), "name");
}

}  // namespace
}  // namespace skiff
