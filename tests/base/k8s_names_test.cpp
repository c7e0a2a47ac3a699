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

TEST(K8sNamesTest, ExactKubernetesMessages) {
  EXPECT_EQ(IsDns1123Label("a.b"), std::vector<std::string>{"must not contain dots"});
  EXPECT_EQ(IsDns1123Label("Ab"),
            std::vector<std::string>{
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"});
  EXPECT_EQ(
      IsDns1035Label("1web"),
      std::vector<std::string>{
          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
          "with an alphabetic character, and end with an alphanumeric character (e.g. "
          "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"});
  const std::string name_part =
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
      "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
      "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  EXPECT_EQ(IsQualifiedName("example.com/"),
            (std::vector<std::string>{"name part must be non-empty", name_part}));
  EXPECT_EQ(IsQualifiedName(std::string(64, 'a')),
            std::vector<std::string>{"name part must be no more than 63 characters"});
  EXPECT_EQ(IsQualifiedName("-" + std::string(64, 'a')),
            (std::vector<std::string>{"name part must be no more than 63 characters", name_part}));
  auto prefix = IsQualifiedName("Example.com/x");
  ASSERT_EQ(prefix.size(), 1u);
  EXPECT_EQ(prefix[0].rfind("prefix part a lowercase RFC 1123 subdomain", 0), 0u);
  EXPECT_EQ(IsValidLabelValue(std::string(64, 'a')),
            std::vector<std::string>{"must be no more than 63 characters"});
}

TEST(K8sNamesTest, PathSegmentsAnnotationsAndGenerateName) {
  EXPECT_TRUE(IsValidPathSegmentName("ok-name").empty());
  EXPECT_EQ(IsValidPathSegmentName(".."), std::vector<std::string>{"may not be '..'"});
  EXPECT_EQ(IsValidPathSegmentName("a/b%c"),
            (std::vector<std::string>{"may not contain '/'", "may not contain '%'"}));
  EXPECT_TRUE(IsValidAnnotationsSize(262144).empty());
  EXPECT_EQ(IsValidAnnotationsSize(262145),
            std::vector<std::string>{"Too long: must have at most 262144 bytes"});
  EXPECT_EQ(MaskTrailingDash("web-"), "weba");
  EXPECT_EQ(MaskTrailingDash("-"), "-");
  EXPECT_TRUE(IsDns1123Subdomain(MaskTrailingDash("web-")).empty());
}

}  // namespace
}  // namespace skiff
