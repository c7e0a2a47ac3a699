// The cluster's public-key infrastructure: a self-signed cluster CA, the API server's
// serving certificate and client certificates signed by it, and admin kubeconfigs.
//
// Keys are ECDSA P-256; certificates are X.509 v3 signed with SHA-256. Everything is
// exchanged as PEM text. Functions here are pure (apart from the files they are told to
// write) and may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace skiff {

// A certificate and its private key, both PEM.
struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;
};

// What a certificate is for; decides its basicConstraints, keyUsage and extKeyUsage.
enum class CertificateUsage { kCa, kServer, kClient };

struct CertificateSpec {
  CertificateUsage usage = CertificateUsage::kClient;
  std::string common_name;
  std::vector<std::string> organizations;            // subject O entries (groups for a client)
  std::vector<std::string> dns_names;                // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;             // subjectAltName IP entries (v4 or v6 text)
  std::chrono::system_clock::time_point not_before;  // epoch = now - 1h
  std::chrono::seconds validity{std::chrono::hours(24 * 365)};
};

// Creates a self-signed CA certificate (usage is forced to kCa) and a fresh key.
// Errors: kInvalid for a malformed spec, kInternal when OpenSSL fails.
Result<CertificateAndKey> CreateSelfSignedCa(const CertificateSpec& spec);

// Creates a fresh key and a certificate for `spec`, signed by `ca`.
// Errors: kInvalid for a malformed spec or a CA that does not parse, kInternal when
// OpenSSL fails.
Result<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca,
                                           const CertificateSpec& spec);

// The parts of a certificate the rest of Skiff cares about.
struct CertificateInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // canonical text ("127.0.0.1", "::1")
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  bool is_ca = false;
};

// Parses the first certificate of `pem`. Errors: kInvalid when it does not parse.
Result<CertificateInfo> InspectCertificate(std::string_view pem);

// The first usable address of each comma-separated CIDR in `service_cidrs`
// ("10.43.0.0/16" -> "10.43.0.1"); that address is the `kubernetes` Service's ClusterIP.
// Errors: kInvalid for a malformed CIDR.
Result<std::vector<std::string>> FirstServiceAddresses(std::string_view service_cidrs);

// Addresses of the host's interfaces that are up, excluding loopback and IPv6
// link-local ones. Returns an empty list when they cannot be read.
std::vector<std::string> HostInterfaceAddresses();

struct ClusterPkiOptions {
  // Comma-separated service CIDRs; the first address of each goes into the serving SANs.
  std::string service_cidr = "10.43.0.0/16";
  // Host name for the serving SANs; empty = gethostname().
  std::string host_name;
  // Interface addresses for the serving SANs; nullopt = HostInterfaceAddresses().
  std::optional<std::vector<std::string>> interface_addresses;
  // Further serving SANs (DNS names or IP addresses), e.g. from --tls-san.
  std::vector<std::string> extra_sans;
  // The admin client certificate's user and groups.
  std::string admin_user = "system:admin";
  std::vector<std::string> admin_groups = {"system:masters"};
  // Leaf certificates (serving, admin) closer than this to expiry are reissued on start.
  std::chrono::seconds renew_before{std::chrono::hours(24 * 30)};
  // The current time; nullopt = the system clock.
  std::optional<std::chrono::system_clock::time_point> now;
};

// The cluster PKI as found (or created) in its directory.
struct ClusterPki {
  std::filesystem::path dir;
  CertificateAndKey ca;                 // ca.crt / ca.key
  CertificateAndKey serving;            // serving.crt / serving.key
  CertificateAndKey admin;              // admin.crt / admin.key
  std::string service_account_key_pem;  // service-account.key: signs service account tokens
  bool created_ca = false;              // true when this call created a new CA
  bool reissued = false;                // true when this call wrote any certificate

  std::filesystem::path ca_cert_file() const { return dir / "ca.crt"; }
  std::filesystem::path ca_key_file() const { return dir / "ca.key"; }
  std::filesystem::path serving_cert_file() const { return dir / "serving.crt"; }
  std::filesystem::path serving_key_file() const { return dir / "serving.key"; }
  std::filesystem::path admin_cert_file() const { return dir / "admin.crt"; }
  std::filesystem::path admin_key_file() const { return dir / "admin.key"; }
  std::filesystem::path service_account_key_file() const { return dir / "service-account.key"; }
};

// Loads the cluster PKI from `dir`, creating what is missing: on first start a CA
// (CN "skiff-ca", 10 years), a serving certificate (1 year) with the Kubernetes SANs
// (localhost, kubernetes[.default[.svc[.cluster.local]]], the host name, 127.0.0.1, ::1,
// the interface addresses, the first service address, extra_sans) and an admin client
// certificate (1 year), and an ECDSA P-256 key that signs service account tokens
// (service-account.key). Existing files are reused as they are, except that a leaf
// certificate within `renew_before` of expiry is reissued by the existing CA. A missing
// CA means everything is created anew. Keys are written with mode 0600, certificates
// 0644, the directory 0700; each file is replaced atomically.
// Errors: kInvalid when an existing file does not parse; kInternal on I/O failure.
Result<ClusterPki> EnsureClusterPki(const std::filesystem::path& dir,
                                    const ClusterPkiOptions& options = {});

// Writes a kubeconfig for one cluster, user and context (all named `name`, which is
// also the current context) with certificate-authority-data, client-certificate-data
// and client-key-data, mode 0600, creating parent directories; replaces `path`
// atomically. Errors: kInternal on I/O failure.
Status WriteKubeconfig(const std::filesystem::path& path, std::string_view server_url,
                       std::string_view ca_pem, std::string_view client_cert_pem,
                       std::string_view client_key_pem, std::string_view name = "default");

// Writes `content` to `path` atomically (temporary file, fsync, rename) with `mode`,
// creating parent directories. Errors: kInternal on I/O failure.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           unsigned mode);

}  // namespace skiff
