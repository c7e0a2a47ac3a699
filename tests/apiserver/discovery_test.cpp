#include "apiserver/discovery.h"

#include <deque>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "api/catalogue.h"
#include "api/schema.h"

namespace skiff {
namespace {

namespace json = boost::json;

// A tiny hand-built catalogue: a namespaced and a cluster-scoped core kind, and one
// kind of group example.com served at v1 (preferred) and v1beta1.
class TinyApis {
 public:
  TinyApis() {
    api::Schema* gizmo = Node("io.k8s.api.core.v1.Gizmo");
    api::Schema* gadget = Node("io.k8s.api.core.v1.Gadget");
    api::Schema* widget = Node("com.example.v1.Widget");

    Add({.group = "",
         .version = "v1",
         .plural = "gizmos",
         .singular = "gizmo",
         .kind = "Gizmo",
         .namespaced = true,
         .short_names = {"gz"},
         .categories = {"all"},
         .subresources = {"status", "eviction", "binding"},
         .schema = gizmo});
    Add({.group = "",
         .version = "v1",
         .plural = "gadgets",
         .singular = "gadget",
         .kind = "Gadget",
         .namespaced = false,
         .verbs = {"list", "get", "create"},
         .schema = gadget});
    Add({.group = "example.com",
         .version = "v1",
         .plural = "widgets",
         .singular = "widget",
         .kind = "Widget",
         .short_names = {"wd"},
         .subresources = {"status", "scale"},
         .schema = widget});
    Add({.group = "example.com",
         .version = "v1beta1",
         .plural = "widgets",
         .singular = "widget",
         .kind = "Widget",
         .schema = widget});
    apis_.group_versions = {{"", {"v1"}}, {"example.com", {"v1", "v1beta1"}}};
    apis_.group_order = {"", "example.com"};
  }

  const ServedApis& apis() const { return apis_; }

 private:
  api::Schema* Node(std::string name) {
    api::Schema& s = nodes_.emplace_back();
    s.name = std::move(name);
    return &s;
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
  std::deque<api::ResourceDecl> decls_;
  std::deque<api::ResourceInfo> infos_;
  ServedApis apis_;
};

json::object Parse(const std::string& text) { return json::parse(text).as_object(); }

const json::object* FindByField(const json::array& list, std::string_view field,
                                std::string_view value) {
  for (const auto& v : list) {
    const json::object& o = v.as_object();
    if (auto it = o.find(field); it != o.end() && it->value() == json::value(value)) return &o;
  }
  return nullptr;
}

json::array Strings(std::initializer_list<std::string_view> values) {
  json::array out;
  for (auto v : values) out.emplace_back(v);
  return out;
}

TEST(DiscoveryTest, LegacyApiVersionsNamesTheServerAddress) {
  json::object doc = Parse(LegacyApiVersions("10.1.2.3:6443"));
  EXPECT_EQ(doc.at("kind"), "APIVersions");
  EXPECT_EQ(doc.at("versions"), Strings({"v1"}));
  const json::object& cidr = doc.at("serverAddressByClientCIDRs").as_array().at(0).as_object();
  EXPECT_EQ(cidr.at("clientCIDR"), "0.0.0.0/0");
  EXPECT_EQ(cidr.at("serverAddress"), "10.1.2.3:6443");
}

TEST(DiscoveryTest, ApiGroupListLeavesOutTheCoreGroupAndPrefersTheFirstVersion) {
  TinyApis tiny;
  json::object doc = Parse(ApiGroupList(tiny.apis()));
  EXPECT_EQ(doc.at("kind"), "APIGroupList");
  EXPECT_EQ(doc.at("apiVersion"), "v1");
  const json::array& groups = doc.at("groups").as_array();
  ASSERT_EQ(groups.size(), 1u);
  const json::object& g = groups[0].as_object();
  EXPECT_EQ(g.at("name"), "example.com");
  EXPECT_EQ(g.at("versions").as_array().size(), 2u);
  EXPECT_EQ(g.at("versions").as_array()[1].as_object().at("groupVersion"), "example.com/v1beta1");
  EXPECT_EQ(g.at("preferredVersion").as_object().at("groupVersion"), "example.com/v1");
  EXPECT_EQ(g.at("preferredVersion").as_object().at("version"), "v1");
}

TEST(DiscoveryTest, ApiGroupServesKnownGroupsOnly) {
  TinyApis tiny;
  auto doc = ApiGroup(tiny.apis(), "example.com");
  ASSERT_TRUE(doc);
  json::object group = Parse(*doc);
  EXPECT_EQ(group.at("kind"), "APIGroup");
  EXPECT_EQ(group.at("name"), "example.com");
  EXPECT_EQ(group.at("preferredVersion").as_object().at("version"), "v1");
  EXPECT_FALSE(ApiGroup(tiny.apis(), "nope.example.com"));
  EXPECT_FALSE(ApiGroup(tiny.apis(), ""));
}

TEST(DiscoveryTest, ApiResourceListListsResourcesAndSubresourcesSortedByName) {
  TinyApis tiny;
  auto text = ApiResourceList(tiny.apis(), "", "v1");
  ASSERT_TRUE(text);
  json::object doc = Parse(*text);
  EXPECT_EQ(doc.at("kind"), "APIResourceList");
  EXPECT_EQ(doc.at("groupVersion"), "v1");
  std::vector<std::string> names;
  for (const auto& r : doc.at("resources").as_array()) {
    names.emplace_back(r.as_object().at("name").as_string());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"gadgets", "gizmos", "gizmos/binding",
                                             "gizmos/eviction", "gizmos/status"}));

  const json::array& resources = doc.at("resources").as_array();
  const json::object* gizmos = FindByField(resources, "name", "gizmos");
  ASSERT_NE(gizmos, nullptr);
  EXPECT_EQ(gizmos->at("singularName"), "gizmo");
  EXPECT_EQ(gizmos->at("namespaced"), true);
  EXPECT_EQ(gizmos->at("kind"), "Gizmo");
  EXPECT_EQ(gizmos->at("verbs"), Strings({"create", "delete", "deletecollection", "get", "list",
                                          "patch", "update", "watch"}));
  EXPECT_EQ(gizmos->at("shortNames"), Strings({"gz"}));
  EXPECT_EQ(gizmos->at("categories"), Strings({"all"}));
  EXPECT_EQ(gizmos->at("storageVersionHash"), json::value(StorageVersionHash("", "v1", "Gizmo")));

  const json::object* gadgets = FindByField(resources, "name", "gadgets");
  ASSERT_NE(gadgets, nullptr);
  EXPECT_EQ(gadgets->at("namespaced"), false);
  EXPECT_EQ(gadgets->at("verbs"), Strings({"create", "get", "list"}));
  EXPECT_FALSE(gadgets->contains("shortNames"));

  const json::object* status = FindByField(resources, "name", "gizmos/status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->at("kind"), "Gizmo");
  EXPECT_EQ(status->at("singularName"), "");
  EXPECT_EQ(status->at("verbs"), Strings({"get", "patch", "update"}));
  EXPECT_FALSE(status->contains("group"));
  EXPECT_FALSE(status->contains("storageVersionHash"));

  const json::object* eviction = FindByField(resources, "name", "gizmos/eviction");
  ASSERT_NE(eviction, nullptr);
  EXPECT_EQ(eviction->at("group"), "policy");
  EXPECT_EQ(eviction->at("version"), "v1");
  EXPECT_EQ(eviction->at("kind"), "Eviction");
  EXPECT_EQ(eviction->at("verbs"), Strings({"create"}));
}

TEST(DiscoveryTest, ScaleSubresourceIsAutoscalingV1Scale) {
  TinyApis tiny;
  auto text = ApiResourceList(tiny.apis(), "example.com", "v1");
  ASSERT_TRUE(text);
  json::object doc = Parse(*text);
  EXPECT_EQ(doc.at("groupVersion"), "example.com/v1");
  const json::object* scale = FindByField(doc.at("resources").as_array(), "name", "widgets/scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->at("group"), "autoscaling");
  EXPECT_EQ(scale->at("version"), "v1");
  EXPECT_EQ(scale->at("kind"), "Scale");
  EXPECT_EQ(scale->at("namespaced"), true);
  EXPECT_EQ(scale->at("verbs"), Strings({"get", "patch", "update"}));
}

TEST(DiscoveryTest, ApiResourceListOfUnservedGroupVersionIsAbsent) {
  TinyApis tiny;
  EXPECT_FALSE(ApiResourceList(tiny.apis(), "", "v2"));
  EXPECT_FALSE(ApiResourceList(tiny.apis(), "apps", "v1"));
}

TEST(DiscoveryTest, StorageVersionHashMatchesKubernetes) {
  // Values published by kube-apiserver for core/v1 Pod and apps/v1 Deployment.
  EXPECT_EQ(StorageVersionHash("", "v1", "Pod"), "xPOwRZ+Yhw8=");
  EXPECT_EQ(StorageVersionHash("apps", "v1", "Deployment"), "8aSe+NMegvE=");
}

TEST(DiscoveryTest, DocumentHashIsUpperCaseSha512Hex) {
  std::string hash = DocumentHash("");
  EXPECT_EQ(hash.size(), 128u);
  EXPECT_TRUE(hash.starts_with("CF83E1357EEFB8BD"));  // sha512 of the empty string
  EXPECT_NE(DocumentHash("a"), DocumentHash("b"));
}

TEST(DiscoveryTest, AggregatedDiscoveryOfApisHasEveryGroupButCore) {
  TinyApis tiny;
  json::object doc = Parse(AggregatedDiscovery(tiny.apis(), /*core_group=*/false, "v2"));
  EXPECT_EQ(doc.at("kind"), "APIGroupDiscoveryList");
  EXPECT_EQ(doc.at("apiVersion"), "apidiscovery.k8s.io/v2");
  const json::array& items = doc.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  const json::object& group = items[0].as_object();
  EXPECT_EQ(group.at("metadata").as_object().at("name"), "example.com");
  const json::array& versions = group.at("versions").as_array();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].as_object().at("version"), "v1");
  EXPECT_EQ(versions[1].as_object().at("version"), "v1beta1");
  EXPECT_EQ(versions[0].as_object().at("freshness"), "Current");

  const json::array& resources = versions[0].as_object().at("resources").as_array();
  ASSERT_EQ(resources.size(), 1u);
  const json::object& widgets = resources[0].as_object();
  EXPECT_EQ(widgets.at("resource"), "widgets");
  EXPECT_EQ(widgets.at("scope"), "Namespaced");
  EXPECT_EQ(widgets.at("singularResource"), "widget");
  EXPECT_EQ(widgets.at("responseKind").as_object().at("kind"), "Widget");
  EXPECT_EQ(widgets.at("shortNames"), Strings({"wd"}));
  EXPECT_FALSE(widgets.contains("categories"));

  const json::array& subs = widgets.at("subresources").as_array();
  ASSERT_EQ(subs.size(), 2u);
  const json::object& scale = subs[0].as_object();
  EXPECT_EQ(scale.at("subresource"), "scale");
  EXPECT_EQ(scale.at("responseKind"),
            (json::object{{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}));
  EXPECT_EQ(scale.at("verbs"), Strings({"get", "patch", "update"}));
  EXPECT_EQ(subs[1].as_object().at("subresource"), "status");
  EXPECT_EQ(subs[1].as_object().at("responseKind").as_object().at("kind"), "Widget");
}

TEST(DiscoveryTest, AggregatedDiscoveryOfApiHasTheCoreGroupOnly) {
  TinyApis tiny;
  json::object doc = Parse(AggregatedDiscovery(tiny.apis(), /*core_group=*/true, "v2beta1"));
  EXPECT_EQ(doc.at("apiVersion"), "apidiscovery.k8s.io/v2beta1");
  const json::array& items = doc.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  const json::object& metadata = items[0].as_object().at("metadata").as_object();
  EXPECT_FALSE(metadata.contains("name"));
  const json::array& resources =
      items[0].as_object().at("versions").as_array()[0].as_object().at("resources").as_array();
  const json::object* gadgets = FindByField(resources, "resource", "gadgets");
  ASSERT_NE(gadgets, nullptr);
  EXPECT_EQ(gadgets->at("scope"), "Cluster");
  const json::object* gizmos = FindByField(resources, "resource", "gizmos");
  ASSERT_NE(gizmos, nullptr);
  EXPECT_EQ(gizmos->at("categories"), Strings({"all"}));
  const json::object* eviction =
      FindByField(gizmos->at("subresources").as_array(), "subresource", "eviction");
  ASSERT_NE(eviction, nullptr);
  EXPECT_EQ(eviction->at("responseKind").as_object().at("group"), "policy");
}

TEST(DiscoveryTest, NegotiatesWhatKubectlAsksFor) {
  // kubectl >= 1.30.
  EXPECT_EQ(NegotiateAggregatedDiscovery(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                "application/json"),
            "v2");
  // kubectl 1.27 - 1.29.
  EXPECT_EQ(NegotiateAggregatedDiscovery(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                "application/json"),
            "v2beta1");
}

TEST(DiscoveryTest, PlainAcceptHeadersGetTheUnaggregatedDocument) {
  EXPECT_EQ(NegotiateAggregatedDiscovery(""), std::nullopt);
  EXPECT_EQ(NegotiateAggregatedDiscovery("application/json"), std::nullopt);
  EXPECT_EQ(NegotiateAggregatedDiscovery("*/*"), std::nullopt);
  EXPECT_EQ(NegotiateAggregatedDiscovery("application/yaml"), std::nullopt);
  // The plain type comes first, so it wins.
  EXPECT_EQ(
      NegotiateAggregatedDiscovery("application/json, application/json;g=apidiscovery.k8s.io;v=v2;"
                                   "as=APIGroupDiscoveryList"),
      std::nullopt);
}

TEST(DiscoveryTest, NegotiationHonoursQValuesAndSkipsWhatCannotBeServed) {
  // Higher q wins over order.
  EXPECT_EQ(NegotiateAggregatedDiscovery(
                "application/json;q=0.5,"
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
            "v2");
  // q=0 means "not acceptable".
  EXPECT_EQ(NegotiateAggregatedDiscovery(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0,"
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"),
            "v2beta1");
  // Protobuf and unknown versions are skipped.
  EXPECT_EQ(NegotiateAggregatedDiscovery(
                "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;"
                "as=APIGroupDiscoveryList,"
                "application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,"
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"),
            "v2");
  // Another conversion (Table) is not aggregated discovery; the plain type follows.
  EXPECT_EQ(
      NegotiateAggregatedDiscovery("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"),
      std::nullopt);
  // Case, spacing and parameter order do not matter.
  EXPECT_EQ(NegotiateAggregatedDiscovery(
                " Application/JSON ; as=APIGroupDiscoveryList ; v=v2 ; g=apidiscovery.k8s.io "),
            "v2");
  // Nothing acceptable at all.
  EXPECT_EQ(NegotiateAggregatedDiscovery("application/vnd.kubernetes.protobuf"), std::nullopt);
}

TEST(DiscoveryTest, AggregatedContentTypeNamesTheVersion) {
  EXPECT_EQ(AggregatedDiscoveryContentType("v2"),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(AggregatedDiscoveryContentType("v2beta1"),
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
}

}  // namespace
}  // namespace skiff
