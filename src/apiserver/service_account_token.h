// Service account tokens: the signed JWTs that TokenRequest (serviceaccounts/token, e.g.
// `kubectl create token`) issues and that the server accepts as bearer tokens.
//
// Tokens are JWS compact serialisations signed with ES256 by the cluster's service
// account key (DATA_DIR/tls/service-account.key, ECDSA P-256), with the header's `kid`
// the base64url SHA-256 of the DER public key, as Kubernetes derives it. The claims are
// Kubernetes' own: iss, sub ("system:serviceaccount:NS:NAME"), aud, iat, nbf, exp, jti
// and the private "kubernetes.io" claim (namespace, serviceaccount {name, uid}, and the
// bound pod, secret or node {name, uid}).
//
// Thread safety: ServiceAccountTokenIssuer is immutable after construction; every method
// may be called concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace skiff {

// The issuer and the default audience of tokens, as kube-apiserver's defaults in a cluster
// named cluster.local (--service-account-issuer, --api-audiences).
inline constexpr std::string_view kDefaultServiceAccountIssuer =
    "https://kubernetes.default.svc.cluster.local";

// An object a token is bound to: the token is valid only while it exists.
struct BoundObject {
  std::string kind;  // "Pod", "Secret" or "Node"
  std::string name;
  std::string uid;
};

// What a token says.
struct ServiceAccountClaims {
  std::string ns;
  std::string name;  // of the service account
  std::string uid;   // of the service account
  std::vector<std::string> audiences;
  std::chrono::system_clock::time_point issued_at;  // also not-before
  std::chrono::system_clock::time_point expiry;
  std::string id;  // jti
  std::optional<BoundObject> bound;
  // The node of a bound pod, when the pod was scheduled (Kubernetes adds it, 1.30+).
  std::optional<BoundObject> node;
};

class ServiceAccountTokenIssuer {
 public:
  // `private_key_pem` is an ECDSA P-256 private key. Errors: kInvalid when it does not
  // parse or is another kind of key.
  static Result<std::unique_ptr<ServiceAccountTokenIssuer>> Create(std::string_view private_key_pem,
                                                                   std::string issuer);
  ~ServiceAccountTokenIssuer();
  ServiceAccountTokenIssuer(const ServiceAccountTokenIssuer&) = delete;
  ServiceAccountTokenIssuer& operator=(const ServiceAccountTokenIssuer&) = delete;

  // A signed token carrying `claims`. Errors: kInternal when signing fails.
  Result<std::string> Issue(const ServiceAccountClaims& claims) const;

  // Whether `token` is a JWT that names this issuer (so that no other authenticator
  // should look at it). Does not check the signature.
  bool Claims(std::string_view token) const;

  // The claims of `token` after checking its structure, algorithm, key id, signature,
  // issuer and validity window at `now`. Audiences are not checked here.
  // Errors: kUnauthorized with the reason ("token is expired", "invalid signature", ...).
  Result<ServiceAccountClaims> Verify(std::string_view token,
                                      std::chrono::system_clock::time_point now) const;

  const std::string& issuer() const { return issuer_; }
  const std::string& key_id() const { return key_id_; }

 private:
  struct Key;
  ServiceAccountTokenIssuer(std::unique_ptr<Key> key, std::string issuer, std::string key_id);

  const std::unique_ptr<Key> key_;
  const std::string issuer_;
  const std::string key_id_;
};

// The Kubernetes user name of a service account: "system:serviceaccount:NS:NAME".
std::string ServiceAccountUserName(std::string_view ns, std::string_view name);

}  // namespace skiff
