// Authentication: who is making a request.
//
// An Authenticator looks at one kind of credential (a verified client certificate, a
// bearer token) and answers with a user, with "no credential of mine here", or with
// Unauthorized when a credential is present but invalid. A request that no
// authenticator claims is anonymous; the caller decides whether anonymous requests are
// allowed (AnonymousUser()). As in Kubernetes, every authenticated user also belongs to
// "system:authenticated".
//
// Thread safety: authenticators are immutable after construction; Authenticate may be
// called concurrently from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "apiserver/http.h"
#include "base/status.h"

namespace skiff {

inline constexpr std::string_view kAllAuthenticatedGroup = "system:authenticated";
inline constexpr std::string_view kAllUnauthenticatedGroup = "system:unauthenticated";
inline constexpr std::string_view kAnonymousUser = "system:anonymous";

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;

  bool operator==(const UserInfo&) const = default;
};

// The user of a request that carries no credentials: "system:anonymous" in group
// "system:unauthenticated".
UserInfo AnonymousUser();

// Appends "system:authenticated" to `user.groups` unless it (or
// "system:unauthenticated") is already there.
void AddAuthenticatedGroup(UserInfo& user);

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // Returns the user `request` proves; std::nullopt when the request carries no
  // credential this authenticator understands. Errors: kUnauthorized when it carries
  // such a credential and the credential is not valid.
  virtual Result<std::optional<UserInfo>> Authenticate(const HttpRequest& request) const = 0;
};

// Trusts HttpRequest::peer, which the transport fills only for a client certificate
// that chains to the cluster CA: name = subject CN, groups = subject O entries.
// A certificate without a CN is not claimed.
class ClientCertAuthenticator final : public Authenticator {
 public:
  // Authenticator
  Result<std::optional<UserInfo>> Authenticate(const HttpRequest& request) const override;
};

// "Authorization: Bearer <token>" checked against a fixed table of tokens, as loaded
// from Kubernetes' static token file (--token-auth-file).
class StaticTokenAuthenticator final : public Authenticator {
 public:
  explicit StaticTokenAuthenticator(std::unordered_map<std::string, UserInfo> tokens);

  // Reads a static token file: CSV records `token,user,uid[,"group1,group2"]` with
  // RFC 4180 quoting, leading spaces of fields ignored, blank lines and lines starting
  // with '#' skipped, records with an empty token skipped; a later duplicate token
  // wins. Errors: kInvalid naming the file and line for a malformed record (fewer
  // than 3 fields, a stray quote); kInternal when the file cannot be read.
  static Result<std::unique_ptr<StaticTokenAuthenticator>> FromFile(
      const std::filesystem::path& path);
  // As FromFile, for file content; `source` names it in errors.
  static Result<std::unique_ptr<StaticTokenAuthenticator>> FromCsv(std::string_view content,
                                                                   std::string_view source);

  size_t size() const { return tokens_.size(); }

  // Authenticator
  Result<std::optional<UserInfo>> Authenticate(const HttpRequest& request) const override;

 private:
  const std::unordered_map<std::string, UserInfo> tokens_;  // constant after construction
};

// Tries each authenticator in order; the first user found wins. When none finds a
// user, returns the first error any of them reported, else std::nullopt (anonymous).
class UnionAuthenticator final : public Authenticator {
 public:
  explicit UnionAuthenticator(std::vector<std::unique_ptr<Authenticator>> authenticators);

  // Authenticator
  Result<std::optional<UserInfo>> Authenticate(const HttpRequest& request) const override;

 private:
  const std::vector<std::unique_ptr<Authenticator>> authenticators_;  // constant after construction
};

// The token of an "Authorization: Bearer <token>" header (scheme case-insensitive),
// or std::nullopt when there is none or it is empty.
std::optional<std::string_view> BearerToken(const HttpRequest& request);

}  // namespace skiff
