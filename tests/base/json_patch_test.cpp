#include "base/json_patch.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace skiff {
namespace {

namespace json = boost::json;

json::value J(std::string_view text) { return json::parse(text); }

json::value MustPatch(std::string_view doc, std::string_view patch) {
  auto r = ApplyJsonPatch(J(doc), J(patch));
  EXPECT_TRUE(r.has_value()) << patch << ": " << (r ? "" : r.error().message());
  return r ? *r : json::value();
}

Status PatchError(std::string_view doc, std::string_view patch) {
  auto r = ApplyJsonPatch(J(doc), J(patch));
  EXPECT_FALSE(r.has_value()) << patch;
  return r ? Status::Ok() : r.error();
}

TEST(JsonPointerTest, ParsesAndUnescapes) {
  EXPECT_TRUE(ParseJsonPointer("")->empty());
  EXPECT_EQ(*ParseJsonPointer("/"), std::vector<std::string>{""});
  EXPECT_EQ(*ParseJsonPointer("/a~1b/m~0n/0"), (std::vector<std::string>{"a/b", "m~n", "0"}));
  EXPECT_EQ(*ParseJsonPointer("/metadata/annotations/example.com~1key"),
            (std::vector<std::string>{"metadata", "annotations", "example.com/key"}));
  EXPECT_EQ(*ParseJsonPointer("/~01"), std::vector<std::string>{"~1"});
  EXPECT_FALSE(ParseJsonPointer("a/b").has_value());
  EXPECT_FALSE(ParseJsonPointer("/a~2").has_value());
  EXPECT_FALSE(ParseJsonPointer("/a~").has_value());
}

// RFC 6902 appendix A.
TEST(JsonPatchTest, RfcExamples) {
  EXPECT_EQ(MustPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])"),
            J(R"({"foo":"bar","baz":"qux"})"));
  EXPECT_EQ(
      MustPatch(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])"),
      J(R"({"foo":["bar","qux","baz"]})"));
  EXPECT_EQ(MustPatch(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])"),
            J(R"({"foo":"bar"})"));
  EXPECT_EQ(MustPatch(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])"),
            J(R"({"foo":["bar","baz"]})"));
  EXPECT_EQ(MustPatch(R"({"baz":"qux","foo":"bar"})",
                      R"([{"op":"replace","path":"/baz","value":"boo"}])"),
            J(R"({"baz":"boo","foo":"bar"})"));
  EXPECT_EQ(MustPatch(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                      R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])"),
            J(R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"));
  EXPECT_EQ(MustPatch(R"({"foo":["all","grass","cows","eat"]})",
                      R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])"),
            J(R"({"foo":["all","cows","eat","grass"]})"));
  EXPECT_EQ(MustPatch(R"({"baz":"qux","foo":["a",2,"c"]})",
                      R"([{"op":"test","path":"/baz","value":"qux"},
                          {"op":"test","path":"/foo/1","value":2}])"),
            J(R"({"baz":"qux","foo":["a",2,"c"]})"));
  EXPECT_EQ(
      MustPatch(R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])"),
      J(R"({"foo":"bar","child":{"grandchild":{}}})"));
  EXPECT_EQ(
      MustPatch(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])"),
      J(R"({"foo":["bar",["abc","def"]]})"));
  EXPECT_EQ(MustPatch(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])"),
            J(R"({"/":9,"~1":10})"));
  EXPECT_EQ(MustPatch(R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a/b","path":"/c"}])"),
            J(R"({"a":{"b":[1]},"c":[1]})"));
}

TEST(JsonPatchTest, KubernetesStylePatches) {
  const std::string deployment =
      R"({"metadata":{"name":"web","labels":{"app":"web"}},
          "spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1"}]}}}})";
  json::value out = MustPatch(deployment, R"([
      {"op":"test","path":"/spec/replicas","value":1},
      {"op":"replace","path":"/spec/replicas","value":3},
      {"op":"add","path":"/metadata/labels/tier","value":"frontend"},
      {"op":"add","path":"/metadata/annotations","value":{"example.com/owner":"team-a"}},
      {"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:2"},
      {"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"sidecar","image":"busybox"}},
      {"op":"remove","path":"/metadata/labels/app"}])");
  EXPECT_EQ(out.at("spec").at("replicas"), json::value(3));
  EXPECT_EQ(out.at("metadata").at("labels"), J(R"({"tier":"frontend"})"));
  EXPECT_EQ(out.at("metadata").at("annotations").at("example.com/owner"), json::value("team-a"));
  EXPECT_EQ(out.at("spec").at("template").at("spec").at("containers"),
            J(R"([{"name":"web","image":"nginx:2"},{"name":"sidecar","image":"busybox"}])"));
}

TEST(JsonPatchTest, NumbersCompareByValueInTest) {
  MustPatch(R"({"a":1})", R"([{"op":"test","path":"/a","value":1.0}])");
}

TEST(JsonPatchTest, NegativeIndexAndWholeDocument) {
  EXPECT_EQ(MustPatch(R"({"a":[1,2,3]})", R"([{"op":"remove","path":"/a/-1"}])"),
            J(R"({"a":[1,2]})"));
  EXPECT_EQ(MustPatch(R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])"),
            J(R"({"b":2})"));
  EXPECT_EQ(MustPatch(R"({"a":1})", "null"), J(R"({"a":1})"));
  EXPECT_EQ(MustPatch(R"({"a":1})", "[]"), J(R"({"a":1})"));
}

TEST(JsonPatchTest, FailuresAreInvalidWithLibraryMessages) {
  Status s = PatchError(R"({"spec":{"replicas":1}})",
                        R"([{"op":"test","path":"/spec/replicas","value":2}])");
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_EQ(s.message(), "testing value /spec/replicas failed: test failed");
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"add","path":"/a/b","value":1}])").message(),
            "add operation does not apply: doc is missing path: \"/a/b\": missing value");
  EXPECT_EQ(PatchError(R"({"a":{}})", R"([{"op":"remove","path":"/a/b"}])").message(),
            "error in remove for path: '/a/b': Unable to remove nonexistent key: b: missing value");
  EXPECT_EQ(PatchError(R"({"a":{}})", R"([{"op":"replace","path":"/a/b","value":1}])").message(),
            "replace operation does not apply: doc is missing key: /a/b: missing value");
  EXPECT_EQ(PatchError(R"({"a":[1]})", R"([{"op":"add","path":"/a/5","value":1}])").message(),
            "error in add for path: '/a/5': Unable to access invalid index: 5: invalid index "
            "referenced");
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"move","from":"/x/y","path":"/y"}])").message(),
            "move operation does not apply: doc is missing from path: /x/y: missing value");
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"move","from":"/x","path":"/y"}])").message(),
            "error in move for path: '/x': Unable to remove nonexistent key: x: missing value");
  EXPECT_EQ(PatchError(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])").code(),
            StatusCode::kInvalid);
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"copy","from":"/x","path":"/y"}])").message(),
            "copy operation does not apply: doc is missing from path: /x: missing value");
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"frobnicate","path":"/x"}])").message(),
            "Unexpected kind: frobnicate");
  EXPECT_EQ(PatchError(R"({})", R"([{"path":"/x"}])").message(), "Unexpected kind: unknown");
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"add","value":1}])").message(),
            "add operation failed to decode path: missing value");
  EXPECT_EQ(PatchError(R"({})", R"([{"op":"add","path":"x","value":1}])").code(),
            StatusCode::kInvalid);
  EXPECT_EQ(PatchError(R"({"a":1})", R"([{"op":"test","path":"/b/c","value":1}])").message(),
            "test operation does not apply: is missing path: /b/c: missing value");
  EXPECT_EQ(PatchError(R"({"a":[1]})", R"([{"op":"test","path":"/a/3","value":1}])").message(),
            "error in test for path: '/a/3': Unable to access invalid index: 3: invalid index "
            "referenced");
  // A missing member equals null.
  MustPatch(R"({"a":1})", R"([{"op":"test","path":"/b","value":null}])");
}

TEST(JsonPatchTest, FailedPatchLeavesDocumentUntouched) {
  json::value doc = J(R"({"a":1})");
  auto r = ApplyJsonPatch(
      doc, J(R"([{"op":"replace","path":"/a","value":2},{"op":"test","path":"/a","value":3}])"));
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(doc, J(R"({"a":1})"));
}

TEST(JsonPatchTest, MalformedPatchDocumentIsBadRequest) {
  Status s = PatchError(R"({})", R"({"op":"add"})");
  EXPECT_EQ(s.code(), StatusCode::kBadRequest);
  EXPECT_EQ(s.message(), "json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  EXPECT_EQ(PatchError(R"({})", R"(["add"])").message(),
            "json: cannot unmarshal string into Go value of type jsonpatch.Operation");
}

TEST(JsonPatchTest, TooManyOperations) {
  json::array ops;
  for (int i = 0; i < 3; ++i) ops.push_back(J(R"({"op":"test","path":"","value":{}})"));
  auto r = ApplyJsonPatch(J("{}"), ops, 2);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kRequestEntityTooLarge);
  EXPECT_EQ(r.error().message(), "The allowed maximum operations in a JSON patch is 2, got 3");
}

TEST(MergePatchTest, Rfc7386Examples) {
  struct Case {
    const char* target;
    const char* patch;
    const char* result;
  } cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", "null", "null"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ApplyMergePatch(J(c.target), J(c.patch)), J(c.result)) << c.patch;
  }
}

TEST(MergePatchTest, KubernetesLabelsAndReplicas) {
  json::value out = ApplyMergePatch(
      J(R"({"metadata":{"labels":{"app":"web","old":"x"}},"spec":{"replicas":1,"paused":true}})"),
      J(R"({"metadata":{"labels":{"old":null,"new":"y"}},"spec":{"replicas":5}})"));
  EXPECT_EQ(
      out,
      J(R"({"metadata":{"labels":{"app":"web","new":"y"}},"spec":{"replicas":5,"paused":true}})"));
}

}  // namespace
}  // namespace skiff
