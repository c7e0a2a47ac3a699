// A real API server for client tests: the built-in catalogue on a SQLite store in a
// temporary directory, with an in-process client authenticated as a cluster admin.
#pragma once

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "api/catalogue.h"
#include "apiserver/api_server.h"
#include "apiserver/authn.h"
#include "apiserver/authz.h"
#include "client/in_process_client.h"
#include "storage/sqlite/sqlite_store.h"

namespace skiff {

class TestApiServer {
 public:
  TestApiServer() {
    dir_ = std::filesystem::temp_directory_path() /
           ("skiff-client-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto catalogue = api::Catalogue::LoadBuiltin();
    EXPECT_TRUE(catalogue.has_value());
    catalogue_ = std::move(*catalogue);
    auto store = SqliteStore::Open((dir_ / "state.db").string());
    EXPECT_TRUE(store.has_value());
    store_ = std::move(*store);
    ApiServerOptions options;
    options.compaction_interval_seconds = 0;
    api_ = std::make_unique<ApiServer>(options, *catalogue_, *store_, authenticator_, authorizer_);
    Status st = api_->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    client_ = std::make_unique<InProcessClient>(
        [this](HttpRequest&& req) { return api_->Handle(std::move(req)); }, "test-admin",
        std::vector<std::string>{"system:masters"});
  }
  ~TestApiServer() {
    client_.reset();
    api_->Stop();
    api_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Client& client() { return *client_; }
  // The server's request handler, as an HTTPS listener would call it.
  HttpHandler client_handler() {
    return [this](HttpRequest&& req) { return api_->Handle(std::move(req)); };
  }
  Store& store() { return *store_; }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<api::Catalogue> catalogue_;
  std::unique_ptr<SqliteStore> store_;
  ClientCertAuthenticator authenticator_;
  AllowAllAuthorizer authorizer_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<InProcessClient> client_;
};

}  // namespace skiff
