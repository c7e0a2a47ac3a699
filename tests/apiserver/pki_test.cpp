#include "apiserver/pki.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace skiff {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "skiff-pki-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

unsigned Mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string Base64Decode(const std::string& in) {
  std::string out(in.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  size_t padding = 0;
  if (!in.empty() && in.back() == '=') ++padding;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

ClusterPkiOptions TestOptions() {
  ClusterPkiOptions options;
  options.host_name = "node-1";
  options.interface_addresses = std::vector<std::string>{"192.168.7.10", "fd00::10"};
  options.service_cidr = "10.43.0.0/16";
  options.extra_sans = {"api.example.com", "203.0.113.5"};
  return options;
}

TEST(PkiTest, FirstServiceAddresses) {
  auto v4 = FirstServiceAddresses("10.43.0.0/16");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(*v4, std::vector<std::string>{"10.43.0.1"});
  auto unaligned = FirstServiceAddresses("10.96.7.9/12");
  ASSERT_TRUE(unaligned.has_value());
  EXPECT_EQ(*unaligned, std::vector<std::string>{"10.96.0.1"});
  auto dual = FirstServiceAddresses("10.43.0.0/16, fd00:43::/112");
  ASSERT_TRUE(dual.has_value());
  EXPECT_EQ(*dual, (std::vector<std::string>{"10.43.0.1", "fd00:43::1"}));
  EXPECT_FALSE(FirstServiceAddresses("10.43.0.0").has_value());
  EXPECT_FALSE(FirstServiceAddresses("10.43.0.0/33").has_value());
  EXPECT_FALSE(FirstServiceAddresses("10.43.0.1/32").has_value());
  EXPECT_FALSE(FirstServiceAddresses("banana/8").has_value());
}

TEST(PkiTest, CreatesFilesWithModesAndSans) {
  TempDir dir;
  fs::path tls = dir.path() / "data" / "tls";
  auto pki = EnsureClusterPki(tls, TestOptions());
  ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
  EXPECT_TRUE(pki->created_ca);

  for (const char* key : {"ca.key", "serving.key", "admin.key"})
    EXPECT_EQ(Mode(tls / key), 0600u) << key;
  for (const char* cert : {"ca.crt", "serving.crt", "admin.crt"})
    EXPECT_EQ(Mode(tls / cert), 0644u) << cert;
  EXPECT_EQ(Mode(tls), 0700u);
  EXPECT_EQ(ReadFile(pki->serving_cert_file()), pki->serving.cert_pem);

  auto ca = InspectCertificate(pki->ca.cert_pem);
  ASSERT_TRUE(ca.has_value());
  EXPECT_EQ(ca->common_name, "skiff-ca");
  EXPECT_TRUE(ca->is_ca);
  EXPECT_GE(ca->not_after - ca->not_before, hours(24 * 3650));

  auto serving = InspectCertificate(pki->serving.cert_pem);
  ASSERT_TRUE(serving.has_value());
  EXPECT_FALSE(serving->is_ca);
  for (const char* dns : {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                          "kubernetes.default.svc.cluster.local", "node-1", "api.example.com"}) {
    EXPECT_TRUE(Contains(serving->dns_names, dns)) << dns;
  }
  for (const char* ip :
       {"127.0.0.1", "::1", "192.168.7.10", "fd00::10", "10.43.0.1", "203.0.113.5"}) {
    EXPECT_TRUE(Contains(serving->ip_addresses, ip)) << ip;
  }

  auto admin = InspectCertificate(pki->admin.cert_pem);
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(admin->common_name, "system:admin");
  EXPECT_EQ(admin->organizations, std::vector<std::string>{"system:masters"});
}

TEST(PkiTest, DefaultsUseHostInterfaces) {
  TempDir dir;
  auto pki = EnsureClusterPki(dir.path() / "tls");
  ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
  auto serving = InspectCertificate(pki->serving.cert_pem);
  ASSERT_TRUE(serving.has_value());
  for (const std::string& ip : HostInterfaceAddresses())
    EXPECT_TRUE(Contains(serving->ip_addresses, ip)) << ip;
  EXPECT_TRUE(Contains(serving->ip_addresses, "10.43.0.1"));
}

TEST(PkiTest, SecondCallReusesEverything) {
  TempDir dir;
  auto first = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  // Different options must not cause regeneration: existing files are reused as-is.
  ClusterPkiOptions other = TestOptions();
  other.host_name = "renamed";
  auto second = EnsureClusterPki(dir.path() / "tls", other);
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_FALSE(second->created_ca);
  EXPECT_FALSE(second->reissued);
  EXPECT_EQ(first->ca.cert_pem, second->ca.cert_pem);
  EXPECT_EQ(first->ca.key_pem, second->ca.key_pem);
  EXPECT_EQ(first->serving.cert_pem, second->serving.cert_pem);
  EXPECT_EQ(first->serving.key_pem, second->serving.key_pem);
  EXPECT_EQ(first->admin.cert_pem, second->admin.cert_pem);
  EXPECT_EQ(first->admin.key_pem, second->admin.key_pem);
}

TEST(PkiTest, MissingLeafIsReissuedByExistingCa) {
  TempDir dir;
  auto first = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_TRUE(first.has_value());
  fs::remove(first->admin_cert_file());
  auto second = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_FALSE(second->created_ca);
  EXPECT_TRUE(second->reissued);
  EXPECT_EQ(first->ca.cert_pem, second->ca.cert_pem);
  EXPECT_EQ(first->serving.cert_pem, second->serving.cert_pem);
  EXPECT_NE(first->admin.cert_pem, second->admin.cert_pem);
}

TEST(PkiTest, ExpiringLeafIsRenewedButCaKept) {
  TempDir dir;
  ClusterPkiOptions old = TestOptions();
  old.now = std::chrono::system_clock::now() - hours(24 * 360);  // leaves expire in ~5 days
  auto first = EnsureClusterPki(dir.path() / "tls", old);
  ASSERT_TRUE(first.has_value()) << first.error().ToString();
  auto second = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(first->ca.cert_pem, second->ca.cert_pem);
  EXPECT_NE(first->serving.cert_pem, second->serving.cert_pem);
  EXPECT_NE(first->admin.cert_pem, second->admin.cert_pem);
  auto serving = InspectCertificate(second->serving.cert_pem);
  ASSERT_TRUE(serving.has_value());
  EXPECT_GT(serving->not_after, std::chrono::system_clock::now() + hours(24 * 300));
}

TEST(PkiTest, CorruptFileIsAnErrorNotOverwritten) {
  TempDir dir;
  auto first = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_TRUE(first.has_value());
  { std::ofstream(first->serving_cert_file()) << "garbage"; }
  auto second = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kInvalid);
  EXPECT_NE(second.error().message().find("serving.crt"), std::string::npos);
  EXPECT_EQ(ReadFile(first->serving_cert_file()), "garbage");
}

TEST(PkiTest, IssueRejectsBadSpec) {
  CertificateSpec ca_spec;
  ca_spec.common_name = "test-ca";
  auto ca = CreateSelfSignedCa(ca_spec);
  ASSERT_TRUE(ca.has_value());
  CertificateSpec spec;
  spec.usage = CertificateUsage::kServer;
  spec.common_name = "x";
  spec.ip_addresses = {"not-an-ip"};
  EXPECT_EQ(IssueCertificate(*ca, spec).error().code(), StatusCode::kInvalid);
  spec.ip_addresses.clear();
  spec.dns_names = {"bad name,with comma"};
  EXPECT_EQ(IssueCertificate(*ca, spec).error().code(), StatusCode::kInvalid);
  EXPECT_EQ(IssueCertificate(CertificateAndKey{"nope", "nope"}, ca_spec).error().code(),
            StatusCode::kInvalid);
}

TEST(PkiTest, KubeconfigParses) {
  TempDir dir;
  auto pki = EnsureClusterPki(dir.path() / "tls", TestOptions());
  ASSERT_TRUE(pki.has_value());
  fs::path path = dir.path() / "nested" / "dir" / "admin.kubeconfig";
  Status s = WriteKubeconfig(path, "https://127.0.0.1:6443", pki->ca.cert_pem, pki->admin.cert_pem,
                             pki->admin.key_pem);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Mode(path), 0600u);

  YAML::Node config = YAML::LoadFile(path.string());
  EXPECT_EQ(config["apiVersion"].as<std::string>(), "v1");
  EXPECT_EQ(config["kind"].as<std::string>(), "Config");
  EXPECT_EQ(config["current-context"].as<std::string>(), "default");
  ASSERT_EQ(config["clusters"].size(), 1u);
  EXPECT_EQ(config["clusters"][0]["name"].as<std::string>(), "default");
  EXPECT_EQ(config["clusters"][0]["cluster"]["server"].as<std::string>(), "https://127.0.0.1:6443");
  EXPECT_EQ(Base64Decode(
                config["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>()),
            pki->ca.cert_pem);
  ASSERT_EQ(config["contexts"].size(), 1u);
  EXPECT_EQ(config["contexts"][0]["name"].as<std::string>(), "default");
  EXPECT_EQ(config["contexts"][0]["context"]["cluster"].as<std::string>(), "default");
  EXPECT_EQ(config["contexts"][0]["context"]["user"].as<std::string>(), "default");
  ASSERT_EQ(config["users"].size(), 1u);
  EXPECT_EQ(config["users"][0]["name"].as<std::string>(), "default");
  EXPECT_EQ(Base64Decode(config["users"][0]["user"]["client-certificate-data"].as<std::string>()),
            pki->admin.cert_pem);
  EXPECT_EQ(Base64Decode(config["users"][0]["user"]["client-key-data"].as<std::string>()),
            pki->admin.key_pem);

  // Rewriting replaces the file.
  ASSERT_TRUE(WriteKubeconfig(path, "https://10.0.0.1:6443", "a", "b", "c", "other").ok());
  YAML::Node again = YAML::LoadFile(path.string());
  EXPECT_EQ(again["current-context"].as<std::string>(), "other");
  EXPECT_EQ(again["clusters"][0]["cluster"]["server"].as<std::string>(), "https://10.0.0.1:6443");
}

}  // namespace
}  // namespace skiff
