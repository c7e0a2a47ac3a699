#include "apiserver/service_account_token.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/base64.h"

namespace skiff {
namespace {

using Clock = std::chrono::system_clock;

std::string NewKeyPem(const char* type = "EC", const char* param = "P-256") {
  EVP_PKEY* key = type == std::string("EC")
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, param)
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048});
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

ServiceAccountClaims SampleClaims(Clock::time_point now) {
  ServiceAccountClaims c;
  c.ns = "team-a";
  c.name = "builder";
  c.uid = "11111111-2222-3333-4444-555555555555";
  c.audiences = {"https://kubernetes.default.svc.cluster.local", "vault"};
  c.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(now);
  c.expiry = c.issued_at + std::chrono::hours(1);
  c.id = "jti-1";
  c.bound = BoundObject{"Pod", "web-0", "pod-uid"};
  c.node = BoundObject{"Node", "n1", "node-uid"};
  return c;
}

class ServiceAccountTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto issuer =
        ServiceAccountTokenIssuer::Create(NewKeyPem(), std::string(kDefaultServiceAccountIssuer));
    ASSERT_TRUE(issuer.has_value()) << issuer.error().ToString();
    issuer_ = std::move(*issuer);
  }
  std::unique_ptr<ServiceAccountTokenIssuer> issuer_;
  Clock::time_point now_ = Clock::now();
};

TEST_F(ServiceAccountTokenTest, IssuedTokensVerifyWithTheirClaims) {
  auto token = issuer_->Issue(SampleClaims(now_));
  ASSERT_TRUE(token.has_value());
  EXPECT_TRUE(issuer_->Claims(*token));
  auto claims = issuer_->Verify(*token, now_);
  ASSERT_TRUE(claims.has_value()) << claims.error().ToString();
  ServiceAccountClaims want = SampleClaims(now_);
  EXPECT_EQ(claims->ns, want.ns);
  EXPECT_EQ(claims->name, want.name);
  EXPECT_EQ(claims->uid, want.uid);
  EXPECT_EQ(claims->audiences, want.audiences);
  EXPECT_EQ(claims->expiry, want.expiry);
  EXPECT_EQ(claims->issued_at, want.issued_at);
  EXPECT_EQ(claims->id, "jti-1");
  ASSERT_TRUE(claims->bound.has_value());
  EXPECT_EQ(claims->bound->kind, "Pod");
  EXPECT_EQ(claims->bound->uid, "pod-uid");
  ASSERT_TRUE(claims->node.has_value());
  EXPECT_EQ(claims->node->name, "n1");
  EXPECT_EQ(ServiceAccountUserName("team-a", "builder"), "system:serviceaccount:team-a:builder");
}

TEST_F(ServiceAccountTokenTest, RefusesExpiredEarlyTamperedAndForeignTokens) {
  auto token = issuer_->Issue(SampleClaims(now_));
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(issuer_->Verify(*token, now_ + std::chrono::hours(2)).error().code(),
            StatusCode::kUnauthorized);
  EXPECT_EQ(issuer_->Verify(*token, now_ - std::chrono::minutes(5)).error().code(),
            StatusCode::kUnauthorized);

  // A payload swapped for another account's keeps the old signature: refused.
  ServiceAccountClaims other = SampleClaims(now_);
  other.name = "admin";
  auto other_token = issuer_->Issue(other);
  ASSERT_TRUE(other_token.has_value());
  std::string forged = token->substr(0, token->find('.')) +
                       other_token->substr(other_token->find('.'),
                                           other_token->rfind('.') - other_token->find('.')) +
                       token->substr(token->rfind('.'));
  auto refused = issuer_->Verify(forged, now_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message(), "invalid signature");

  // Another key (another cluster) with the same issuer name: its kid is unknown here.
  auto stranger =
      ServiceAccountTokenIssuer::Create(NewKeyPem(), std::string(kDefaultServiceAccountIssuer));
  ASSERT_TRUE(stranger.has_value());
  auto stranger_token = (*stranger)->Issue(SampleClaims(now_));
  ASSERT_TRUE(stranger_token.has_value());
  EXPECT_EQ(issuer_->Verify(*stranger_token, now_).error().code(), StatusCode::kUnauthorized);

  for (const char* junk :
       {"", "a.b", "a.b.c.d", "...", "eyJhbGciOiJub25lIn0.e30.", "not a token"}) {
    EXPECT_FALSE(issuer_->Verify(junk, now_).has_value()) << junk;
    EXPECT_FALSE(issuer_->Claims(junk)) << junk;
  }
  // An unsigned ("alg": "none") token naming our issuer is refused.
  std::string none = Base64UrlEncode("{\"alg\":\"none\"}") + "." +
                     Base64UrlEncode("{\"iss\":\"https://kubernetes.default.svc.cluster.local\"}") +
                     ".x";
  EXPECT_TRUE(issuer_->Claims(none));
  EXPECT_EQ(issuer_->Verify(none, now_).error().code(), StatusCode::kUnauthorized);
}

TEST_F(ServiceAccountTokenTest, TokensOfOtherIssuersAreNotClaimed) {
  auto other = ServiceAccountTokenIssuer::Create(NewKeyPem(), "https://example.com");
  ASSERT_TRUE(other.has_value());
  auto token = (*other)->Issue(SampleClaims(now_));
  ASSERT_TRUE(token.has_value());
  EXPECT_FALSE(issuer_->Claims(*token));
}

TEST(ServiceAccountTokenIssuerTest, RefusesKeysItCannotUse) {
  EXPECT_EQ(ServiceAccountTokenIssuer::Create("garbage", "x").error().code(), StatusCode::kInvalid);
  EXPECT_EQ(ServiceAccountTokenIssuer::Create(NewKeyPem("RSA"), "x").error().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(ServiceAccountTokenIssuer::Create(NewKeyPem("EC", "P-384"), "x").error().code(),
            StatusCode::kInvalid);
}

}  // namespace
}  // namespace skiff
