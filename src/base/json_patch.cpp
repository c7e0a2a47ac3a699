#include "base/json_patch.h"

#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "base/json_codec.h"

namespace skiff {
namespace {

namespace json = boost::json;

constexpr std::string_view kMissing = ": missing value";
constexpr std::string_view kInvalidIndex = ": invalid index referenced";

std::unexpected<Status> Invalid(std::string message) {
  return Err(StatusCode::kInvalid, std::move(message));
}

// Resolves an array index token. `for_insert` allows index == size and "-".
bool ResolveIndex(const json::array& array, std::string_view token, bool for_insert,
                  std::size_t* index, std::string* error) {
  if (token == "-") {
    if (!for_insert) {
      *error = "Unable to access invalid index: -" + std::string(kInvalidIndex);
      return false;
    }
    *index = array.size();
    return true;
  }
  int64_t i = 0;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), i);
  if (token.empty() || ec != std::errc() || ptr != token.data() + token.size()) {
    *error = "Unable to access invalid index: " + std::string(token) + std::string(kInvalidIndex);
    return false;
  }
  const auto size = static_cast<int64_t>(array.size());
  const int64_t limit = for_insert ? size : size - 1;
  int64_t resolved = i;
  if (resolved < 0) resolved += size;  // negative indices count from the end
  if (resolved < 0 || resolved > limit) {
    *error = "Unable to access invalid index: " + std::to_string(i) + std::string(kInvalidIndex);
    return false;
  }
  *index = static_cast<std::size_t>(resolved);
  return true;
}

// The container holding the last token of `tokens`, or nullptr when an intermediate step
// is missing. Requires a non-empty token list.
json::value* FindParent(json::value& doc, const std::vector<std::string>& tokens) {
  json::value* current = &doc;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (json::object* object = current->if_object()) {
      auto it = object->find(tokens[i]);
      if (it == object->end()) return nullptr;
      current = &it->value();
    } else if (json::array* array = current->if_array()) {
      std::size_t index;
      std::string ignored;
      if (!ResolveIndex(*array, tokens[i], false, &index, &ignored)) return nullptr;
      current = &(*array)[index];
    } else {
      return nullptr;
    }
  }
  return current->is_object() || current->is_array() ? current : nullptr;
}

// The value at `tokens`, or nullptr.
const json::value* Get(const json::value& doc, const std::vector<std::string>& tokens) {
  const json::value* current = &doc;
  for (const std::string& token : tokens) {
    if (const json::object* object = current->if_object()) {
      auto it = object->find(token);
      if (it == object->end()) return nullptr;
      current = &it->value();
    } else if (const json::array* array = current->if_array()) {
      std::size_t index;
      std::string ignored;
      if (!ResolveIndex(*array, token, false, &index, &ignored)) return nullptr;
      current = &(*array)[index];
    } else {
      return nullptr;
    }
  }
  return current;
}

// Adds `value` at `tokens`. On failure returns false with the library's message.
bool Add(json::value& doc, const std::vector<std::string>& tokens, json::value value,
         const std::string& op, const std::string& path, std::string* error) {
  if (tokens.empty()) {
    doc = std::move(value);
    return true;
  }
  json::value* parent = FindParent(doc, tokens);
  if (parent == nullptr) {
    *error = op == "add"
                 ? "add operation does not apply: doc is missing path: \"" + path + "\"" +
                       std::string(kMissing)
                 : op + " operation does not apply: doc is missing destination path: " + path +
                       std::string(kMissing);
    return false;
  }
  if (json::object* object = parent->if_object()) {
    (*object)[tokens.back()] = std::move(value);
    return true;
  }
  json::array& array = parent->get_array();
  std::size_t index;
  std::string index_error;
  if (!ResolveIndex(array, tokens.back(), true, &index, &index_error)) {
    *error = "error in " + op + " for path: '" + path + "': " + index_error;
    return false;
  }
  array.insert(array.begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
  return true;
}

// Removes the value at `tokens` and returns it through `removed`.
bool Remove(json::value& doc, const std::vector<std::string>& tokens, const std::string& op,
            const std::string& path, json::value* removed, std::string* error) {
  if (tokens.empty()) {
    *removed = std::move(doc);
    doc = nullptr;
    return true;
  }
  json::value* parent = FindParent(doc, tokens);
  if (parent == nullptr) {
    *error = op == "remove" ? "remove operation does not apply: doc is missing path: \"" + path +
                                  "\"" + std::string(kMissing)
                            : op + " operation does not apply: doc is missing from path: " + path +
                                  std::string(kMissing);
    return false;
  }
  if (json::object* object = parent->if_object()) {
    auto it = object->find(tokens.back());
    if (it == object->end()) {
      *error = "error in " + op + " for path: '" + path +
               "': Unable to remove nonexistent key: " + tokens.back() + std::string(kMissing);
      return false;
    }
    *removed = std::move(it->value());
    object->erase(it);
    return true;
  }
  json::array& array = parent->get_array();
  std::size_t index;
  std::string index_error;
  if (!ResolveIndex(array, tokens.back(), false, &index, &index_error)) {
    *error = "error in " + op + " for path: '" + path + "': " + index_error;
    return false;
  }
  *removed = std::move(array[index]);
  array.erase(array.begin() + static_cast<std::ptrdiff_t>(index));
  return true;
}

const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::string: return "string";
    case json::kind::bool_: return "bool";
    case json::kind::null: return "null";
    default: return "number";
  }
}

}  // namespace

Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') {
    return Invalid("invalid JSON pointer \"" + std::string(pointer) + "\": must start with '/'");
  }
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token.push_back(pointer[i + 1] == '0' ? '~' : '/');
        ++i;
        continue;
      }
      return Invalid("invalid JSON pointer \"" + std::string(pointer) +
                     "\": '~' must be followed by '0' or '1'");
    }
    token.push_back(pointer[i]);
  }
  return tokens;
}

Result<json::value> ApplyJsonPatch(const json::value& document, const json::value& patch,
                                   std::size_t max_operations) {
  if (patch.is_null()) return document;
  if (!patch.is_array()) {
    return Err(StatusCode::kBadRequest, std::string("json: cannot unmarshal ") + KindName(patch) +
                                            " into Go value of type jsonpatch.Patch");
  }
  const json::array& operations = patch.get_array();
  for (const json::value& operation : operations) {
    if (!operation.is_object()) {
      return Err(StatusCode::kBadRequest, std::string("json: cannot unmarshal ") +
                                              KindName(operation) +
                                              " into Go value of type jsonpatch.Operation");
    }
  }
  if (operations.size() > max_operations) {
    return Err(StatusCode::kRequestEntityTooLarge,
               "The allowed maximum operations in a JSON patch is " +
                   std::to_string(max_operations) + ", got " + std::to_string(operations.size()));
  }

  json::value doc = document;
  for (const json::value& item : operations) {
    const json::object& operation = item.get_object();
    std::string op = "unknown";
    if (auto it = operation.find("op"); it != operation.end() && it->value().is_string()) {
      op = std::string(it->value().get_string());
    }
    if (op != "add" && op != "remove" && op != "replace" && op != "move" && op != "copy" &&
        op != "test") {
      return Invalid("Unexpected kind: " + op);
    }
    auto string_member = [&operation](std::string_view name, std::string* out) {
      auto it = operation.find(name);
      if (it == operation.end() || !it->value().is_string()) return false;
      *out = std::string(it->value().get_string());
      return true;
    };
    std::string path;
    if (!string_member("path", &path)) {
      return Invalid(op + " operation failed to decode path" + std::string(kMissing));
    }
    auto tokens = ParseJsonPointer(path);
    if (!tokens) return Err(tokens.error());
    const json::value* value = nullptr;
    if (auto it = operation.find("value"); it != operation.end()) value = &it->value();
    std::string error;

    if (op == "add") {
      if (value == nullptr) return Invalid("add operation is missing a value for path: " + path);
      if (!Add(doc, *tokens, *value, op, path, &error)) return Invalid(error);
    } else if (op == "remove") {
      json::value removed;
      if (!Remove(doc, *tokens, op, path, &removed, &error)) return Invalid(error);
    } else if (op == "replace") {
      if (value == nullptr) {
        return Invalid("replace operation is missing a value for path: " + path);
      }
      if (tokens->empty()) {
        doc = *value;
        continue;
      }
      json::value* parent = FindParent(doc, *tokens);
      if (parent == nullptr) {
        return Invalid("replace operation does not apply: doc is missing path: " + path +
                       std::string(kMissing));
      }
      if (json::object* object = parent->if_object()) {
        auto it = object->find(tokens->back());
        if (it == object->end()) {
          return Invalid("replace operation does not apply: doc is missing key: " + path +
                         std::string(kMissing));
        }
        it->value() = *value;
      } else {
        json::array& array = parent->get_array();
        std::size_t index;
        if (!ResolveIndex(array, tokens->back(), false, &index, &error)) {
          return Invalid("replace operation does not apply: doc is missing key: " + path +
                         std::string(kMissing));
        }
        array[index] = *value;
      }
    } else if (op == "move" || op == "copy") {
      std::string from;
      if (!string_member("from", &from)) {
        return Invalid(op + " operation failed to decode from" + std::string(kMissing));
      }
      auto from_tokens = ParseJsonPointer(from);
      if (!from_tokens) return Err(from_tokens.error());
      if (op == "move") {
        if (path == from) continue;
        if (path.size() > from.size() && path.starts_with(from) && path[from.size()] == '/') {
          return Invalid("move operation does not apply: cannot move " + from +
                         " into its own child " + path);
        }
        json::value moved;
        if (!Remove(doc, *from_tokens, op, from, &moved, &error)) return Invalid(error);
        if (!Add(doc, *tokens, std::move(moved), op, path, &error)) return Invalid(error);
      } else {
        const json::value* source = Get(doc, *from_tokens);
        if (source == nullptr) {
          return Invalid("copy operation does not apply: doc is missing from path: " + from +
                         std::string(kMissing));
        }
        json::value copy = *source;
        if (!Add(doc, *tokens, std::move(copy), op, path, &error)) return Invalid(error);
      }
    } else {  // test
      const json::value* actual = Get(doc, *tokens);
      if (actual == nullptr) {
        json::value* parent = tokens->empty() ? nullptr : FindParent(doc, *tokens);
        if (parent == nullptr) {
          return Invalid("test operation does not apply: is missing path: " + path +
                         std::string(kMissing));
        }
        if (json::array* array = parent->if_array()) {
          std::size_t index;
          ResolveIndex(*array, tokens->back(), false, &index, &error);
          return Invalid("error in test for path: '" + path + "': " + error);
        }
        // A missing member tests equal to null, as Kubernetes' library decides.
        if (value == nullptr || value->is_null()) continue;
        return Invalid("testing value " + path + " failed: test failed");
      }
      if (value == nullptr || !JsonEqual(*actual, *value)) {
        return Invalid("testing value " + path + " failed: test failed");
      }
    }
  }
  return doc;
}

namespace {

void MergeInto(json::value& target, const json::value& patch) {
  const json::object* patch_object = patch.if_object();
  if (patch_object == nullptr) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  json::object& object = target.get_object();
  for (const auto& member : *patch_object) {
    if (member.value().is_null()) {
      object.erase(member.key());
      continue;
    }
    auto it = object.find(member.key());
    if (it == object.end()) it = object.emplace(member.key(), nullptr).first;
    MergeInto(it->value(), member.value());
  }
}

}  // namespace

json::value ApplyMergePatch(const json::value& document, const json::value& patch) {
  json::value result = patch.is_object() ? document : json::value(nullptr);
  MergeInto(result, patch);
  return result;
}

}  // namespace skiff
