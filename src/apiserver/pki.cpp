#include "apiserver/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <memory>
#include <system_error>

namespace skiff {
namespace {

using Clock = std::chrono::system_clock;

template <typename T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION, X509_EXTENSION_free>>;

struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

// Drains OpenSSL's error queue into one message.
std::string OpenSslError(std::string_view what) {
  std::string message(what);
  while (unsigned long err = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(err, buf.data(), buf.size());
    message += ": ";
    message += buf.data();
  }
  return message;
}

std::unexpected<Status> SslErr(std::string_view what) {
  return Err(StatusCode::kInternal, OpenSslError(what));
}

BioPtr MemoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<X509Ptr> ParseCertificate(std::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  if (!bio) return SslErr("allocating BIO");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return Err(StatusCode::kInvalid, "not a PEM certificate");
  }
  return cert;
}

Result<PkeyPtr> ParsePrivateKey(std::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  if (!bio) return SslErr("allocating BIO");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return Err(StatusCode::kInvalid, "not a PEM private key");
  }
  return key;
}

Result<PkeyPtr> GenerateKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return SslErr("generating an ECDSA P-256 key");
  return key;
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return SslErr("encoding a private key");
  }
  return BioContents(bio.get());
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return SslErr("encoding a certificate");
  return BioContents(bio.get());
}

bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '*' || c == '_';
  });
}

bool IsIpAddress(std::string_view text) {
  std::string s(text);
  std::array<unsigned char, 16> buf{};
  return inet_pton(AF_INET, s.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, s.c_str(), buf.data()) == 1;
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Status(StatusCode::kInternal, OpenSslError(std::string("adding extension ") + value));
  }
  return Status::Ok();
}

Status AddSubjectAltNames(X509* cert, const CertificateSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) return Status::Ok();
  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(sk_GENERAL_NAME_new_null());
  if (!names) return Status(StatusCode::kInternal, OpenSslError("allocating subjectAltName"));
  for (const std::string& dns : spec.dns_names) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    ASN1_IA5STRING* str = ASN1_IA5STRING_new();
    if (gn == nullptr || str == nullptr ||
        ASN1_STRING_set(str, dns.data(), static_cast<int>(dns.size())) != 1) {
      GENERAL_NAME_free(gn);
      ASN1_IA5STRING_free(str);
      return Status(StatusCode::kInternal, OpenSslError("encoding a DNS name"));
    }
    GENERAL_NAME_set0_value(gn, GEN_DNS, str);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  for (const std::string& ip : spec.ip_addresses) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (octets == nullptr || gn == nullptr) {
      ASN1_OCTET_STRING_free(octets);
      GENERAL_NAME_free(gn);
      ERR_clear_error();
      return Status(StatusCode::kInvalid, "invalid IP address for subjectAltName: " + ip);
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, octets);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Status(StatusCode::kInternal, OpenSslError("adding subjectAltName"));
  }
  return Status::Ok();
}

Status ValidateSpec(const CertificateSpec& spec) {
  if (spec.common_name.empty())
    return Status(StatusCode::kInvalid, "certificate common name must not be empty");
  if (spec.validity.count() <= 0)
    return Status(StatusCode::kInvalid, "certificate validity must be positive");
  for (const std::string& dns : spec.dns_names) {
    if (!IsValidDnsName(dns))
      return Status(StatusCode::kInvalid, "invalid DNS name for subjectAltName: " + dns);
  }
  for (const std::string& ip : spec.ip_addresses) {
    if (!IsIpAddress(ip))
      return Status(StatusCode::kInvalid, "invalid IP address for subjectAltName: " + ip);
  }
  return Status::Ok();
}

// Builds and signs a certificate for `spec` with public key `key`. A null `issuer`
// makes it self-signed by `signing_key`.
Result<X509Ptr> BuildCertificate(const CertificateSpec& spec, EVP_PKEY* key, X509* issuer,
                                 EVP_PKEY* signing_key) {
  if (Status s = ValidateSpec(spec); !s.ok()) return Err(std::move(s));
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1)
    return SslErr("allocating a certificate");

  // A random positive 127-bit serial number, as RFC 5280 recommends for uniqueness.
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size())) != 1)
    return SslErr("RAND_bytes");
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x01;
  BnPtr serial(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return SslErr("setting the serial number");
  }

  Clock::time_point not_before = spec.not_before;
  if (not_before == Clock::time_point{}) not_before = Clock::now() - std::chrono::hours(1);
  Clock::time_point not_after = not_before + spec.validity;
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), Clock::to_time_t(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), Clock::to_time_t(not_after)) == nullptr) {
    return SslErr("setting the validity period");
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (const std::string& org : spec.organizations) {
    if (X509_NAME_add_entry_by_NID(subject, NID_organizationName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(org.data()),
                                   static_cast<int>(org.size()), -1, 0) != 1) {
      return SslErr("setting the subject organization");
    }
  }
  if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.data()),
                                 static_cast<int>(spec.common_name.size()), -1, 0) != 1) {
    return SslErr("setting the subject common name");
  }
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return SslErr("setting issuer and public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
  Status s;
  switch (spec.usage) {
    case CertificateUsage::kCa:
      s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
      if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_key_usage,
                         "critical,digitalSignature,keyCertSign,cRLSign");
      break;
    case CertificateUsage::kServer:
      s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
      if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_key_usage,
                         "critical,digitalSignature,keyEncipherment");
      if (s.ok()) s = AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
      break;
    case CertificateUsage::kClient:
      s = AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
      if (s.ok())
        s = AddExtension(cert.get(), &ctx, NID_key_usage,
                         "critical,digitalSignature,keyEncipherment");
      if (s.ok()) s = AddExtension(cert.get(), &ctx, NID_ext_key_usage, "clientAuth");
      break;
  }
  if (s.ok()) s = AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (s.ok() && issuer != nullptr)
    s = AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (s.ok()) s = AddSubjectAltNames(cert.get(), spec);
  if (!s.ok()) return Err(std::move(s));

  if (X509_sign(cert.get(), signing_key, EVP_sha256()) <= 0)
    return SslErr("signing the certificate");
  return cert;
}

std::string Asn1ToUtf8(const ASN1_STRING* str) {
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, str);
  if (len < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Clock::time_point Asn1TimeToTimePoint(const ASN1_TIME* time) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return {};
  return Clock::from_time_t(timegm(&tm));
}

std::string IpToText(const unsigned char* data, int len) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (len == 4 && inet_ntop(AF_INET, data, buf.data(), buf.size()) != nullptr) return buf.data();
  if (len == 16 && inet_ntop(AF_INET6, data, buf.data(), buf.size()) != nullptr) return buf.data();
  return {};
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Err(StatusCode::kInternal, "open " + path.string() + ": " + std::strerror(errno));
  std::string out;
  std::array<char, 8192> buf{};
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Err(StatusCode::kInternal, "read " + path.string() + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Loads a certificate/key pair and checks that both parse and belong together.
Result<CertificateAndKey> LoadPair(const std::filesystem::path& cert_file,
                                   const std::filesystem::path& key_file) {
  Result<std::string> cert_pem = ReadFile(cert_file);
  if (!cert_pem) return Err(cert_pem.error());
  Result<std::string> key_pem = ReadFile(key_file);
  if (!key_pem) return Err(key_pem.error());
  Result<X509Ptr> cert = ParseCertificate(*cert_pem);
  if (!cert) return Err(StatusCode::kInvalid, cert_file.string() + ": " + cert.error().message());
  Result<PkeyPtr> key = ParsePrivateKey(*key_pem);
  if (!key) return Err(StatusCode::kInvalid, key_file.string() + ": " + key.error().message());
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return Err(StatusCode::kInvalid, key_file.string() + " does not match " + cert_file.string());
  }
  return CertificateAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

Status WritePair(const std::filesystem::path& cert_file, const std::filesystem::path& key_file,
                 const CertificateAndKey& pair) {
  // The key first: a certificate on disk without its key would look like a usable pair.
  if (Status s = WriteFileAtomically(key_file, pair.key_pem, 0600); !s.ok()) return s;
  return WriteFileAtomically(cert_file, pair.cert_pem, 0644);
}

bool Exists(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

std::string HostName() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return {};
  return buf.data();
}

void AppendUnique(std::vector<std::string>& list, std::string value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(std::move(value));
}

}  // namespace

Result<CertificateAndKey> CreateSelfSignedCa(const CertificateSpec& spec) {
  CertificateSpec ca_spec = spec;
  ca_spec.usage = CertificateUsage::kCa;
  Result<PkeyPtr> key = GenerateKey();
  if (!key) return Err(key.error());
  Result<X509Ptr> cert = BuildCertificate(ca_spec, key->get(), nullptr, key->get());
  if (!cert) return Err(cert.error());
  Result<std::string> cert_pem = CertToPem(cert->get());
  if (!cert_pem) return Err(cert_pem.error());
  Result<std::string> key_pem = KeyToPem(key->get());
  if (!key_pem) return Err(key_pem.error());
  return CertificateAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

Result<CertificateAndKey> IssueCertificate(const CertificateAndKey& ca,
                                           const CertificateSpec& spec) {
  Result<X509Ptr> ca_cert = ParseCertificate(ca.cert_pem);
  if (!ca_cert) return Err(StatusCode::kInvalid, "CA certificate: " + ca_cert.error().message());
  Result<PkeyPtr> ca_key = ParsePrivateKey(ca.key_pem);
  if (!ca_key) return Err(StatusCode::kInvalid, "CA key: " + ca_key.error().message());
  Result<PkeyPtr> key = GenerateKey();
  if (!key) return Err(key.error());
  Result<X509Ptr> cert = BuildCertificate(spec, key->get(), ca_cert->get(), ca_key->get());
  if (!cert) return Err(cert.error());
  Result<std::string> cert_pem = CertToPem(cert->get());
  if (!cert_pem) return Err(cert_pem.error());
  Result<std::string> key_pem = KeyToPem(key->get());
  if (!key_pem) return Err(key_pem.error());
  return CertificateAndKey{std::move(*cert_pem), std::move(*key_pem)};
}

Result<CertificateInfo> InspectCertificate(std::string_view pem) {
  Result<X509Ptr> cert = ParseCertificate(pem);
  if (!cert) return Err(cert.error());
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(cert->get());
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    std::string value = Asn1ToUtf8(X509_NAME_ENTRY_get_data(entry));
    if (nid == NID_commonName && info.common_name.empty()) info.common_name = std::move(value);
    if (nid == NID_organizationName) info.organizations.push_back(std::move(value));
  }
  info.not_before = Asn1TimeToTimePoint(X509_get0_notBefore(cert->get()));
  info.not_after = Asn1TimeToTimePoint(X509_get0_notAfter(cert->get()));
  info.is_ca = X509_check_ca(cert->get()) != 0;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
      if (gn->type == GEN_DNS) {
        info.dns_names.push_back(Asn1ToUtf8(gn->d.dNSName));
      } else if (gn->type == GEN_IPADD) {
        std::string ip =
            IpToText(ASN1_STRING_get0_data(gn->d.iPAddress), ASN1_STRING_length(gn->d.iPAddress));
        if (!ip.empty()) info.ip_addresses.push_back(std::move(ip));
      }
    }
    GENERAL_NAMES_free(names);
  }
  ERR_clear_error();
  return info;
}

Result<std::vector<std::string>> FirstServiceAddresses(std::string_view service_cidrs) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= service_cidrs.size()) {
    size_t comma = service_cidrs.find(',', start);
    if (comma == std::string_view::npos) comma = service_cidrs.size();
    std::string_view cidr = service_cidrs.substr(start, comma - start);
    start = comma + 1;
    while (!cidr.empty() && cidr.front() == ' ') cidr.remove_prefix(1);
    while (!cidr.empty() && cidr.back() == ' ') cidr.remove_suffix(1);
    if (cidr.empty()) continue;

    size_t slash = cidr.find('/');
    if (slash == std::string_view::npos)
      return Err(StatusCode::kInvalid, "invalid CIDR: " + std::string(cidr));
    std::string address(cidr.substr(0, slash));
    std::string_view prefix_text = cidr.substr(slash + 1);
    int prefix = -1;
    auto [ptr, ec] =
        std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
    if (ec != std::errc() || ptr != prefix_text.data() + prefix_text.size()) {
      return Err(StatusCode::kInvalid, "invalid CIDR: " + std::string(cidr));
    }
    std::array<unsigned char, 16> bytes{};
    int family = AF_INET;
    int length = 4;
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) != 1) {
      if (inet_pton(AF_INET6, address.c_str(), bytes.data()) != 1) {
        return Err(StatusCode::kInvalid, "invalid CIDR: " + std::string(cidr));
      }
      family = AF_INET6;
      length = 16;
    }
    // Need at least one address after the network address.
    if (prefix < 0 || prefix >= length * 8)
      return Err(StatusCode::kInvalid, "invalid CIDR: " + std::string(cidr));
    for (int bit = prefix; bit < length * 8; ++bit) {
      bytes[static_cast<size_t>(bit / 8)] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
    }
    for (int i = length - 1; i >= 0; --i) {
      if (++bytes[static_cast<size_t>(i)] != 0) break;
    }
    std::array<char, INET6_ADDRSTRLEN> text{};
    inet_ntop(family, bytes.data(), text.data(), text.size());
    out.emplace_back(text.data());
  }
  return out;
}

std::vector<std::string> HostInterfaceAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || (ifa->ifa_flags & IFF_UP) == 0 ||
        (ifa->ifa_flags & IFF_LOOPBACK) != 0)
      continue;
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (ifa->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
      if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) continue;
      inet_ntop(AF_INET, &sin->sin_addr, text.data(), text.size());
    } else if (ifa->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr);
      if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr) || IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
        continue;
      inet_ntop(AF_INET6, &sin6->sin6_addr, text.data(), text.size());
    } else {
      continue;
    }
    AppendUnique(out, text.data());
  }
  freeifaddrs(list);
  return out;
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           unsigned mode) {
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      return Status(StatusCode::kInternal,
                    "create " + path.parent_path().string() + ": " + ec.message());
  }
  std::string tmp = path.string() + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return Status(StatusCode::kInternal, "create " + tmp + ": " + std::strerror(errno));
  auto fail = [&](const char* op) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status(StatusCode::kInternal,
                  std::string(op) + " " + path.string() + ": " + std::strerror(err));
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("chmod");
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status(StatusCode::kInternal, "close " + path.string() + ": " + std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status(StatusCode::kInternal, "rename " + path.string() + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Result<ClusterPki> EnsureClusterPki(const std::filesystem::path& dir,
                                    const ClusterPkiOptions& options) {
  const Clock::time_point now = options.now.value_or(Clock::now());
  ClusterPki pki;
  pki.dir = dir;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Err(StatusCode::kInternal, "create " + dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return Err(StatusCode::kInternal, "chmod " + dir.string() + ": " + ec.message());

  if (Exists(pki.ca_cert_file()) && Exists(pki.ca_key_file())) {
    Result<CertificateAndKey> ca = LoadPair(pki.ca_cert_file(), pki.ca_key_file());
    if (!ca) return Err(ca.error());
    pki.ca = std::move(*ca);
  } else {
    CertificateSpec spec;
    spec.common_name = "skiff-ca";
    spec.not_before = now - std::chrono::hours(1);
    spec.validity = std::chrono::hours(24 * 3650);
    Result<CertificateAndKey> ca = CreateSelfSignedCa(spec);
    if (!ca) return Err(ca.error());
    if (Status s = WritePair(pki.ca_cert_file(), pki.ca_key_file(), *ca); !s.ok())
      return Err(std::move(s));
    pki.ca = std::move(*ca);
    pki.created_ca = true;
    pki.reissued = true;
  }

  // Returns the pair at (cert_file, key_file), reissued from `spec` when missing,
  // issued by a CA created just now, or close to expiry.
  auto ensure_leaf = [&](const std::filesystem::path& cert_file,
                         const std::filesystem::path& key_file,
                         const CertificateSpec& spec) -> Result<CertificateAndKey> {
    if (!pki.created_ca && Exists(cert_file) && Exists(key_file)) {
      Result<CertificateAndKey> pair = LoadPair(cert_file, key_file);
      if (!pair) return Err(pair.error());
      Result<CertificateInfo> info = InspectCertificate(pair->cert_pem);
      if (!info)
        return Err(StatusCode::kInvalid, cert_file.string() + ": " + info.error().message());
      if (info->not_after - options.renew_before > now) return pair;
    }
    Result<CertificateAndKey> pair = IssueCertificate(pki.ca, spec);
    if (!pair) return Err(pair.error());
    if (Status s = WritePair(cert_file, key_file, *pair); !s.ok()) return Err(std::move(s));
    pki.reissued = true;
    return pair;
  };

  CertificateSpec serving;
  serving.usage = CertificateUsage::kServer;
  serving.common_name = "kube-apiserver";
  serving.not_before = now - std::chrono::hours(1);
  serving.validity = std::chrono::hours(24 * 365);
  for (const char* name : {"localhost", "kubernetes", "kubernetes.default",
                           "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}) {
    AppendUnique(serving.dns_names, name);
  }
  std::string host = options.host_name.empty() ? HostName() : options.host_name;
  if (IsValidDnsName(host)) AppendUnique(serving.dns_names, host);
  AppendUnique(serving.ip_addresses, "127.0.0.1");
  AppendUnique(serving.ip_addresses, "::1");
  for (const std::string& ip : options.interface_addresses.value_or(HostInterfaceAddresses())) {
    if (IsIpAddress(ip)) AppendUnique(serving.ip_addresses, ip);
  }
  Result<std::vector<std::string>> service_ips = FirstServiceAddresses(options.service_cidr);
  if (!service_ips) return Err(service_ips.error());
  for (std::string& ip : *service_ips) AppendUnique(serving.ip_addresses, std::move(ip));
  for (const std::string& san : options.extra_sans) {
    if (IsIpAddress(san)) {
      AppendUnique(serving.ip_addresses, san);
    } else if (IsValidDnsName(san)) {
      AppendUnique(serving.dns_names, san);
    } else {
      return Err(StatusCode::kInvalid, "invalid subjectAltName: " + san);
    }
  }
  Result<CertificateAndKey> serving_pair =
      ensure_leaf(pki.serving_cert_file(), pki.serving_key_file(), serving);
  if (!serving_pair) return Err(serving_pair.error());
  pki.serving = std::move(*serving_pair);

  CertificateSpec admin;
  admin.usage = CertificateUsage::kClient;
  admin.common_name = options.admin_user;
  admin.organizations = options.admin_groups;
  admin.not_before = now - std::chrono::hours(1);
  admin.validity = std::chrono::hours(24 * 365);
  Result<CertificateAndKey> admin_pair =
      ensure_leaf(pki.admin_cert_file(), pki.admin_key_file(), admin);
  if (!admin_pair) return Err(admin_pair.error());
  pki.admin = std::move(*admin_pair);

  // The service account key outlives CA changes: tokens already issued stay valid.
  if (Exists(pki.service_account_key_file())) {
    Result<std::string> pem = ReadFile(pki.service_account_key_file());
    if (!pem) return Err(pem.error());
    if (Result<PkeyPtr> key = ParsePrivateKey(*pem); !key)
      return Err(StatusCode::kInvalid,
                 pki.service_account_key_file().string() + ": " + key.error().message());
    pki.service_account_key_pem = std::move(*pem);
  } else {
    Result<PkeyPtr> key = GenerateKey();
    if (!key) return Err(key.error());
    Result<std::string> pem = KeyToPem(key->get());
    if (!pem) return Err(pem.error());
    if (Status s = WriteFileAtomically(pki.service_account_key_file(), *pem, 0600); !s.ok())
      return Err(std::move(s));
    pki.service_account_key_pem = std::move(*pem);
    pki.reissued = true;
  }
  return pki;
}

Status WriteKubeconfig(const std::filesystem::path& path, std::string_view server_url,
                       std::string_view ca_pem, std::string_view client_cert_pem,
                       std::string_view client_key_pem, std::string_view name) {
  const std::string n(name);
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "certificate-authority-data" << YAML::Value << Base64(ca_pem);
  out << YAML::Key << "server" << YAML::Value << std::string(server_url);
  out << YAML::EndMap;
  out << YAML::Key << "name" << YAML::Value << n;
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << n;
  out << YAML::Key << "user" << YAML::Value << n;
  out << YAML::EndMap;
  out << YAML::Key << "name" << YAML::Value << n;
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << n;
  out << YAML::Key << "preferences" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << n;
  out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "client-certificate-data" << YAML::Value << Base64(client_cert_pem);
  out << YAML::Key << "client-key-data" << YAML::Value << Base64(client_key_pem);
  out << YAML::EndMap;
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::EndMap;
  if (!out.good())
    return Status(StatusCode::kInternal, "encoding kubeconfig: " + out.GetLastError());
  std::string text = out.c_str();
  text += '\n';
  return WriteFileAtomically(path, text, 0600);
}

}  // namespace skiff
