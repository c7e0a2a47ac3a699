#include "base/json_codec.h"

#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace skiff {
namespace {

namespace json = boost::json;

TEST(ParseJsonTest, ParsesDocumentAndKeepsMemberOrder) {
  auto v = ParseJson(R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}})");
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(SerializeJson(*v), R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"a"}})");
}

TEST(ParseJsonTest, AcceptsSurroundingWhitespace) {
  auto v = ParseJson(" \n[1, 2]\t\n");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(SerializeJson(*v), "[1,2]");
}

TEST(ParseJsonTest, MalformedInputIsBadRequestWithOffset) {
  auto v = ParseJson(R"({"a": tru})");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
  EXPECT_NE(v.error().message().find("malformed JSON: "), std::string::npos);
  EXPECT_NE(v.error().message().find(" at offset "), std::string::npos);
}

TEST(ParseJsonTest, RejectsEmptyTrailingGarbageCommentsAndTrailingCommas) {
  for (const char* text : {"", "   ", "{} x", "[1,]", "{\"a\":1,}", "// c\n{}", "{'a':1}", "[1 2]",
                           "\"\x01\"", "\"\xff\""}) {
    auto v = ParseJson(text);
    EXPECT_FALSE(v.has_value()) << text;
    if (!v) {
      EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
    }
  }
}

TEST(ParseJsonTest, NestingLimit) {
  std::string ok = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(ParseJson(ok).has_value());
  std::string deep = std::string(101, '[') + std::string(101, ']');
  auto v = ParseJson(deep);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
  EXPECT_EQ(v.error().message(), "JSON nesting exceeds 100 levels");

  EXPECT_TRUE(ParseJson("{\"a\":{}}", 2).has_value());
  EXPECT_FALSE(ParseJson("{\"a\":{\"b\":[]}}", 2).has_value());
}

TEST(ParseJsonTest, HugeNestingDoesNotCrash) {
  std::string deep(1'000'000, '[');
  auto v = ParseJson(deep);
  EXPECT_FALSE(v.has_value());
}

TEST(ParseJsonTest, DuplicateKeysLastWinsAndPathsReported) {
  std::vector<std::string> dups;
  auto v = ParseJson(
      R"({"metadata":{"name":"a","name":"b"},
          "spec":{"containers":[{"name":"x"},{"name":"y","image":"i","image":"j"}]},
          "kind":"Pod","kind":"Pod"})",
      100, &dups);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(GetString(*v, {"metadata", "name"}), "b");
  ASSERT_EQ(dups.size(), 3u);
  EXPECT_EQ(dups[0], "metadata.name");
  EXPECT_EQ(dups[1], "spec.containers[1].image");
  EXPECT_EQ(dups[2], "kind");
}

TEST(ParseJsonTest, DuplicateDetectionComparesDecodedKeys) {
  std::vector<std::string> dups;
  auto v = ParseJson(R"({"name":1,"na\u006de":2})", 100, &dups);
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(dups.size(), 1u);
  EXPECT_EQ(dups[0], "name");
}

TEST(ParseJsonTest, SameKeyInSiblingObjectsIsNotDuplicate) {
  std::vector<std::string> dups;
  auto v = ParseJson(R"([{"a":1},{"a":2},{"b":{"a":1},"c":{"a":2}}])", 100, &dups);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(dups.empty());
}

TEST(ParseJsonStrictTest, DuplicateIsError) {
  auto v = ParseJsonStrict(R"({"metadata":{"name":"a","name":"b"}})");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
  EXPECT_EQ(v.error().message(), "duplicate field \"metadata.name\"");
  EXPECT_TRUE(ParseJsonStrict(R"({"a":1})").has_value());
}

TEST(SerializeJsonTest, NumbersFormatLikeGo) {
  json::array a;
  a.emplace_back(1.0);
  a.emplace_back(0.1);
  a.emplace_back(1.5);
  a.emplace_back(1e21);
  a.emplace_back(1e20);
  a.emplace_back(1e-7);
  a.emplace_back(0.000001);
  a.emplace_back(-2.5e-10);
  a.emplace_back(123456789.0);
  a.emplace_back(std::int64_t{-42});
  a.emplace_back(std::uint64_t{18446744073709551615u});
  a.emplace_back(0.0);
  EXPECT_EQ(SerializeJson(a),
            "[1,0.1,1.5,1e+21,100000000000000000000,1e-7,0.000001,-2.5e-10,123456789,-42,"
            "18446744073709551615,0]");
}

TEST(SerializeJsonTest, NonFiniteBecomesNull) {
  json::array a;
  a.emplace_back(std::numeric_limits<double>::infinity());
  a.emplace_back(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(SerializeJson(a), "[null,null]");
}

TEST(SerializeJsonTest, EscapesStrings) {
  json::value v = json::string("a\"b\\c\n\t\x01<>&\xc3\xa9");
  EXPECT_EQ(SerializeJson(v), "\"a\\\"b\\\\c\\n\\t\\u0001<>&\xc3\xa9\"");
}

TEST(SerializeJsonTest, RoundTrip) {
  const std::string text =
      R"({"a":[true,false,null,{"b":"c"}],"d":-1,"e":2.25,"f":"","g":{},"h":[]})";
  auto v = ParseJson(text);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(SerializeJson(*v), text);
}

TEST(LookupTest, FollowsPathsSafely) {
  auto v = ParseJson(R"({"metadata":{"name":"n","generation":3,"ratio":2.0,"big":1e30},
                         "spec":{"paused":true,"list":[1]}})");
  ASSERT_TRUE(v.has_value());
  ASSERT_NE(Lookup(*v, {"metadata", "name"}), nullptr);
  EXPECT_EQ(Lookup(*v, {}), &*v);
  EXPECT_EQ(Lookup(*v, {"metadata", "missing"}), nullptr);
  EXPECT_EQ(Lookup(*v, {"metadata", "name", "deeper"}), nullptr);
  EXPECT_EQ(Lookup(*v, {"spec", "list", "0"}), nullptr);
  EXPECT_EQ(GetString(*v, {"metadata", "name"}), "n");
  EXPECT_EQ(GetString(*v, {"metadata", "generation"}, "dflt"), "dflt");
  EXPECT_EQ(GetInt(*v, {"metadata", "generation"}), 3);
  EXPECT_EQ(GetInt(*v, {"metadata", "ratio"}), 2);
  EXPECT_EQ(GetInt(*v, {"metadata", "big"}, -1), -1);
  EXPECT_EQ(GetInt(*v, {"metadata", "name"}, 7), 7);
  EXPECT_TRUE(GetBool(*v, {"spec", "paused"}));
  EXPECT_FALSE(GetBool(*v, {"spec", "missing"}));

  json::value* name = LookupMutable(*v, {"metadata", "name"});
  ASSERT_NE(name, nullptr);
  *name = "renamed";
  EXPECT_EQ(GetString(*v, {"metadata", "name"}), "renamed");
}

TEST(JsonEqualTest, NumbersCompareByValue) {
  EXPECT_TRUE(JsonEqual(json::value(1), json::value(1.0)));
  EXPECT_TRUE(JsonEqual(json::value(std::uint64_t{5}), json::value(std::int64_t{5})));
  EXPECT_FALSE(JsonEqual(json::value(1), json::value(1.5)));
  EXPECT_FALSE(JsonEqual(json::value(-1), json::value(std::uint64_t{18446744073709551615u})));
  EXPECT_TRUE(
      JsonEqual(json::parse(R"({"a":[1,{"b":2}]})"), json::parse(R"({"a":[1.0,{"b":2}]})")));
  EXPECT_FALSE(JsonEqual(json::parse(R"({"a":1})"), json::parse(R"({"a":1,"b":2})")));
  EXPECT_FALSE(JsonEqual(json::value("1"), json::value(1)));
  EXPECT_STREQ(JsonTypeName(json::value(1.5)), "number");
  EXPECT_STREQ(JsonTypeName(json::object()), "object");
}

}  // namespace
}  // namespace skiff
