#include "client/https_client.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>

#include "apiserver/https_server.h"
#include "apiserver/pki.h"
#include "client/test_api_server.h"

namespace skiff {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

const ResourcePath kConfigMaps{"", "v1", "configmaps"};

// The test API server behind a real HTTPS listener, and a kubeconfig for its admin.
class HttpsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("skiff-https-client-" + std::to_string(std::random_device{}()));
    ClusterPkiOptions pki_options;
    pki_options.interface_addresses = std::vector<std::string>{};
    auto pki = EnsureClusterPki(dir_ / "tls", pki_options);
    ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
    pki_ = *pki;
    HttpsServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_pem = pki_.serving.cert_pem;
    o.key_pem = pki_.serving.key_pem;
    o.client_ca_pem = pki_.ca.cert_pem;
    o.worker_threads = 4;
    auto server = HttpsServer::Start(
        o, [this](HttpRequest&& r) { return api_.client_handler()(std::move(r)); });
    ASSERT_TRUE(server.has_value()) << server.error().ToString();
    https_ = std::move(*server);
    kubeconfig_ = (dir_ / "admin.kubeconfig").string();
    ASSERT_TRUE(WriteKubeconfig(kubeconfig_, "https://127.0.0.1:" + std::to_string(https_->port()),
                                pki_.ca.cert_pem, pki_.admin.cert_pem, pki_.admin.key_pem)
                    .ok());
  }
  void TearDown() override {
    if (https_) https_->Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  TestApiServer api_;
  std::filesystem::path dir_;
  ClusterPki pki_;
  std::unique_ptr<HttpsServer> https_;
  std::string kubeconfig_;
};

TEST_F(HttpsFixture, KubeconfigAndVerbsOverTls) {
  auto access = LoadKubeconfig(kubeconfig_);
  ASSERT_TRUE(access.has_value()) << access.error().ToString();
  EXPECT_EQ(access->host, "127.0.0.1");
  auto client = HttpsClient::Create(*access);
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  Client& c = **client;
  json::object cm =
      json::parse(
          R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"over-tls"},"data":{"k":"v"}})")
          .as_object();
  ASSERT_TRUE(c.Create(kConfigMaps, "default", cm).has_value());
  auto again = c.Create(kConfigMaps, "default", cm);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kAlreadyExists);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.Get(kConfigMaps, "default", "over-tls").has_value());
  auto whoami = c.Do("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                     R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})");
  ASSERT_TRUE(whoami.has_value());
  EXPECT_NE(whoami->body.find("system:admin"), std::string::npos) << whoami->body;
}

TEST_F(HttpsFixture, WatchStreamsAndStopUnblocks) {
  auto client = HttpsClient::Create(*LoadKubeconfig(kubeconfig_));
  ASSERT_TRUE(client.has_value());
  Client& c = **client;
  auto list = c.List(kConfigMaps, "default");
  ASSERT_TRUE(list.has_value());
  std::string rv(list->at("metadata").as_object().at("resourceVersion").as_string());
  auto watch = c.Watch(kConfigMaps.Collection("default") + "?watch=true&resourceVersion=" + rv);
  ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
  json::object cm =
      json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched"}})")
          .as_object();
  ASSERT_TRUE(c.Create(kConfigMaps, "default", cm).has_value());
  auto line = (*watch)->Next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(json::parse(*line).as_object().at("type").as_string(), "ADDED");
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(100));
    (*watch)->Stop();
  });
  EXPECT_FALSE((*watch)->Next().has_value());  // blocked until Stop
  stopper.join();

  auto bad = c.Watch(kConfigMaps.Collection("default") + "?watch=true&resourceVersion=abc");
  ASSERT_FALSE(bad.has_value());
}

TEST(HttpsClientTest, RefusesWhatItCannotUse) {
  ClusterAccess access;
  access.host = "127.0.0.1";
  access.port = "1";
  access.server = "https://127.0.0.1:1";
  access.authority = "127.0.0.1:1";
  access.ca_pem = "not a certificate";
  EXPECT_EQ(HttpsClient::Create(access).error().code(), StatusCode::kInvalid);
  access.ca_pem.clear();
  auto client = HttpsClient::Create(access);
  ASSERT_TRUE(client.has_value());
  auto answer = (*client)->Do("GET", "/api");
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code(), StatusCode::kServiceUnavailable);
}

}  // namespace
}  // namespace skiff
