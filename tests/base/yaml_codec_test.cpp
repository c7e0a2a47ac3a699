#include "base/yaml_codec.h"

#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "base/json_codec.h"

namespace skiff {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

json::value ParseOne(std::string_view yaml) {
  auto v = ParseYaml(yaml);
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error().ToString());
  return v ? *v : json::value();
}

// ---- decoding ----

TEST(ParseYamlTest, MultipleDocumentsSkippingEmptyOnes) {
  auto docs = ParseYamlDocuments(
      "---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\n---\n\n---\nnull\n---\n"
      "kind: Secret\n...\n");
  ASSERT_TRUE(docs.has_value()) << docs.error().ToString();
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0], J(R"({"apiVersion":"v1","kind":"ConfigMap"})"));
  EXPECT_EQ((*docs)[1], J(R"({"kind":"Secret"})"));

  auto empty = ParseYamlDocuments("");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  auto comments = ParseYamlDocuments("# nothing here\n");
  ASSERT_TRUE(comments.has_value());
  EXPECT_TRUE(comments->empty());
}

TEST(ParseYamlTest, PlainScalarsResolveLikeKubernetes) {
  json::value v = ParseOne(R"(
null1: ~
null2:
null3: null
null4: Null
b1: true
b2: False
b3: yes
b4: NO
b5: on
b6: Off
b7: y
b8: TRUE
i1: 42
i2: -17
i3: +12
i4: 0x1F
i5: 0o17
i6: 017
i7: 1_000
i8: -0b101
i9: 18446744073709551615
f1: 1.5
f2: .5
f3: 1e3
f4: 1.0
f5: 08
f6: 99999999999999999999
f7: -2.5e-3
s1: hello world
s2: 2024-01-02
s3: 0x
s4: 1e400
s5: 12:30
s6: nope
s7: "true"
s8: '42'
s9: "0x1F"
s10: |
  line1
  line2
s11: >-
  folded
  text
)");
  EXPECT_TRUE(v.at("null1").is_null());
  EXPECT_TRUE(v.at("null2").is_null());
  EXPECT_TRUE(v.at("null3").is_null());
  EXPECT_TRUE(v.at("null4").is_null());
  EXPECT_EQ(v.at("b1"), json::value(true));
  EXPECT_EQ(v.at("b2"), json::value(false));
  EXPECT_EQ(v.at("b3"), json::value(true));
  EXPECT_EQ(v.at("b4"), json::value(false));
  EXPECT_EQ(v.at("b5"), json::value(true));
  EXPECT_EQ(v.at("b6"), json::value(false));
  EXPECT_EQ(v.at("b7"), json::value(true));
  EXPECT_EQ(v.at("b8"), json::value(true));
  EXPECT_EQ(v.at("i1"), json::value(42));
  EXPECT_EQ(v.at("i2"), json::value(-17));
  EXPECT_EQ(v.at("i3"), json::value(12));
  EXPECT_EQ(v.at("i4"), json::value(31));
  EXPECT_EQ(v.at("i5"), json::value(15));
  EXPECT_EQ(v.at("i6"), json::value(15));
  EXPECT_EQ(v.at("i7"), json::value(1000));
  EXPECT_EQ(v.at("i8"), json::value(-5));
  ASSERT_TRUE(v.at("i9").is_uint64());
  EXPECT_EQ(v.at("i9").get_uint64(), 18446744073709551615u);
  EXPECT_EQ(v.at("f1"), json::value(1.5));
  EXPECT_EQ(v.at("f2"), json::value(0.5));
  ASSERT_TRUE(v.at("f3").is_int64());
  EXPECT_EQ(v.at("f3").get_int64(), 1000);
  ASSERT_TRUE(v.at("f4").is_int64());
  EXPECT_EQ(v.at("f4").get_int64(), 1);
  EXPECT_EQ(v.at("f5"), json::value(8));
  ASSERT_TRUE(v.at("f6").is_double());
  EXPECT_EQ(v.at("f6").get_double(), 1e20);
  EXPECT_EQ(v.at("f7"), json::value(-2.5e-3));
  EXPECT_EQ(v.at("s1"), json::value("hello world"));
  EXPECT_EQ(v.at("s2"), json::value("2024-01-02"));
  EXPECT_EQ(v.at("s3"), json::value("0x"));
  EXPECT_EQ(v.at("s4"), json::value("1e400"));
  EXPECT_EQ(v.at("s5"), json::value("12:30"));
  EXPECT_EQ(v.at("s6"), json::value("nope"));
  EXPECT_EQ(v.at("s7"), json::value("true"));
  EXPECT_EQ(v.at("s8"), json::value("42"));
  EXPECT_EQ(v.at("s9"), json::value("0x1F"));
  EXPECT_EQ(v.at("s10"), json::value("line1\nline2\n"));
  EXPECT_EQ(v.at("s11"), json::value("folded text"));
}

TEST(ParseYamlTest, ExplicitTags) {
  json::value v = ParseOne(
      "a: !!str 123\nb: !!int \"42\"\nc: !!float 3\nd: !custom text\n"
      "e: !!bool \"yes\"\n");
  EXPECT_EQ(v.at("a"), json::value("123"));
  EXPECT_EQ(v.at("b"), json::value(42));
  EXPECT_EQ(v.at("c"), json::value(3));
  EXPECT_EQ(v.at("d"), json::value("text"));
  EXPECT_EQ(v.at("e"), json::value(true));
  auto bad = ParseYaml("a: !!int abc\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kBadRequest);
  EXPECT_NE(bad.error().message().find("cannot decode !!str `abc` as a !!int"), std::string::npos);
}

TEST(ParseYamlTest, KeysBecomeStrings) {
  json::value v = ParseOne("1: a\ntrue: b\n1.5: c\n0x10: d\n.inf: e\n\"quoted\": f\n");
  EXPECT_EQ(v, J(R"({"1":"a","true":"b","1.5":"c","16":"d",".inf":"e","quoted":"f"})"));
  auto null_key = ParseYaml("~: x\n");
  ASSERT_FALSE(null_key.has_value());
  EXPECT_NE(null_key.error().message().find("unsupported map key: null"), std::string::npos);
  auto map_key = ParseYaml("? {a: 1}\n: x\n");
  ASSERT_FALSE(map_key.has_value());
  EXPECT_NE(map_key.error().message().find("unsupported map key"), std::string::npos);
}

TEST(ParseYamlTest, NonFiniteValuesAreRejected) {
  auto v = ParseYaml("a: .inf\n");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
  EXPECT_NE(v.error().message().find("json: unsupported value: +Inf"), std::string::npos);
  EXPECT_FALSE(ParseYaml("- .nan\n").has_value());
  EXPECT_FALSE(ParseYaml("-.Inf\n").has_value());
}

TEST(ParseYamlTest, AnchorsAliasesAndMergeKeys) {
  json::value v = ParseOne(R"(
base: &base
  a: 1
  b: 2
list: &list [x, z]
derived:
  <<: *base
  b: 3
  c: 4
multi:
  <<: [{p: 1}, {p: 2, q: 2}]
copy: *list
)");
  EXPECT_EQ(v.at("derived"), J(R"({"b":3,"c":4,"a":1})"));
  EXPECT_EQ(v.at("multi"), J(R"({"p":1,"q":2})"));
  EXPECT_EQ(v.at("copy"), J(R"(["x","z"])"));
  // "y" alone is a YAML 1.1 boolean.
  EXPECT_EQ(ParseOne("[x, y]"), J(R"(["x",true])"));
  EXPECT_FALSE(ParseYaml("a: &a [1]\nb:\n  <<: 5\n").has_value());
}

TEST(ParseYamlTest, BillionLaughsIsRejected) {
  std::string bomb =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  const char* names = "abcdefghi";
  for (int level = 1; level < 9; ++level) {
    bomb += std::string(1, names[level]) + ": &" + names[level] + " [";
    for (int k = 0; k < 9; ++k) {
      if (k > 0) bomb += ",";
      bomb += std::string("*") + names[level - 1];
    }
    bomb += "]\n";
  }
  auto v = ParseYaml(bomb);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message(), "yaml: document contains excessive aliasing");
}

TEST(ParseYamlTest, WideAliasOfLargeStringIsRejected) {
  std::string big(1 << 20, 'x');
  std::string text = "a: &a " + big + "\nb: [";
  for (int i = 0; i < 200; ++i) text += (i ? ",*a" : "*a");
  text += "]\n";
  auto v = ParseYaml(text);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message(), "yaml: document contains excessive aliasing");
}

TEST(ParseYamlTest, RecursiveAliasIsAnError) {
  EXPECT_FALSE(ParseYaml("a: &a [*a]\n").has_value());
  EXPECT_FALSE(ParseYaml("a: *undefined\n").has_value());
}

TEST(ParseYamlTest, NestingLimit) {
  std::string ok = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(ParseYaml(ok).has_value());
  std::string deep = std::string(101, '[') + std::string(101, ']');
  auto v = ParseYaml(deep);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message(), "YAML nesting exceeds 100 levels");
  // Aliases count where they are inserted.
  EXPECT_FALSE(ParseYaml("a: &a [[[1]]]\nb: [[*a]]\n", 5).has_value());
  EXPECT_TRUE(ParseYaml("a: &a [[[1]]]\nb: [*a]\n", 5).has_value());
}

TEST(ParseYamlTest, HugeNestingDoesNotCrash) {
  EXPECT_FALSE(ParseYaml(std::string(200000, '[')).has_value());
  std::string block;
  for (int i = 0; i < 3000; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  EXPECT_FALSE(ParseYaml(block).has_value());
}

TEST(ParseYamlTest, InputThatStallsTheParserIsAnError) {
  auto v = ParseYamlDocuments(",!!\n");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
  EXPECT_EQ(v.error().message(), "malformed YAML: unexpected content at line 1, column 1");
}

TEST(ParseYamlTest, MalformedInputReportsPosition) {
  auto v = ParseYaml("a: b\n c: d\n  - e\n");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kBadRequest);
  EXPECT_NE(v.error().message().find("malformed YAML: "), std::string::npos);
  EXPECT_NE(v.error().message().find(" at line "), std::string::npos);
  for (const char* text : {"[1, 2", "{a: 1", "a: 'unterminated", "\"\\q\"", "- a\nb: c\n", "a: *",
                           "&: x", "%YAML 9.9\n---\na\n", "\t- a\n"}) {
    auto r = ParseYamlDocuments(text);
    if (!r) {
      EXPECT_EQ(r.error().code(), StatusCode::kBadRequest) << text;
    }
  }
}

TEST(ParseYamlTest, Utf8) {
  auto bad = ParseYaml("a: \xff\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "malformed YAML: invalid UTF-8 at offset 3");
  // Escapes decode to well-formed UTF-8, including \N (U+0085) and \_ (U+00A0).
  json::value v = ParseOne(R"(a: "\N\_\xe9\u263a")");
  EXPECT_EQ(v.at("a"), json::value("\xc2\x85\xc2\xa0\xc3\xa9\xe2\x98\xba"));
}

TEST(ParseYamlTest, DuplicateKeysReportedLastWins) {
  std::vector<std::string> dups;
  auto docs = ParseYamlDocuments(
      "metadata:\n  name: a\n  name: b\nspec:\n  containers:\n  - name: x\n    name: y\n", 100,
      &dups);
  ASSERT_TRUE(docs.has_value());
  EXPECT_EQ(GetString((*docs)[0], {"metadata", "name"}), "b");
  ASSERT_EQ(dups.size(), 2u);
  EXPECT_EQ(dups[0], "metadata.name");
  EXPECT_EQ(dups[1], "spec.containers[0].name");
}

TEST(ParseYamlTest, MoreThanOneDocumentForParseYaml) {
  EXPECT_FALSE(ParseYaml("a: 1\n---\nb: 2\n").has_value());
  auto none = ParseYaml("");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->is_null());
}

// ---- encoding ----

TEST(ToYamlTest, PodLikeKubectl) {
  json::value pod = J(R"({
    "apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"nginx","namespace":"default","labels":{"app":"web"},
                "annotations":{"note":"line1\nline2\n"},
                "creationTimestamp":"2024-01-02T03:04:05Z","resourceVersion":"123",
                "uid":"0b1c6a0e-5f2b-4d3a-9a8e-1f2e3d4c5b6a"},
    "spec":{"containers":[{"name":"nginx","image":"nginx:1.25",
                           "ports":[{"containerPort":80,"protocol":"TCP"}],
                           "args":["--flag","true",""],
                           "resources":{}}],
            "tolerations":[]},
    "status":{"phase":"Pending"}})");
  EXPECT_EQ(ToYaml(pod),
            "apiVersion: v1\n"
            "kind: Pod\n"
            "metadata:\n"
            "  annotations:\n"
            "    note: |\n"
            "      line1\n"
            "      line2\n"
            "  creationTimestamp: \"2024-01-02T03:04:05Z\"\n"
            "  labels:\n"
            "    app: web\n"
            "  name: nginx\n"
            "  namespace: default\n"
            "  resourceVersion: \"123\"\n"
            "  uid: 0b1c6a0e-5f2b-4d3a-9a8e-1f2e3d4c5b6a\n"
            "spec:\n"
            "  containers:\n"
            "  - args:\n"
            "    - --flag\n"
            "    - \"true\"\n"
            "    - \"\"\n"
            "    image: nginx:1.25\n"
            "    name: nginx\n"
            "    ports:\n"
            "    - containerPort: 80\n"
            "      protocol: TCP\n"
            "    resources: {}\n"
            "  tolerations: []\n"
            "status:\n"
            "  phase: Pending\n");
}

TEST(ToYamlTest, ScalarQuoting) {
  auto y = [](const char* s) { return ToYaml(json::value(s)); };
  EXPECT_EQ(y("plain"), "plain\n");
  EXPECT_EQ(y(""), "\"\"\n");
  EXPECT_EQ(y("true"), "\"true\"\n");
  EXPECT_EQ(y("yes"), "\"yes\"\n");
  EXPECT_EQ(y("Off"), "\"Off\"\n");
  EXPECT_EQ(y("null"), "\"null\"\n");
  EXPECT_EQ(y("~"), "\"~\"\n");
  EXPECT_EQ(y("123"), "\"123\"\n");
  EXPECT_EQ(y("1.5"), "\"1.5\"\n");
  EXPECT_EQ(y(".5"), "\".5\"\n");
  EXPECT_EQ(y("0x1F"), "\"0x1F\"\n");
  EXPECT_EQ(y("1_000"), "\"1_000\"\n");
  EXPECT_EQ(y("10:30"), "\"10:30\"\n");
  EXPECT_EQ(y("2024-01-02"), "\"2024-01-02\"\n");
  EXPECT_EQ(y("1e400"), "1e400\n");
  EXPECT_EQ(ToYaml(J(R"({"<<":1})")), "\"<<\": 1\n");
  EXPECT_EQ(y("foo: bar"), "'foo: bar'\n");
  EXPECT_EQ(y("a:b"), "a:b\n");
  EXPECT_EQ(y("- x"), "'- x'\n");
  EXPECT_EQ(y("-x"), "-x\n");
  EXPECT_EQ(y("-"), "'-'\n");
  EXPECT_EQ(y("#c"), "'#c'\n");
  EXPECT_EQ(y("a #b"), "'a #b'\n");
  EXPECT_EQ(y("a#b"), "a#b\n");
  EXPECT_EQ(y(" lead"), "' lead'\n");
  EXPECT_EQ(y("trail "), "'trail '\n");
  EXPECT_EQ(y("it's: x"), "'it''s: x'\n");
  EXPECT_EQ(y("*star"), "'*star'\n");
  EXPECT_EQ(y("{a}"), "'{a}'\n");
  EXPECT_EQ(y("a,b[c]"), "a,b[c]\n");
  EXPECT_EQ(y("---"), "'---'\n");
  EXPECT_EQ(y("tab\there"), "\"tab\\there\"\n");
  EXPECT_EQ(y("caf\xc3\xa9"), "caf\xc3\xa9\n");
  EXPECT_EQ(y("\xf0\x9f\x98\x80"), "\"\\U0001F600\"\n");
  EXPECT_EQ(y("bad\xff"), "bad\xef\xbf\xbd\n");
}

TEST(ToYamlTest, BlockScalars) {
  EXPECT_EQ(ToYaml(J(R"({"k":"a\nb"})")), "k: |-\n  a\n  b\n");
  EXPECT_EQ(ToYaml(J(R"({"k":"a\nb\n"})")), "k: |\n  a\n  b\n");
  EXPECT_EQ(ToYaml(J(R"({"k":"a\n\n"})")), "k: |+\n  a\n\n");
  EXPECT_EQ(ToYaml(J(R"({"k":"  indented\nx"})")), "k: |2-\n    indented\n  x\n");
  EXPECT_EQ(ToYaml(J(R"({"k":"a\n\nb"})")), "k: |-\n  a\n\n  b\n");
  // Trailing spaces on a line or tabs rule out block style.
  EXPECT_EQ(ToYaml(J(R"({"k":"a \nb"})")), "k: \"a \\nb\"\n");
  EXPECT_EQ(ToYaml(J(R"({"k":"a\tb\nc"})")), "k: \"a\\tb\\nc\"\n");
  EXPECT_EQ(ToYaml(J(R"(["x\ny"])")), "- |-\n  x\n  y\n");
}

TEST(ToYamlTest, CollectionsAndNesting) {
  EXPECT_EQ(ToYaml(J("[[1,2],[3]]")), "- - 1\n  - 2\n- - 3\n");
  EXPECT_EQ(ToYaml(J(R"([{"a":1,"b":[{"c":2}]},{}])")), "- a: 1\n  b:\n  - c: 2\n- {}\n");
  EXPECT_EQ(ToYaml(J(R"({"a":{"b":{"c":[]}}})")), "a:\n  b:\n    c: []\n");
  EXPECT_EQ(ToYaml(J("{}")), "{}\n");
  EXPECT_EQ(ToYaml(J("[]")), "[]\n");
  EXPECT_EQ(ToYaml(J("null")), "null\n");
  EXPECT_EQ(ToYaml(J("5")), "5\n");
  EXPECT_EQ(ToYaml(J(R"({"a":null,"b":true,"c":-3})")), "a: null\nb: true\nc: -3\n");
}

TEST(ToYamlTest, Numbers) {
  EXPECT_EQ(ToYaml(J("[1.5, 2.0, 0.00001, 1234567.5, 1e21, -0.25, 18446744073709551615]")),
            "- 1.5\n- 2\n- 1e-05\n- 1.2345675e+06\n- 1e+21\n- -0.25\n- 18446744073709551615\n");
}

TEST(ToYamlTest, KeyOrderFollowsGoYaml) {
  EXPECT_EQ(ToYaml(J(R"({"b":1,"a":2,"B":3,"_x":4,"a10":5,"a9":6,"1":7})")),
            "_x: 4\n\"1\": 7\nB: 3\na: 2\na9: 6\na10: 5\nb: 1\n");
}

TEST(ToYamlTest, KeysThatNeedQuoting) {
  EXPECT_EQ(ToYaml(J(R"({"true":1,"foo: bar":2,"":3,"app.kubernetes.io/name":4})")),
            "\"\": 3\napp.kubernetes.io/name: 4\n'foo: bar': 2\n\"true\": 1\n");
  EXPECT_EQ(ToYaml(J(R"({"a\nb":1})")), "? |-\n  a\n  b\n: 1\n");
}

TEST(ToYamlTest, LongScalarsFoldAt80Columns) {
  const std::string words =
      "The quick brown fox jumps over the lazy dog and keeps running across the wide "
      "green field until the sun goes down behind the distant hills.";
  json::object o;
  o["message"] = words;
  const std::string out = ToYaml(o);
  EXPECT_EQ(out,
            "message: The quick brown fox jumps over the lazy dog and keeps running across the\n"
            "  wide green field until the sun goes down behind the distant hills.\n");
  auto back = ParseYaml(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->at("message"), json::value(words));
}

TEST(ToYamlTest, RoundTripsTrickyStrings) {
  const char* strings[] = {
      "",
      "true",
      "no",
      "0",
      "-1",
      "1e3",
      "a: b",
      "a #b",
      "#",
      "'quoted'",
      "\"dq\"",
      " ",
      "  two",
      "x  y",
      "multi\nline",
      "\nleading",
      "trailing\n",
      "a\n\n\nb",
      "tab\t",
      "back\\slash",
      "uni\xc3\xa9",
      "\xe2\x80\xa8sep",
      "nel\xc2\x85",
      "[x]",
      "{y}",
      "@at",
      "`tick`",
      "%pct",
      "!bang",
      "&amp",
      "*ptr",
      "? q",
      ": c",
      "- d",
      "|pipe",
      ">gt",
      "...",
      "2001-12-14t21:59:43.10-05:00",
      "<<",
      "~",
      "NULL",
      ".inf",
      "0o17",
      "08",
      "+.5",
      "a very long string that certainly goes past the eighty column limit of the emitter so it"
      " must be folded by the writer and still read back the same",
      "\"a very long double quoted string\" with tabs\tthat goes well past the eighty column"
      " limit  with  double  spaces  too",
  };
  for (const char* s : strings) {
    json::object o;
    o["k"] = s;
    json::array a;
    a.emplace_back(s);
    o["list"] = a;
    const std::string text = ToYaml(o);
    auto back = ParseYaml(text);
    ASSERT_TRUE(back.has_value()) << text << back.error().ToString();
    EXPECT_EQ(*back, json::value(o)) << "text:\n" << text;
  }
}

TEST(ToYamlTest, RoundTripsDocuments) {
  json::value doc = J(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","labels":{"app":"web","tier":"frontend"}},
    "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx","env":[{"name":"A","value":"1"},
          {"name":"B","value":"yes"}],"command":["sh","-c","echo hi; sleep 10"]}]}}}})");
  auto back = ParseYaml(ToYaml(doc));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, doc);
}

}  // namespace
}  // namespace skiff
