#include "base/k8s_names.h"

#include <gtest/gtest.h>

namespace skiff {
namespace {

TEST(K8sNamesTest, Subdomain) {
  EXPECT_TRUE(IsDns1123Subdomain("example.com").empty());
  EXPECT_TRUE(IsDns1123Subdomain("my-app-1").empty());
  auto errs = IsDns1123Subdomain("Bad_Name");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("a lowercase RFC 1123 subdomain must consist of", 0), 0u);
  EXPECT_FALSE(IsDns1123Subdomain("-a").empty());
  EXPECT_FALSE(IsDns1123Subdomain(std::string(254, 'a')).empty());
}

TEST(K8sNamesTest, LabelsAndDns1035) {
  EXPECT_TRUE(IsDns1123Label("default").empty());
  EXPECT_FALSE(IsDns1123Label("a.b").empty());
  EXPECT_TRUE(IsDns1035Label("web").empty());
  EXPECT_FALSE(IsDns1035Label("1web").empty());
  EXPECT_EQ(IsDns1123Label(std::string(64, 'a'))[0], "must be no more than 63 characters");
}

TEST(K8sNamesTest, QualifiedNamesAndLabelValues) {
  EXPECT_TRUE(IsQualifiedName("app").empty());
  EXPECT_TRUE(IsQualifiedName("app.kubernetes.io/name").empty());
  EXPECT_TRUE(IsQualifiedName("example.com/Hold_1").empty());
  EXPECT_FALSE(IsQualifiedName("bad key").empty());
  EXPECT_FALSE(IsQualifiedName("a/b/c").empty());
  EXPECT_EQ(IsQualifiedName("/x")[0], "prefix part must be non-empty");
  EXPECT_TRUE(IsValidLabelValue("").empty());
  EXPECT_TRUE(IsValidLabelValue("v1.2_x").empty());
  EXPECT_FALSE(IsValidLabelValue("-x").empty());
  EXPECT_TRUE(IsConfigMapKey("app.properties").empty());
  EXPECT_FALSE(IsConfigMapKey("a/b").empty());
}

}  // namespace
}  // namespace skiff
