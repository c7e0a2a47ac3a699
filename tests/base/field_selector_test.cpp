#include "base/field_selector.h"

#include <map>

#include <gtest/gtest.h>

namespace skiff {
namespace {

FieldSelector MustParse(std::string_view text) {
  auto s = FieldSelector::Parse(text);
  EXPECT_TRUE(s.has_value()) << text << ": " << (s ? "" : s.error().message());
  return s ? *s : FieldSelector();
}

FieldSelector::FieldGetter Fields(std::map<std::string, std::string> fields) {
  return [fields = std::move(fields)](std::string_view name) -> std::optional<std::string> {
    auto it = fields.find(std::string(name));
    if (it == fields.end()) return std::nullopt;
    return it->second;
  };
}

TEST(FieldSelectorTest, ParsesAndMatches) {
  auto pod = Fields({{"metadata.name", "web-1"},
                     {"metadata.namespace", "default"},
                     {"status.phase", "Running"},
                     {"spec.nodeName", "node-a"}});
  EXPECT_TRUE(MustParse("").Matches(pod));
  EXPECT_TRUE(MustParse("").Empty());
  EXPECT_TRUE(MustParse("metadata.name=web-1").Matches(pod));
  EXPECT_TRUE(MustParse("metadata.name==web-1").Matches(pod));
  EXPECT_FALSE(MustParse("metadata.name=web-2").Matches(pod));
  EXPECT_TRUE(MustParse("status.phase!=Failed,spec.nodeName=node-a").Matches(pod));
  EXPECT_FALSE(MustParse("status.phase!=Running").Matches(pod));
  // A missing field reads as "".
  EXPECT_TRUE(MustParse("spec.missing=").Matches(pod));
  EXPECT_TRUE(MustParse("spec.missing!=x").Matches(pod));
  EXPECT_FALSE(MustParse("spec.missing=x").Matches(pod));
  // Empty terms are skipped.
  EXPECT_EQ(MustParse("a=1,,b=2,").requirements().size(), 2u);
}

TEST(FieldSelectorTest, EscapedValues) {
  FieldSelector s = MustParse(R"(metadata.name=a\,b\=c\\d)");
  ASSERT_EQ(s.requirements().size(), 1u);
  EXPECT_EQ(s.requirements()[0].field, "metadata.name");
  EXPECT_EQ(s.requirements()[0].value, R"(a,b=c\d)");
  EXPECT_EQ(s.ToString(), R"(metadata.name=a\,b\=c\\d)");
  EXPECT_TRUE(s.Matches(Fields({{"metadata.name", R"(a,b=c\d)"}})));
  EXPECT_EQ(EscapeFieldValue("x=y,z"), R"(x\=y\,z)");
  EXPECT_EQ(*UnescapeFieldValue(EscapeFieldValue(R"(\,=\\)")), R"(\,=\\)");
}

TEST(FieldSelectorTest, CanonicalOrderAndOperators) {
  FieldSelector s = MustParse("status.phase!=Failed,metadata.name==x,a=b");
  EXPECT_EQ(s.ToString(), "a=b,metadata.name=x,status.phase!=Failed");
  EXPECT_EQ(s.RequiresExactMatch("metadata.name"), "x");
  EXPECT_EQ(s.RequiresExactMatch("status.phase"), std::nullopt);
  EXPECT_EQ(s.RequiresExactMatch("other"), std::nullopt);
  // "!=" and "==" win over "=" at the same position.
  FieldSelector t = MustParse("a!=b,c==d");
  ASSERT_EQ(t.requirements().size(), 2u);
  EXPECT_TRUE(t.requirements()[0].not_equals);
  EXPECT_EQ(t.requirements()[0].value, "b");
  EXPECT_FALSE(t.requirements()[1].not_equals);
  EXPECT_EQ(t.requirements()[1].value, "d");
}

TEST(FieldSelectorTest, ErrorsMatchKubernetes) {
  auto err = [](std::string_view text) {
    auto s = FieldSelector::Parse(text);
    EXPECT_FALSE(s.has_value()) << text;
    if (s) return std::string();
    EXPECT_EQ(s.error().code(), StatusCode::kBadRequest);
    return s.error().message();
  };
  EXPECT_EQ(err("metadata.name"),
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  EXPECT_EQ(err("a=b,c"), "invalid selector: 'a=b,c'; can't understand 'c'");
  EXPECT_EQ(err(R"(a=b\x)"), R"(invalid field selector: invalid escape sequence: \x)");
  EXPECT_EQ(err(R"(a=b\)"), R"(invalid field selector: invalid escape sequence: \)");
  EXPECT_EQ(err("a=b=c"), "invalid field selector: unescaped character in value: 61");
  EXPECT_EQ(err("a!==b"), "invalid field selector: unescaped character in value: 61");
}

TEST(FieldSelectorTest, UnsupportedFields) {
  FieldSelector s = MustParse("metadata.name=x,spec.foo=y");
  auto supported = [](std::string_view f) {
    return f == "metadata.name" || f == "metadata.namespace";
  };
  Status st = s.CheckSupported(supported);
  EXPECT_EQ(st.code(), StatusCode::kBadRequest);
  EXPECT_EQ(st.message(), "field label not supported: spec.foo");
  EXPECT_TRUE(MustParse("metadata.name=x").CheckSupported(supported).ok());
  // Fields are not trimmed, as in Kubernetes.
  EXPECT_FALSE(MustParse("metadata.name =x").CheckSupported(supported).ok());
}

TEST(FieldSelectorTest, HostileInputDoesNotCrash) {
  for (std::string text :
       {std::string(100000, ','), std::string(100000, '\\'), std::string(100000, '='),
        std::string("a=\xff\xfe"), std::string("a=\\\xe2\x82")}) {
    (void)FieldSelector::Parse(text);
  }
}

}  // namespace
}  // namespace skiff
