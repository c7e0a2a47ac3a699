#include "apiserver/authn.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace skiff {
namespace {

using Groups = std::vector<std::string>;

HttpRequest WithBearer(std::string_view token) {
  HttpRequest request;
  request.headers["Authorization"] = "Bearer " + std::string(token);
  return request;
}

HttpRequest WithPeer(std::string cn, Groups orgs) {
  HttpRequest request;
  request.peer = PeerCertificate{std::move(cn), std::move(orgs)};
  return request;
}

std::unique_ptr<StaticTokenAuthenticator> MustParse(std::string_view csv) {
  auto parsed = StaticTokenAuthenticator::FromCsv(csv, "tokens.csv");
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().ToString());
  return parsed ? std::move(*parsed) : nullptr;
}

TEST(AuthnTest, ClientCertificateUsesCnAndOrganizations) {
  ClientCertAuthenticator authn;
  auto user = authn.Authenticate(WithPeer("system:admin", {"system:masters"}));
  ASSERT_TRUE(user.has_value());
  ASSERT_TRUE(user->has_value());
  EXPECT_EQ((*user)->name, "system:admin");
  EXPECT_EQ((*user)->groups, (Groups{"system:masters", "system:authenticated"}));
  EXPECT_TRUE((*user)->uid.empty());
}

TEST(AuthnTest, ClientCertificateAbsentOrWithoutCnIsNotClaimed) {
  ClientCertAuthenticator authn;
  auto none = authn.Authenticate(HttpRequest{});
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  auto no_cn = authn.Authenticate(WithPeer("", {"system:masters"}));
  ASSERT_TRUE(no_cn.has_value());
  EXPECT_FALSE(no_cn->has_value());
}

TEST(AuthnTest, TokenFileParsesKubernetesFormat) {
  auto authn = MustParse(
      "# comment line\n"
      "token1,alice,uid-1\n"
      "\n"
      "token2, bob ,uid-2,\"dev,ops\"\r\n"
      "token3,carol,uid-3,single\n"
      ",nobody,uid-0\n"
      "\"tok,en4\",\"dave \"\"the\"\" admin\",uid-4,\"system:masters,\n"
      "multi\"\n"
      "token5,eve,uid-5,\"\"");
  ASSERT_NE(authn, nullptr);
  EXPECT_EQ(authn->size(), 5u);

  auto alice = authn->Authenticate(WithBearer("token1"));
  ASSERT_TRUE(alice.has_value() && alice->has_value());
  EXPECT_EQ((*alice)->name, "alice");
  EXPECT_EQ((*alice)->uid, "uid-1");
  EXPECT_EQ((*alice)->groups, Groups{"system:authenticated"});

  auto bob = authn->Authenticate(WithBearer("token2"));
  ASSERT_TRUE(bob.has_value() && bob->has_value());
  EXPECT_EQ((*bob)->name, "bob ");  // leading space trimmed, trailing kept (as Go's csv)
  EXPECT_EQ((*bob)->groups, (Groups{"dev", "ops", "system:authenticated"}));

  auto carol = authn->Authenticate(WithBearer("token3"));
  ASSERT_TRUE(carol.has_value() && carol->has_value());
  EXPECT_EQ((*carol)->groups, (Groups{"single", "system:authenticated"}));

  auto dave = authn->Authenticate(WithBearer("tok,en4"));
  ASSERT_TRUE(dave.has_value() && dave->has_value());
  EXPECT_EQ((*dave)->name, "dave \"the\" admin");
  EXPECT_EQ((*dave)->groups, (Groups{"system:masters", "multi", "system:authenticated"}));

  auto eve = authn->Authenticate(WithBearer("token5"));
  ASSERT_TRUE(eve.has_value() && eve->has_value());
  EXPECT_EQ((*eve)->groups, Groups{"system:authenticated"});
}

TEST(AuthnTest, BadTokenIsUnauthorizedAndMissingTokenIsAnonymous) {
  auto authn = MustParse("token1,alice,uid-1\n");
  ASSERT_NE(authn, nullptr);
  auto bad = authn->Authenticate(WithBearer("wrong"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kUnauthorized);

  auto none = authn->Authenticate(HttpRequest{});
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  HttpRequest basic;
  basic.headers["Authorization"] = "Basic dXNlcjpwYXNz";
  auto basic_result = authn->Authenticate(basic);
  ASSERT_TRUE(basic_result.has_value());
  EXPECT_FALSE(basic_result->has_value());

  HttpRequest empty;
  empty.headers["Authorization"] = "Bearer   ";
  auto empty_result = authn->Authenticate(empty);
  ASSERT_TRUE(empty_result.has_value());
  EXPECT_FALSE(empty_result->has_value());
}

TEST(AuthnTest, BearerSchemeIsCaseInsensitive) {
  auto authn = MustParse("token1,alice,uid-1\n");
  ASSERT_NE(authn, nullptr);
  HttpRequest request;
  request.headers["authorization"] = "bEaReR token1";
  auto user = authn->Authenticate(request);
  ASSERT_TRUE(user.has_value() && user->has_value());
  EXPECT_EQ((*user)->name, "alice");
}

TEST(AuthnTest, MalformedTokenFileNamesTheLine) {
  auto too_few =
      StaticTokenAuthenticator::FromCsv("token1,alice,uid-1\n\ntoken2,bob\n", "tokens.csv");
  ASSERT_FALSE(too_few.has_value());
  EXPECT_EQ(too_few.error().code(), StatusCode::kInvalid);
  EXPECT_NE(too_few.error().message().find("tokens.csv: line 3"), std::string::npos)
      << too_few.error().message();
  EXPECT_NE(too_few.error().message().find("at least 3 columns"), std::string::npos);

  auto bare_quote = StaticTokenAuthenticator::FromCsv("token1,al\"ice,uid-1\n", "tokens.csv");
  ASSERT_FALSE(bare_quote.has_value());
  EXPECT_NE(bare_quote.error().message().find("line 1"), std::string::npos);

  auto unterminated =
      StaticTokenAuthenticator::FromCsv("a,b,c\ntoken1,\"alice,uid-1\n", "tokens.csv");
  ASSERT_FALSE(unterminated.has_value());

  auto junk_after_quote = StaticTokenAuthenticator::FromCsv("t,\"alice\"x,uid\n", "tokens.csv");
  ASSERT_FALSE(junk_after_quote.has_value());
  EXPECT_NE(junk_after_quote.error().message().find("line 1"), std::string::npos);
}

TEST(AuthnTest, TokenFileFromDisk) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "skiff-authn-XXXXXX").string();
  int fd = ::mkstemp(tmpl.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  { std::ofstream(tmpl) << "secret,admin,1,\"system:masters\"\n"; }
  auto authn = StaticTokenAuthenticator::FromFile(tmpl);
  ASSERT_TRUE(authn.has_value()) << authn.error().ToString();
  auto user = (*authn)->Authenticate(WithBearer("secret"));
  ASSERT_TRUE(user.has_value() && user->has_value());
  EXPECT_EQ((*user)->groups, (Groups{"system:masters", "system:authenticated"}));
  std::filesystem::remove(tmpl);

  auto missing = StaticTokenAuthenticator::FromFile("/nonexistent/tokens.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("/nonexistent/tokens.csv"), std::string::npos);
}

TEST(AuthnTest, UnionTriesEachInOrder) {
  std::vector<std::unique_ptr<Authenticator>> list;
  list.push_back(std::make_unique<ClientCertAuthenticator>());
  list.push_back(MustParse("token1,alice,uid-1,devs\n"));
  UnionAuthenticator authn(std::move(list));

  // Certificate wins.
  auto cert = authn.Authenticate(WithPeer("bob", {"ops"}));
  ASSERT_TRUE(cert.has_value() && cert->has_value());
  EXPECT_EQ((*cert)->name, "bob");

  // Token.
  auto token = authn.Authenticate(WithBearer("token1"));
  ASSERT_TRUE(token.has_value() && token->has_value());
  EXPECT_EQ((*token)->name, "alice");
  EXPECT_EQ((*token)->groups, (Groups{"devs", "system:authenticated"}));

  // A valid certificate with a bad token: the certificate is enough.
  HttpRequest both = WithPeer("bob", {});
  both.headers["Authorization"] = "Bearer nope";
  auto both_result = authn.Authenticate(both);
  ASSERT_TRUE(both_result.has_value() && both_result->has_value());
  EXPECT_EQ((*both_result)->name, "bob");

  // A bad token alone: Unauthorized.
  auto bad = authn.Authenticate(WithBearer("nope"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kUnauthorized);

  // Nothing: anonymous.
  auto anonymous = authn.Authenticate(HttpRequest{});
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_FALSE(anonymous->has_value());
}

TEST(AuthnTest, GroupHelpers) {
  UserInfo user{"u", "", {"system:authenticated"}, {}};
  AddAuthenticatedGroup(user);
  EXPECT_EQ(user.groups, Groups{"system:authenticated"});
  UserInfo anonymous = AnonymousUser();
  EXPECT_EQ(anonymous.name, "system:anonymous");
  EXPECT_EQ(anonymous.groups, Groups{"system:unauthenticated"});
  AddAuthenticatedGroup(anonymous);
  EXPECT_EQ(anonymous.groups, Groups{"system:unauthenticated"});
}

}  // namespace
}  // namespace skiff
