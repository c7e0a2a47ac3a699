#include "base/label_selector.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace skiff {
namespace {

namespace json = boost::json;

LabelSelector MustParse(std::string_view text) {
  auto s = LabelSelector::Parse(text);
  EXPECT_TRUE(s.has_value()) << text << ": " << (s ? "" : s.error().message());
  return s ? *s : LabelSelector::Nothing();
}

std::string ParseError(std::string_view text) {
  auto s = LabelSelector::Parse(text);
  EXPECT_FALSE(s.has_value()) << text;
  if (s) return "";
  EXPECT_EQ(s.error().code(), StatusCode::kBadRequest);
  return s.error().message();
}

const std::map<std::string, std::string> kLabels = {
    {"app", "web"}, {"env", "prod"}, {"tier", "frontend"}, {"replicas", "3"}};

TEST(LabelSelectorTest, EmptyMatchesEverything) {
  LabelSelector s = MustParse("");
  EXPECT_TRUE(s.Empty());
  EXPECT_TRUE(s.Matches(kLabels));
  EXPECT_TRUE(s.Matches(std::map<std::string, std::string>{}));
  EXPECT_EQ(s.ToString(), "");
  EXPECT_TRUE(MustParse("   ").Empty());
  EXPECT_TRUE(LabelSelector().Matches(kLabels));
}

TEST(LabelSelectorTest, Operators) {
  EXPECT_TRUE(MustParse("app=web").Matches(kLabels));
  EXPECT_TRUE(MustParse("app==web").Matches(kLabels));
  EXPECT_FALSE(MustParse("app=db").Matches(kLabels));
  EXPECT_TRUE(MustParse("app!=db").Matches(kLabels));
  EXPECT_TRUE(MustParse("missing!=x").Matches(kLabels));
  EXPECT_FALSE(MustParse("app!=web").Matches(kLabels));
  EXPECT_TRUE(MustParse("env in (prod, staging)").Matches(kLabels));
  EXPECT_FALSE(MustParse("env in (dev)").Matches(kLabels));
  EXPECT_FALSE(MustParse("missing in (x)").Matches(kLabels));
  EXPECT_TRUE(MustParse("env notin (dev,qa)").Matches(kLabels));
  EXPECT_TRUE(MustParse("missing notin (dev)").Matches(kLabels));
  EXPECT_FALSE(MustParse("env notin (prod)").Matches(kLabels));
  EXPECT_TRUE(MustParse("tier").Matches(kLabels));
  EXPECT_FALSE(MustParse("missing").Matches(kLabels));
  EXPECT_TRUE(MustParse("!missing").Matches(kLabels));
  EXPECT_FALSE(MustParse("!app").Matches(kLabels));
  EXPECT_TRUE(MustParse("replicas>2").Matches(kLabels));
  EXPECT_FALSE(MustParse("replicas>3").Matches(kLabels));
  EXPECT_TRUE(MustParse("replicas<4").Matches(kLabels));
  EXPECT_FALSE(MustParse("app>1").Matches(kLabels));  // non-integer label value
  EXPECT_FALSE(MustParse("missing<5").Matches(kLabels));
  EXPECT_TRUE(MustParse("app=web,env in (prod),!legacy, tier").Matches(kLabels));
  EXPECT_FALSE(MustParse("app=web,env=dev").Matches(kLabels));
}

TEST(LabelSelectorTest, EmptyValues) {
  std::map<std::string, std::string> labels = {{"a", ""}};
  EXPECT_TRUE(MustParse("a=").Matches(labels));
  EXPECT_TRUE(MustParse("a in ()").Matches(labels));
  EXPECT_TRUE(MustParse("a in (,x)").Matches(labels));
  EXPECT_EQ(MustParse("a in (x,,y)").ToString(), "a in (,x,y)");
  EXPECT_FALSE(MustParse("a!=").Matches(labels));
}

TEST(LabelSelectorTest, KeywordsAreIdentifiersInValuePosition) {
  std::map<std::string, std::string> labels = {{"in", "notin"}};
  EXPECT_TRUE(MustParse("in=notin").Matches(labels));
  EXPECT_TRUE(MustParse("in in (notin)").Matches(labels));
}

TEST(LabelSelectorTest, CanonicalString) {
  EXPECT_EQ(MustParse("z=1, a in (c, b, c), !m, k,x notin (q), y==2, n!=3, g>1, h<9").ToString(),
            "a in (b,c),g>1,h<9,k,!m,n!=3,x notin (q),y==2,z=1");
  EXPECT_EQ(MustParse("example.com/key = v").ToString(), "example.com/key=v");
}

TEST(LabelSelectorTest, ParseErrorsMatchKubernetes) {
  EXPECT_EQ(ParseError("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
  EXPECT_EQ(ParseError("a=b c"), "found 'c', expected: ',' or 'end of string'");
  EXPECT_EQ(ParseError("a,"), "found '', expected: identifier after ','");
  EXPECT_EQ(ParseError("=a"), "found '=', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(ParseError("a in b"), "unable to parse requirement: found 'b' expected: '('");
  EXPECT_EQ(ParseError("a in (b"), "unable to parse requirement: found '', expected: ',' or ')'");
  EXPECT_EQ(ParseError("a in (b c)"),
            "unable to parse requirement: found 'c', expected: ',' or ')'");
  EXPECT_EQ(ParseError("a in (="),
            "unable to parse requirement: found '=', expected: ',', ')' or identifier");
  EXPECT_EQ(ParseError("a=("), "unable to parse requirement: found '(', expected: identifier");
  EXPECT_EQ(ParseError("!a=b"), "found '=', expected: ',' or 'end of string'");
  EXPECT_EQ(ParseError("!=a"), "found '!=', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(ParseError("! =a"), "unable to parse requirement: found '=', expected: identifier");
  EXPECT_EQ(ParseError("a@b=c"),
            "unable to parse requirement: <nil>: Invalid value: \"a@b\": name part must consist of "
            "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  EXPECT_EQ(
      ParseError("app=-x"),
      "unable to parse requirement: values[0][app]: Invalid value: \"-x\": a valid label must "
      "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
      "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
      "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  EXPECT_EQ(ParseError("a>x"),
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
            "operators, the value must be an integer");
  EXPECT_NE(ParseError("a in (-x,_y)").find("unable to parse requirement: [values[0][a]: "),
            std::string::npos);
}

TEST(LabelSelectorTest, FromJson) {
  auto s = LabelSelector::FromJson(json::parse(R"({
      "matchLabels": {"app": "web"},
      "matchExpressions": [
        {"key": "env", "operator": "In", "values": ["prod", "staging"]},
        {"key": "legacy", "operator": "DoesNotExist"},
        {"key": "tier", "operator": "Exists"},
        {"key": "track", "operator": "NotIn", "values": ["canary"]}]})"));
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->ToString(), "app=web,env in (prod,staging),!legacy,tier,track notin (canary)");
  EXPECT_TRUE(s->Matches(kLabels));
  EXPECT_EQ(s->RequiresExactMatch("app"), "web");
  EXPECT_EQ(s->RequiresExactMatch("env"), std::nullopt);

  auto everything = LabelSelector::FromJson(json::parse("{}"));
  ASSERT_TRUE(everything.has_value());
  EXPECT_TRUE(everything->Empty());
  auto nothing = LabelSelector::FromJson(json::value(nullptr));
  ASSERT_TRUE(nothing.has_value());
  EXPECT_TRUE(nothing->MatchesNothing());
  EXPECT_FALSE(nothing->Matches(kLabels));
  EXPECT_FALSE(nothing->Matches(std::map<std::string, std::string>{}));
}

TEST(LabelSelectorTest, FromJsonErrors) {
  auto msg = [](std::string_view text) {
    auto s = LabelSelector::FromJson(json::parse(text));
    EXPECT_FALSE(s.has_value()) << text;
    if (s) return std::string();
    EXPECT_EQ(s.error().code(), StatusCode::kInvalid);
    return s.error().message();
  };
  EXPECT_EQ(msg(R"({"matchExpressions":[{"key":"a","operator":"Equals","values":["x"]}]})"),
            "\"Equals\" is not a valid label selector operator");
  EXPECT_EQ(msg(R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})"),
            "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be "
            "empty");
  EXPECT_EQ(msg(R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})"),
            "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does "
            "not exist");
  EXPECT_EQ(msg(R"({"matchLabels":{"bad key":"v"}})")
                .rfind("key: Invalid value: \"bad key\": name part", 0),
            0u);
  EXPECT_FALSE(msg(R"({"matchLabels":[1]})").empty());
  EXPECT_FALSE(msg(R"({"matchLabels":{"a":1}})").empty());
  EXPECT_FALSE(msg(R"({"matchExpressions":{}})").empty());
  EXPECT_FALSE(msg(R"("app=web")").empty());
}

TEST(LabelSelectorTest, FromMapAndJsonLabels) {
  auto s = LabelSelector::FromMap({{"app", "web"}, {"tier", "frontend"}});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->ToString(), "app=web,tier=frontend");
  json::value labels = json::parse(R"({"app":"web","tier":"frontend","n":5})");
  EXPECT_TRUE(s->Matches(&labels));
  json::value other = json::parse(R"({"app":"web"})");
  EXPECT_FALSE(s->Matches(&other));
  EXPECT_FALSE(s->Matches(static_cast<const json::value*>(nullptr)));
  EXPECT_TRUE(MustParse("!n").Matches(&labels));  // non-string values count as absent
  EXPECT_TRUE(LabelSelector().Matches(static_cast<const json::value*>(nullptr)));
  EXPECT_FALSE(LabelSelector::FromMap({{"-bad", "v"}}).has_value());
}

TEST(LabelSelectorTest, HostileInputDoesNotCrash) {
  for (std::string text :
       {std::string(100000, '('), std::string(100000, '!'), std::string(100000, ','),
        std::string("a in (") + std::string(50000, ','), std::string("\0\xff=\x01", 4)}) {
    (void)LabelSelector::Parse(text);
  }
}

}  // namespace
}  // namespace skiff
