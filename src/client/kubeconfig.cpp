#include "client/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/base64.h"

namespace skiff {

namespace {

Result<std::string> ReadWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(StatusCode::kNotFound, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Scalar(const YAML::Node& map, const char* key) {
  if (!map || !map.IsMap()) return "";
  const YAML::Node value = map[key];
  return value && value.IsScalar() ? value.as<std::string>() : "";
}

// The `field` map of the entry named `name` in a kubeconfig list (clusters, users,
// contexts); the first entry's when `name` is empty.
std::optional<YAML::Node> NamedEntry(const YAML::Node& list, const std::string& name,
                                     const char* field) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const YAML::Node& item : list) {
    if (name.empty() || Scalar(item, "name") == name) {
      const YAML::Node value = item[field];
      if (value && value.IsMap()) return value;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// Inline base64 data (`data_key`) or a file (`file_key`, relative to the kubeconfig).
Result<std::string> Material(const YAML::Node& map, const char* data_key, const char* file_key,
                             const std::filesystem::path& base_dir) {
  std::string data = Scalar(map, data_key);
  if (!data.empty()) {
    std::erase_if(data, [](char c) { return c == '\n' || c == '\r' || c == ' '; });
    std::optional<std::string> decoded = Base64Decode(data);
    if (!decoded) return Err(StatusCode::kInvalid, std::string(data_key) + " is not valid base64");
    return *decoded;
  }
  const std::string file = Scalar(map, file_key);
  if (file.empty()) return std::string();
  std::filesystem::path path(file);
  if (path.is_relative()) path = base_dir / path;
  return ReadWholeFile(path);
}

Status ParseServerUrl(ClusterAccess& access) {
  constexpr std::string_view kScheme = "https://";
  std::string_view url = access.server;
  if (!url.starts_with(kScheme))
    return Status(StatusCode::kInvalid, "server " + access.server + " is not an https:// URL");
  url.remove_prefix(kScheme.size());
  const size_t slash = url.find('/');
  access.authority = std::string(url.substr(0, slash));
  access.path_prefix = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  while (access.path_prefix.ends_with('/')) access.path_prefix.pop_back();
  std::string_view authority = access.authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status(StatusCode::kInvalid, "bad IPv6 address in " + access.server);
    access.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (rest.starts_with(':')) port = rest.substr(1);
  } else {
    const size_t colon = authority.rfind(':');
    access.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  access.port = port.empty() ? "443" : std::string(port);
  if (access.host.empty()) return Status(StatusCode::kInvalid, "no host in " + access.server);
  return Status::Ok();
}

}  // namespace

Result<ClusterAccess> LoadKubeconfig(const std::string& path, const std::string& context_name) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    const std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();
    std::string context = context_name.empty() ? Scalar(root, "current-context") : context_name;
    std::string cluster_name;
    std::string user_name;
    if (std::optional<YAML::Node> ctx = NamedEntry(root["contexts"], context, "context")) {
      cluster_name = Scalar(*ctx, "cluster");
      user_name = Scalar(*ctx, "user");
    } else if (!context.empty()) {
      return Err(StatusCode::kInvalid, "context " + context + " not found in " + path);
    }
    std::optional<YAML::Node> cluster = NamedEntry(root["clusters"], cluster_name, "cluster");
    if (!cluster)
      return Err(StatusCode::kInvalid, "cluster " + cluster_name + " not found in " + path);
    ClusterAccess access;
    access.server = Scalar(*cluster, "server");
    if (Status ok = ParseServerUrl(access); !ok.ok()) return Err(std::move(ok));
    access.tls_server_name = Scalar(*cluster, "tls-server-name");
    if (access.tls_server_name.empty()) access.tls_server_name = access.host;
    access.insecure_skip_verify = Scalar(*cluster, "insecure-skip-tls-verify") == "true";
    Result<std::string> ca =
        Material(*cluster, "certificate-authority-data", "certificate-authority", base_dir);
    if (!ca) return std::unexpected(ca.error());
    access.ca_pem = std::move(*ca);

    std::optional<YAML::Node> user = NamedEntry(root["users"], user_name, "user");
    if (user) {
      if ((*user)["exec"] || (*user)["auth-provider"]) {
        return Err(
            StatusCode::kInvalid,
            "user " + user_name + " uses an exec/auth-provider plugin, which is not supported");
      }
      Result<std::string> cert =
          Material(*user, "client-certificate-data", "client-certificate", base_dir);
      if (!cert) return std::unexpected(cert.error());
      Result<std::string> key = Material(*user, "client-key-data", "client-key", base_dir);
      if (!key) return std::unexpected(key.error());
      access.client_cert_pem = std::move(*cert);
      access.client_key_pem = std::move(*key);
      access.token = Scalar(*user, "token");
      if (const std::string token_file = Scalar(*user, "tokenFile");
          access.token.empty() && !token_file.empty()) {
        Result<std::string> token = ReadWholeFile(token_file);
        if (!token) return std::unexpected(token.error());
        access.token = std::move(*token);
        while (!access.token.empty() &&
               std::isspace(static_cast<unsigned char>(access.token.back()))) {
          access.token.pop_back();
        }
      }
    }
    return access;
  } catch (const YAML::Exception& e) {
    return Err(StatusCode::kInvalid, "reading " + path + ": " + e.what());
  }
}

}  // namespace skiff
