#include "apiserver/api_server.h"

#include <chrono>
#include <functional>
#include <optional>

#include <boost/json.hpp>

#include "api/catalogue.h"
#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "apiserver/discovery.h"
#include "apiserver/openapi.h"
#include "apiserver/request_info.h"
#include "apiserver/resource_handler.h"
#include "apiserver/responses.h"
#include "base/log.h"
#include "storage/store.h"

namespace skiff {

namespace json = boost::json;

namespace {

constexpr const char* kKubernetesVersion = "v1.33.0";

HttpResponse JsonResponse(int code, std::string body) {
  HttpResponse r;
  r.status = code;
  r.SetHeader("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse TextResponse(int code, std::string body) {
  HttpResponse r;
  r.status = code;
  r.SetHeader("Content-Type", "text/plain; charset=utf-8");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.body = std::move(body);
  return r;
}

bool IsPublicPath(std::string_view path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" ||
         path.starts_with("/healthz/") || path.starts_with("/livez/") ||
         path.starts_with("/readyz/");
}

std::string VersionJson() {
  json::object v{{"major", "1"},
                 {"minor", "33"},
                 {"gitVersion", std::string(kKubernetesVersion) + "+skiff"},
                 {"gitCommit", "skiff"},
                 {"gitTreeState", "clean"},
                 {"buildDate", __DATE__ " " __TIME__},
                 {"goVersion", "n/a (C++)"},
                 {"compiler", "gcc"},
                 {"platform", "linux/amd64"}};
  return json::serialize(v);
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, const api::Catalogue& catalogue, Store& store,
                     const Authenticator& authenticator, const Authorizer& authorizer)
    : options_(std::move(options)),
      catalogue_(catalogue),
      store_(store),
      authenticator_(authenticator),
      authorizer_(authorizer),
      resources_(std::make_unique<ResourceHandler>(options_, catalogue, store)) {}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start() {
  Status st = resources_->Start();
  if (!st.ok()) return st;
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    st = resources_->EnsureNamespace(ns);
    if (!st.ok()) return st;
  }
  background_ = std::thread([this] { BackgroundLoop(); });
  ready_ = true;
  return Status::Ok();
}

Status ApiServer::PublishEndpoint(const std::string& host, int port) {
  return resources_->PublishKubernetesService(host, port);
}

void ApiServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (background_.joinable()) background_.join();
  ready_ = false;
  resources_->Stop();
}

void ApiServer::BackgroundLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    resources_->Tick();
    lock.lock();
  }
}

HttpResponse ApiServer::Handle(HttpRequest&& req) {
  // Authentication.
  UserInfo user = AnonymousUser();
  bool anonymous = true;
  auto authn = authenticator_.Authenticate(req);
  if (!authn) {
    if (!IsPublicPath(req.path))
      return StatusResponse(Status(StatusCode::kUnauthorized, "Unauthorized"));
  } else if (authn->has_value()) {
    user = std::move(**authn);
    anonymous = false;
  }
  if (anonymous && !IsPublicPath(req.path)) {
    return StatusResponse(Status(StatusCode::kUnauthorized, "Unauthorized"));
  }

  bool watch = false;
  if (auto w = req.Query("watch")) watch = *w == "true" || *w == "1";
  RequestInfo info = ParseRequestInfo(req.method, req.path, watch);
  if (!anonymous) {
    Status az = authorizer_.Authorize(user, info, req.path);
    if (!az.ok()) return StatusResponse(az);
  }

  if (info.is_resource_request) {
    // Reviews answered by the server itself.
    if (info.group == "authentication.k8s.io" && info.resource == "selfsubjectreviews" &&
        info.verb == "create") {
      json::object ui{{"username", user.name}};
      if (!user.uid.empty()) ui["uid"] = user.uid;
      json::array groups;
      for (const auto& g : user.groups) groups.push_back(json::value(g));
      ui["groups"] = std::move(groups);
      if (!user.extra.empty()) {
        json::object extra;
        for (const auto& [k, vs] : user.extra) {
          json::array a;
          for (const auto& v : vs) a.push_back(json::value(v));
          extra[k] = std::move(a);
        }
        ui["extra"] = std::move(extra);
      }
      json::object review{{"kind", "SelfSubjectReview"},
                          {"apiVersion", "authentication.k8s.io/" + info.version},
                          {"metadata", json::object{{"creationTimestamp", nullptr}}},
                          {"status", json::object{{"userInfo", std::move(ui)}}}};
      return ObjectResponse(201, json::value(std::move(review)),
                            NegotiateOutput(req.Header("Accept")).format);
    }
    if (info.group == "authorization.k8s.io" && info.verb == "create" &&
        (info.resource == "selfsubjectaccessreviews" || info.resource == "subjectaccessreviews" ||
         info.resource == "localsubjectaccessreviews" ||
         info.resource == "selfsubjectrulesreviews")) {
      return HandleAccessReview(req, info, user);
    }
    return resources_->Handle(req, info);
  }
  return HandleNonResource(req);
}

namespace {

std::string StringIn(const json::object* o, std::string_view key) {
  if (!o) return {};
  auto* v = o->if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

json::array ToArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.push_back(json::value(s));
  return a;
}

}  // namespace

HttpResponse ApiServer::HandleAccessReview(const HttpRequest& req, const RequestInfo& info,
                                           const UserInfo& requester) {
  std::vector<std::string> warnings;
  auto decoded = resources_->DecodeCreateBody(req, info, &warnings);
  if (!decoded) return StatusResponse(decoded.error());
  json::object review = std::move(*decoded);
  json::value& spec_v = review["spec"];
  if (!spec_v.is_object()) spec_v = json::object();
  json::object& spec = spec_v.as_object();
  json::object status;
  if (info.resource == "selfsubjectrulesreviews") {
    std::vector<ResourceRuleSpec> rules;
    std::vector<NonResourceRuleSpec> non_resource;
    bool incomplete = false;
    authorizer_.RulesFor(requester, StringIn(&spec, "namespace"), rules, non_resource, &incomplete);
    json::array rr, nr;
    for (const auto& r : rules) {
      json::object o{{"verbs", ToArray(r.verbs)}};
      if (!r.api_groups.empty()) o["apiGroups"] = ToArray(r.api_groups);
      if (!r.resources.empty()) o["resources"] = ToArray(r.resources);
      if (!r.resource_names.empty()) o["resourceNames"] = ToArray(r.resource_names);
      rr.push_back(std::move(o));
    }
    for (const auto& r : non_resource) {
      nr.push_back(json::object{{"verbs", ToArray(r.verbs)}, {"nonResourceURLs", ToArray(r.urls)}});
    }
    status["resourceRules"] = std::move(rr);
    status["nonResourceRules"] = std::move(nr);
    status["incomplete"] = incomplete;
  } else {
    UserInfo subject = requester;
    if (info.resource == "subjectaccessreviews" || info.resource == "localsubjectaccessreviews") {
      subject = UserInfo{};
      subject.name = StringIn(&spec, "user");
      subject.uid = StringIn(&spec, "uid");
      if (auto* g = spec.if_contains("groups"); g && g->is_array()) {
        for (const auto& v : g->as_array()) {
          if (v.is_string()) subject.groups.emplace_back(v.as_string());
        }
      }
      if (subject.name.empty() && subject.groups.empty()) {
        Status bad(
            StatusCode::kInvalid,
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: "
            "spec.user: Invalid value: \"\": at least one of user or group must be specified");
        bad.AddCause({"FieldValueInvalid",
                      "Invalid value: \"\": at least one of user or group must be specified",
                      "spec.user"});
        return StatusResponse(bad);
      }
    }
    const json::object* ra = nullptr;
    const json::object* nra = nullptr;
    if (auto* v = spec.if_contains("resourceAttributes"); v && v->is_object()) ra = &v->as_object();
    if (auto* v = spec.if_contains("nonResourceAttributes"); v && v->is_object())
      nra = &v->as_object();
    if (!ra && !nra) {
      Status bad(StatusCode::kInvalid,
                 "exactly one of nonResourceAttributes or resourceAttributes must be specified");
      bad.AddCause({"FieldValueRequired",
                    "Required value: exactly one of nonResourceAttributes or resourceAttributes "
                    "must be specified",
                    "spec.resourceAttributes"});
      return StatusResponse(bad);
    }
    RequestInfo asked;
    std::string path;
    if (ra) {
      asked.is_resource_request = true;
      asked.ns = info.resource == "localsubjectaccessreviews" ? info.ns : StringIn(ra, "namespace");
      asked.verb = StringIn(ra, "verb");
      asked.group = StringIn(ra, "group");
      asked.version = StringIn(ra, "version");
      asked.resource = StringIn(ra, "resource");
      asked.subresource = StringIn(ra, "subresource");
      asked.name = StringIn(ra, "name");
    } else {
      path = StringIn(nra, "path");
      asked.verb = StringIn(nra, "verb");
    }
    Status decision = authorizer_.Authorize(subject, asked, path);
    status["allowed"] = decision.ok();
    if (!decision.ok()) status["reason"] = decision.message();
  }
  review["status"] = std::move(status);
  json::value& meta = review["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta.as_object()["creationTimestamp"] = nullptr;
  HttpResponse r = ObjectResponse(201, json::value(std::move(review)),
                                  NegotiateOutput(req.Header("Accept")).format);
  return r;
}

HttpResponse ApiServer::HandleNonResource(const HttpRequest& req) {
  const std::string& path = req.path;
  if (path == "/healthz" || path == "/livez" || path.starts_with("/healthz/") ||
      path.starts_with("/livez/")) {
    return TextResponse(200, "ok");
  }
  if (path == "/readyz" || path.starts_with("/readyz/")) {
    return ready_ ? TextResponse(200, "ok")
                  : TextResponse(503, "[-]skiff-ready failed: not ready\n");
  }
  if (path == "/version" || path == "/version/") return JsonResponse(200, VersionJson());
  if (req.method != "GET" && req.method != "HEAD") {
    return StatusResponse(
        Status(StatusCode::kMethodNotAllowed,
               "the server does not allow this method on the requested resource"));
  }
  std::string_view accept = req.Header("Accept");
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  // Documents depend only on the catalogue: build each once.
  auto cached =
      [this](
          const std::string& key,
          const std::function<std::optional<std::string>()>& build) -> std::optional<std::string> {
    std::lock_guard lock(docs_mu_);
    auto it = docs_.find(key);
    if (it != docs_.end()) return it->second;
    auto doc = build();
    if (doc) docs_.emplace(key, *doc);
    return doc;
  };
  if (trimmed == "/api" || trimmed == "/apis") {
    bool core = trimmed == "/api";
    if (auto v = NegotiateAggregatedDiscovery(accept)) {
      auto doc = cached(trimmed + "#aggregated-" + *v, [&] {
        return std::optional<std::string>(AggregatedDiscovery(catalogue_, core, *v));
      });
      HttpResponse r = JsonResponse(200, std::move(*doc));
      r.SetHeader("Content-Type", AggregatedDiscoveryContentType(*v));
      return r;
    }
    auto doc = cached(trimmed, [&] {
      return std::optional<std::string>(core ? LegacyApiVersions(options_.advertise_address)
                                             : ApiGroupList(catalogue_));
    });
    return JsonResponse(200, std::move(*doc));
  }
  if (trimmed.starts_with("/api/")) {
    auto doc = cached(trimmed, [&] { return ApiResourceList(catalogue_, "", trimmed.substr(5)); });
    if (doc) return JsonResponse(200, std::move(*doc));
  }
  if (trimmed.starts_with("/apis/")) {
    std::string rest = trimmed.substr(6);
    auto slash = rest.find('/');
    auto doc = cached(trimmed, [&]() -> std::optional<std::string> {
      if (slash == std::string::npos) return ApiGroup(catalogue_, rest);
      return ApiResourceList(catalogue_, rest.substr(0, slash), rest.substr(slash + 1));
    });
    if (doc) return JsonResponse(200, std::move(*doc));
  }
  if (trimmed == "/openapi/v2" || trimmed == "/swagger.json") {
    if (accept.find("protobuf") != std::string_view::npos) {
      auto doc = cached("openapi-v2-pb",
                        [&] { return std::optional<std::string>(OpenApiV2Protobuf(catalogue_)); });
      HttpResponse r;
      r.status = 200;
      r.SetHeader("Content-Type", std::string(kOpenApiV2ProtobufContentType));
      r.body = std::move(*doc);
      return r;
    }
    auto doc =
        cached("openapi-v2", [&] { return std::optional<std::string>(OpenApiV2(catalogue_)); });
    return JsonResponse(200, std::move(*doc));
  }
  if (trimmed == "/openapi/v3") {
    auto doc = cached("openapi-v3",
                      [&] { return std::optional<std::string>(OpenApiV3Index(catalogue_)); });
    return JsonResponse(200, std::move(*doc));
  }
  if (trimmed.starts_with("/openapi/v3/")) {
    auto doc =
        cached(trimmed, [&] { return OpenApiV3GroupVersion(catalogue_, trimmed.substr(12)); });
    if (doc) {
      HttpResponse r = JsonResponse(200, std::move(*doc));
      r.SetHeader("Cache-Control", "public, immutable");
      return r;
    }
  }
  return StatusResponse(
      Status(StatusCode::kNotFound, "the server could not find the requested resource"));
}

}  // namespace skiff
