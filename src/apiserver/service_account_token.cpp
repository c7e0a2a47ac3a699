#include "apiserver/service_account_token.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>

#include <boost/json.hpp>

#include "base/base64.h"

namespace skiff {

namespace json = boost::json;
using Clock = std::chrono::system_clock;

namespace {

constexpr size_t kCoordinateBytes = 32;  // P-256

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};

std::unexpected<Status> Unauthorized(std::string why) {
  return Err(StatusCode::kUnauthorized, std::move(why));
}

int64_t ToUnix(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

json::object Ref(const BoundObject& o) { return json::object{{"name", o.name}, {"uid", o.uid}}; }

std::string StringOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<int64_t> IntOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}

std::optional<BoundObject> RefOf(const json::object& k8s, std::string_view key,
                                 std::string_view kind) {
  const json::value* v = k8s.if_contains(key);
  if (!v || !v->is_object()) return std::nullopt;
  return BoundObject{std::string(kind), StringOf(v->as_object(), "name"),
                     StringOf(v->as_object(), "uid")};
}

// Splits "a.b.c" into its three parts; false for anything else.
bool SplitJws(std::string_view token, std::array<std::string_view, 3>& parts) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return false;
  parts = {token.substr(0, first), token.substr(first + 1, second - first - 1),
           token.substr(second + 1)};
  return !parts[0].empty() && !parts[1].empty() && !parts[2].empty();
}

std::optional<json::object> DecodeSegment(std::string_view segment) {
  auto raw = Base64Decode(segment);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*raw, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

struct ServiceAccountTokenIssuer::Key {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
};

ServiceAccountTokenIssuer::ServiceAccountTokenIssuer(std::unique_ptr<Key> key, std::string issuer,
                                                     std::string key_id)
    : key_(std::move(key)), issuer_(std::move(issuer)), key_id_(std::move(key_id)) {}

ServiceAccountTokenIssuer::~ServiceAccountTokenIssuer() = default;

Result<std::unique_ptr<ServiceAccountTokenIssuer>> ServiceAccountTokenIssuer::Create(
    std::string_view private_key_pem, std::string issuer) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  auto key = std::make_unique<Key>();
  if (bio) key->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!key->pkey) return Err(StatusCode::kInvalid, "the service account key does not parse");
  if (EVP_PKEY_get_base_id(key->pkey.get()) != EVP_PKEY_EC ||
      EVP_PKEY_get_bits(key->pkey.get()) != 256)
    return Err(StatusCode::kInvalid, "the service account key must be an ECDSA P-256 key");
  // Kubernetes' key id: base64url(SHA-256(DER SubjectPublicKeyInfo)).
  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(key->pkey.get(), &der);
  if (der_len <= 0) {
    ERR_clear_error();
    return Err(StatusCode::kInvalid, "the service account key has no public key");
  }
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(der, static_cast<size_t>(der_len), digest.data());
  OPENSSL_free(der);
  std::string key_id = Base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return std::unique_ptr<ServiceAccountTokenIssuer>(
      new ServiceAccountTokenIssuer(std::move(key), std::move(issuer), std::move(key_id)));
}

Result<std::string> ServiceAccountTokenIssuer::Issue(const ServiceAccountClaims& claims) const {
  json::object header{{"alg", "ES256"}, {"kid", key_id_}};
  json::array aud;
  for (const auto& a : claims.audiences) aud.emplace_back(a);
  json::object k8s{{"namespace", claims.ns},
                   {"serviceaccount", json::object{{"name", claims.name}, {"uid", claims.uid}}}};
  if (claims.bound) {
    if (claims.bound->kind == "Pod") k8s["pod"] = Ref(*claims.bound);
    if (claims.bound->kind == "Secret") k8s["secret"] = Ref(*claims.bound);
    if (claims.bound->kind == "Node") k8s["node"] = Ref(*claims.bound);
  }
  if (claims.node && !k8s.contains("node")) k8s["node"] = Ref(*claims.node);
  json::object payload{{"aud", std::move(aud)},
                       {"exp", ToUnix(claims.expiry)},
                       {"iat", ToUnix(claims.issued_at)},
                       {"iss", issuer_},
                       {"jti", claims.id},
                       {"kubernetes.io", std::move(k8s)},
                       {"nbf", ToUnix(claims.issued_at)},
                       {"sub", ServiceAccountUserName(claims.ns, claims.name)}};
  std::string signing_input =
      Base64UrlEncode(json::serialize(header)) + "." + Base64UrlEncode(json::serialize(payload));

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    ERR_clear_error();
    return Err(StatusCode::kInternal, "failed to generate token: signing failed");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    ERR_clear_error();
    return Err(StatusCode::kInternal, "failed to generate token: signing failed");
  }
  // JWS wants R || S, each left-padded to the curve size, not DER.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) {
    ERR_clear_error();
    return Err(StatusCode::kInternal, "failed to generate token: malformed signature");
  }
  std::string raw(2 * kCoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out, kCoordinateBytes) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out + kCoordinateBytes, kCoordinateBytes) < 0) {
    return Err(StatusCode::kInternal, "failed to generate token: malformed signature");
  }
  return signing_input + "." + Base64UrlEncode(raw);
}

bool ServiceAccountTokenIssuer::Claims(std::string_view token) const {
  std::array<std::string_view, 3> parts;
  if (!SplitJws(token, parts)) return false;
  auto payload = DecodeSegment(parts[1]);
  return payload && StringOf(*payload, "iss") == issuer_;
}

Result<ServiceAccountClaims> ServiceAccountTokenIssuer::Verify(std::string_view token,
                                                               Clock::time_point now) const {
  std::array<std::string_view, 3> parts;
  if (!SplitJws(token, parts)) return Unauthorized("malformed token");
  auto header = DecodeSegment(parts[0]);
  auto payload = DecodeSegment(parts[1]);
  if (!header || !payload) return Unauthorized("malformed token");
  if (StringOf(*header, "alg") != "ES256") return Unauthorized("unexpected signing algorithm");
  if (header->contains("kid") && StringOf(*header, "kid") != key_id_)
    return Unauthorized("invalid signature: unknown key id");

  auto raw = Base64Decode(parts[2]);
  if (!raw || raw->size() != 2 * kCoordinateBytes) return Unauthorized("invalid signature");
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  const auto* r_bytes = reinterpret_cast<const unsigned char*>(raw->data());
  BIGNUM* r = BN_bin2bn(r_bytes, kCoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(r_bytes + kCoordinateBytes, kCoordinateBytes, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return Unauthorized("invalid signature");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const size_t input_len = parts[0].size() + 1 + parts[1].size();
  bool valid =
      der_len > 0 && ctx &&
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len),
                       reinterpret_cast<const unsigned char*>(token.data()), input_len) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  if (!valid) return Unauthorized("invalid signature");

  if (StringOf(*payload, "iss") != issuer_) return Unauthorized("token has an unknown issuer");
  auto exp = IntOf(*payload, "exp");
  auto nbf = IntOf(*payload, "nbf");
  auto iat = IntOf(*payload, "iat");
  const int64_t at = ToUnix(now);
  if (!exp) return Unauthorized("token has no expiry");
  if (at > *exp) return Unauthorized("token has expired");
  if (nbf && at < *nbf) return Unauthorized("token is not valid yet");

  ServiceAccountClaims claims;
  claims.expiry = Clock::time_point(std::chrono::seconds(*exp));
  claims.issued_at = Clock::time_point(std::chrono::seconds(iat.value_or(nbf.value_or(0))));
  claims.id = StringOf(*payload, "jti");
  if (const json::value* aud = payload->if_contains("aud")) {
    if (aud->is_string()) claims.audiences.emplace_back(aud->as_string());
    if (aud->is_array()) {
      for (const auto& a : aud->as_array())
        if (a.is_string()) claims.audiences.emplace_back(a.as_string());
    }
  }
  const json::value* k8s_v = payload->if_contains("kubernetes.io");
  if (!k8s_v || !k8s_v->is_object()) return Unauthorized("token lacks the kubernetes.io claim");
  const json::object& k8s = k8s_v->as_object();
  claims.ns = StringOf(k8s, "namespace");
  auto sa = RefOf(k8s, "serviceaccount", "ServiceAccount");
  if (claims.ns.empty() || !sa || sa->name.empty() || sa->uid.empty())
    return Unauthorized("token does not name a service account");
  claims.name = sa->name;
  claims.uid = sa->uid;
  if (StringOf(*payload, "sub") != ServiceAccountUserName(claims.ns, claims.name))
    return Unauthorized("token subject does not match its service account");
  if (auto pod = RefOf(k8s, "pod", "Pod")) {
    claims.bound = pod;
    claims.node = RefOf(k8s, "node", "Node");
  } else if (auto secret = RefOf(k8s, "secret", "Secret")) {
    claims.bound = secret;
  } else if (auto node = RefOf(k8s, "node", "Node")) {
    claims.bound = node;
  }
  return claims;
}

std::string ServiceAccountUserName(std::string_view ns, std::string_view name) {
  return "system:serviceaccount:" + std::string(ns) + ":" + std::string(name);
}

}  // namespace skiff
