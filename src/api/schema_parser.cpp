#include "api/schema_parser.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <boost/json.hpp>

namespace skiff::api {
namespace {

namespace json = boost::json;

// Type expressions nest ([]map[[]T]); real files need three levels at most.
constexpr int kMaxTypeDepth = 16;

constexpr std::array<std::string_view, 8> kDefaultVerbs = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

struct Token {
  std::string text;  // unescaped for quoted tokens, as written otherwise
  bool quoted = false;
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsIdentifier(std::string_view s) {
  return !s.empty() && !(s[0] >= '0' && s[0] <= '9') && std::ranges::all_of(s, IsIdentChar);
}

// A dotted name: identifiers joined by single dots ("io.k8s.api.core.v1.Pod").
bool IsQualifiedName(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  return std::ranges::all_of(s, [](char c) { return IsIdentChar(c) || c == '.' || c == '-'; });
}

// JSON field names: letters, digits and the few punctuation marks Kubernetes uses.
bool IsFieldName(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return IsIdentChar(c) || c == '-' || c == '.' || c == '$';
  });
}

bool IsResourceName(std::string_view s) {
  return !s.empty() && std::ranges::all_of(s, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

std::vector<std::string> SplitList(std::string_view s, char separator = ',') {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(separator, start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Splits one line (without its indentation) into tokens. A quoted token is a description
// and may use \" and \\ escapes. A bare token ends at a blank outside JSON strings and
// brackets, so `default={"a": 1}` stays one token. A '#' that starts a token begins a
// comment. On error returns the message without location.
std::expected<std::vector<Token>, std::string> Tokenize(std::string_view line) {
  std::vector<Token> tokens;
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsBlank(line[i])) ++i;
    if (i == n || line[i] == '#') break;
    if (line[i] == '"') {
      Token t{.text = {}, .quoted = true};
      ++i;
      bool closed = false;
      while (i < n) {
        char c = line[i];
        if (c == '\\') {
          if (i + 1 == n) break;
          char e = line[i + 1];
          if (e != '"' && e != '\\') {
            return std::unexpected("unknown escape \"\\" + std::string(1, e) +
                                   "\" in a string (only \\\" and \\\\ are allowed)");
          }
          t.text += e;
          i += 2;
          continue;
        }
        ++i;
        if (c == '"') {
          closed = true;
          break;
        }
        t.text += c;
      }
      if (!closed) return std::unexpected(std::string("unterminated string"));
      if (i < n && !IsBlank(line[i])) {
        return std::unexpected(std::string("unexpected text right after a closing quote"));
      }
      tokens.push_back(std::move(t));
      continue;
    }
    size_t start = i;
    int depth = 0;
    bool in_string = false;
    while (i < n) {
      char c = line[i];
      if (in_string) {
        if (c == '\\') {
          i = std::min(i + 2, n);
          continue;
        }
        if (c == '"') in_string = false;
        ++i;
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '[' || c == '{') {
        ++depth;
      } else if (c == ']' || c == '}') {
        if (depth == 0) break;
        --depth;
      } else if (IsBlank(c) && depth == 0) {
        break;
      }
      ++i;
    }
    std::string_view text = line.substr(start, i - start);
    if (in_string) return std::unexpected("unterminated string in " + Quote(text));
    if (depth != 0 || (i < n && !IsBlank(line[i]))) {
      return std::unexpected("unbalanced brackets in " + Quote(line.substr(start)));
    }
    tokens.push_back(Token{.text = std::string(text), .quoted = false});
  }
  return tokens;
}

// Flags of a field or type line, before they are applied to nodes.
struct Flags {
  bool required = false;
  std::optional<std::string> default_json;  // normalised
  std::optional<std::vector<std::string>> enum_values;
  std::optional<std::string> list_type, map_type, patch_strategy, patch_merge_key, format;
  std::optional<std::vector<std::string>> map_keys;
  std::vector<int> proto_path;  // pb=: embedded message numbers, then the field number
  bool pointer = false;         // ptr
  bool keep_zero = false;       // keepzero
  std::string description;
};

// Largest protobuf field number (2^29 - 1).
constexpr long kMaxProtoFieldNumber = 536870911;

// Parses the value of pb=: field numbers joined by dots ("4", "2.1"). Empty on error.
std::vector<int> ParseProtoPath(std::string_view value) {
  std::vector<int> path;
  for (const std::string& part : SplitList(value, '.')) {
    if (part.empty() || part.size() > 9 || part.front() == '0' ||
        !std::ranges::all_of(part, [](char c) { return c >= '0' && c <= '9'; })) {
      return {};
    }
    long number = std::stol(part);
    if (number > kMaxProtoFieldNumber) return {};
    path.push_back(static_cast<int>(number));
  }
  return path;
}

struct PrimitiveSpec {
  std::string_view keyword;
  SchemaType type;
  std::string_view format;
};

constexpr std::array<PrimitiveSpec, 12> kPrimitives = {{
    {"string", SchemaType::kString, ""},
    {"int32", SchemaType::kInteger, "int32"},
    {"int64", SchemaType::kInteger, "int64"},
    {"bool", SchemaType::kBoolean, ""},
    {"double", SchemaType::kNumber, "double"},
    {"bytes", SchemaType::kString, "byte"},
    {"time", SchemaType::kString, "date-time"},
    {"microtime", SchemaType::kString, "date-time"},
    {"quantity", SchemaType::kQuantity, ""},
    {"intorstring", SchemaType::kIntOrString, "int-or-string"},
    {"object", SchemaType::kObject, ""},
    {"any", SchemaType::kAny, ""},
}};

const PrimitiveSpec* FindPrimitive(std::string_view keyword) {
  for (const auto& p : kPrimitives) {
    if (p.keyword == keyword) return &p;
  }
  return nullptr;
}

bool IsBareFlag(std::string_view text) {
  return text == "required" || text == "ptr" || text == "keepzero";
}

bool IsFlagToken(const Token& t) {
  return !t.quoted && (IsBareFlag(t.text) || t.text.find('=') != std::string::npos);
}

class Parser {
 public:
  explicit Parser(std::string_view file_name) : file_(file_name) {}

  Result<ParsedSchemaFile> Run(std::string_view text) {
    size_t pos = 0;
    int line_no = 0;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      std::string_view line =
          text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++line_no;
      location_ = file_ + ":" + std::to_string(line_no);
      if (Status s = Line(line); !s.ok()) return std::unexpected(std::move(s));
      if (end == std::string_view::npos) break;
      pos = end + 1;
    }
    return std::move(out_);
  }

 private:
  Status Error(const std::string& message) const {
    return Status(StatusCode::kInvalid, location_ + ": " + message);
  }

  Schema* NewNode() {
    out_.nodes.push_back(std::make_unique<Schema>());
    return out_.nodes.back().get();
  }

  Status Line(std::string_view line) {
    size_t indent = 0;
    while (indent < line.size() && IsBlank(line[indent])) ++indent;
    std::string_view rest = line.substr(indent);
    if (rest.empty() || rest.front() == '#') return Status::Ok();
    auto tokens = Tokenize(rest);
    if (!tokens) return Error(tokens.error());
    if (tokens->empty()) return Status::Ok();
    if (indent > 0) return FieldLine(*tokens, indent);

    current_object_ = nullptr;
    last_type_name_.clear();
    const Token& head = tokens->front();
    if (head.quoted) return Error("a line cannot start with a string");
    if (head.text == "package") return PackageLine(*tokens);
    if (head.text == "alias") return AliasLine(*tokens);
    if (head.text == "groupversion") return GroupVersionLine(*tokens);
    if (head.text == "type") return TypeLine(*tokens);
    if (head.text == "resource") return ResourceLine(*tokens);
    return Error("unknown directive " + Quote(head.text) +
                 " (expected package, alias, groupversion, type or resource; field lines "
                 "must be indented under their type)");
  }

  Status ExpectBareArgs(const std::vector<Token>& tokens, size_t count, std::string_view usage) {
    if (tokens.size() != count + 1) return Error("expected " + std::string(usage));
    for (const Token& t : tokens) {
      if (t.quoted) return Error("expected " + std::string(usage));
    }
    return Status::Ok();
  }

  Status PackageLine(const std::vector<Token>& tokens) {
    if (Status s = ExpectBareArgs(tokens, 1, "`package <dotted.name>`"); !s.ok()) return s;
    if (!package_.empty()) return Error("package declared twice");
    if (!IsQualifiedName(tokens[1].text)) return Error("bad package name " + Quote(tokens[1].text));
    package_ = tokens[1].text;
    return Status::Ok();
  }

  Status AliasLine(const std::vector<Token>& tokens) {
    if (Status s = ExpectBareArgs(tokens, 2, "`alias <short> <dotted.prefix>`"); !s.ok()) return s;
    const std::string& name = tokens[1].text;
    if (!IsIdentifier(name)) return Error("bad alias name " + Quote(name));
    if (FindPrimitive(name)) return Error("alias " + Quote(name) + " shadows a built-in type");
    if (!IsQualifiedName(tokens[2].text)) return Error("bad alias target " + Quote(tokens[2].text));
    if (!aliases_.emplace(name, tokens[2].text).second) {
      return Error("alias " + Quote(name) + " declared twice");
    }
    return Status::Ok();
  }

  Status GroupVersionLine(const std::vector<Token>& tokens) {
    if (Status s = ExpectBareArgs(tokens, 1,
                                  "`groupversion <version>` or `groupversion <group>/<version>`");
        !s.ok()) {
      return s;
    }
    if (have_group_version_) return Error("groupversion declared twice");
    std::string_view gv = tokens[1].text;
    size_t slash = gv.find('/');
    std::string_view group = slash == std::string_view::npos ? "" : gv.substr(0, slash);
    std::string_view version = slash == std::string_view::npos ? gv : gv.substr(slash + 1);
    if (version.empty() || !IsResourceName(version) ||
        (slash != std::string_view::npos && (group.empty() || !IsResourceName(group)))) {
      return Error("bad groupversion " + Quote(gv));
    }
    group_ = group;
    version_ = version;
    have_group_version_ = true;
    return Status::Ok();
  }

  // Parses flags and the trailing description from tokens[first...].
  Status ParseFlags(const std::vector<Token>& tokens, size_t first, Flags& flags) {
    size_t end = tokens.size();
    if (end > first && tokens[end - 1].quoted) {
      flags.description = tokens[end - 1].text;
      --end;
    }
    std::set<std::string, std::less<>> seen;
    for (size_t i = first; i < end; ++i) {
      const Token& t = tokens[i];
      if (t.quoted) return Error("unexpected string; the description must be the last token");
      size_t eq = t.text.find('=');
      std::string key = t.text.substr(0, eq);
      if (!seen.insert(key).second) return Error("flag " + Quote(key) + " given twice");
      if (eq == std::string::npos) {
        if (key == "required") {
          flags.required = true;
          continue;
        }
        if (key == "ptr") {
          flags.pointer = true;
          continue;
        }
        if (key == "keepzero") {
          flags.keep_zero = true;
          continue;
        }
        return Error("unknown flag " + Quote(t.text));
      }
      std::string value = t.text.substr(eq + 1);
      if (value.empty()) return Error("flag " + Quote(key) + " needs a value");
      if (key == "enum") {
        // The empty string is a legal enum value in Kubernetes (HostPathType ""); it is
        // spelled "" so that a stray comma stays an error.
        auto values = SplitList(value);
        for (std::string& v : values) {
          if (v.empty())
            return Error("empty value in enum=" + value + " (write \"\" for the empty string)");
          if (v == "\"\"") v.clear();
        }
        flags.enum_values = std::move(values);
      } else if (key == "default") {
        json::error_code ec;
        json::value v = json::parse(value, ec);
        if (ec) return Error("default=" + value + " is not a JSON literal");
        flags.default_json = json::serialize(v);
      } else if (key == "listType") {
        if (value != "atomic" && value != "set" && value != "map") {
          return Error("listType must be atomic, set or map, not " + Quote(value));
        }
        flags.list_type = value;
      } else if (key == "mapKeys") {
        auto keys = SplitList(value);
        if (std::ranges::any_of(keys, [](const std::string& k) { return !IsFieldName(k); })) {
          return Error("bad mapKeys=" + value);
        }
        flags.map_keys = std::move(keys);
      } else if (key == "mapType") {
        if (value != "atomic" && value != "granular") {
          return Error("mapType must be atomic or granular, not " + Quote(value));
        }
        flags.map_type = value;
      } else if (key == "patchStrategy") {
        if (value != "merge" && value != "replace" && value != "retainKeys" &&
            value != "merge,retainKeys") {
          return Error(
              "patchStrategy must be merge, replace, retainKeys or merge,retainKeys, not " +
              Quote(value));
        }
        flags.patch_strategy = value;
      } else if (key == "patchMergeKey") {
        if (!IsFieldName(value)) return Error("bad patchMergeKey=" + value);
        flags.patch_merge_key = value;
      } else if (key == "format") {
        flags.format = value;
      } else if (key == "pb") {
        flags.proto_path = ParseProtoPath(value);
        if (flags.proto_path.empty()) {
          return Error("bad pb=" + value + " (expected field numbers 1 to " +
                       std::to_string(kMaxProtoFieldNumber) + " joined by dots, such as 4 or 2.1)");
        }
      } else {
        return Error("unknown flag " + Quote(t.text));
      }
    }
    if (flags.list_type == "map" && !flags.map_keys) return Error("listType=map needs mapKeys=");
    if (flags.map_keys && flags.list_type != "map") return Error("mapKeys= needs listType=map");
    if (flags.patch_merge_key &&
        (!flags.patch_strategy || flags.patch_strategy->find("merge") == std::string::npos)) {
      return Error("patchMergeKey= needs patchStrategy=merge");
    }
    if ((flags.pointer || flags.keep_zero) && flags.proto_path.empty()) {
      return Error("ptr and keepzero need pb=");
    }
    if (flags.pointer && flags.keep_zero) {
      return Error("keepzero is for non-pointer fields; a ptr field keeps its zero value anyway");
    }
    return Status::Ok();
  }

  std::vector<std::string> Candidates(std::string_view spelled) const {
    size_t dot = spelled.find('.');
    if (dot == std::string_view::npos) return {package_ + "." + std::string(spelled)};
    auto alias = aliases_.find(std::string(spelled.substr(0, dot)));
    if (alias != aliases_.end()) return {alias->second + std::string(spelled.substr(dot))};
    return {std::string(spelled)};
  }

  // Builds the node for a type expression. Returns nullptr when `expr` names a type: a
  // reference is then recorded for the slot `holder`/`property` (see UnresolvedRef).
  // Sets leaf_ to the innermost element node (nullptr when that is a named type).
  Result<Schema*> TypeExpr(std::string_view expr, Schema* holder, int property, int depth = 0) {
    if (depth > kMaxTypeDepth) return std::unexpected(Error("type expression nested too deeply"));
    if (expr.starts_with("[]") || expr.starts_with("map[")) {
      bool array = expr.starts_with("[]");
      std::string_view inner;
      if (array) {
        inner = expr.substr(2);
      } else {
        if (!expr.ends_with("]")) return std::unexpected(Error("bad map type " + Quote(expr)));
        inner = expr.substr(4, expr.size() - 5);
      }
      if (inner.empty()) return std::unexpected(Error("missing element type in " + Quote(expr)));
      Schema* node = NewNode();
      node->type = array ? SchemaType::kArray : SchemaType::kMap;
      auto items = TypeExpr(inner, node, -1, depth + 1);
      if (!items) return items;
      node->items = *items;
      return node;
    }
    if (const PrimitiveSpec* p = FindPrimitive(expr)) {
      Schema* node = NewNode();
      node->type = p->type;
      node->format = p->format;
      node->preserve_unknown_fields = expr == "object";
      leaf_ = node;
      return node;
    }
    if (expr == "kind" || !IsQualifiedName(expr)) {
      return std::unexpected(Error("unknown type " + Quote(expr)));
    }
    leaf_ = nullptr;
    out_.refs.push_back(UnresolvedRef{.node = holder,
                                      .property = property,
                                      .resource = -1,
                                      .spelled = std::string(expr),
                                      .candidates = Candidates(expr),
                                      .location = location_});
    return nullptr;
  }

  static bool IsPrimitive(const Schema& s) {
    return s.type != SchemaType::kObject && s.type != SchemaType::kArray &&
           s.type != SchemaType::kMap;
  }

  // Applies enum= and format= to the innermost element of the type expression built
  // last (leaf_), which must be a primitive.
  Status ApplyLeafFlags(const Flags& flags) {
    if (!flags.enum_values && !flags.format) return Status::Ok();
    Schema* leaf = leaf_;
    if (flags.enum_values) {
      if (!leaf || leaf->type != SchemaType::kString) {
        return Error("enum= applies only to string types");
      }
      leaf->enum_values = *flags.enum_values;
    }
    if (flags.format) {
      if (!leaf || !IsPrimitive(*leaf)) return Error("format= applies only to primitive types");
      leaf->format = *flags.format;
    }
    return Status::Ok();
  }

  Status TypeLine(const std::vector<Token>& tokens) {
    if (package_.empty()) return Error("type declared before the package line");
    if (tokens.size() < 2 || tokens[1].quoted) return Error("expected `type <Name> ...`");
    const std::string& short_name = tokens[1].text;
    if (!IsIdentifier(short_name)) return Error("bad type name " + Quote(short_name));
    if (FindPrimitive(short_name) || short_name == "kind") {
      return Error("type name " + Quote(short_name) + " is reserved");
    }
    std::string name = package_ + "." + short_name;
    if (!declared_.insert(name).second) return Error("type " + short_name + " declared twice");

    size_t next = 2;
    bool is_kind = false;
    std::optional<std::string_view> expr;
    if (next < tokens.size() && !tokens[next].quoted && !IsFlagToken(tokens[next])) {
      if (tokens[next].text == "kind") {
        is_kind = true;
      } else {
        expr = tokens[next].text;
      }
      ++next;
    }
    Flags flags;
    if (Status s = ParseFlags(tokens, next, flags); !s.ok()) return s;
    if (flags.required || flags.default_json || flags.list_type || flags.patch_strategy ||
        flags.patch_merge_key || !flags.proto_path.empty() || flags.pointer || flags.keep_zero) {
      return Error("only enum=, format= and mapType= are allowed on a type line");
    }

    Schema* node = nullptr;
    if (expr) {
      if (!FindPrimitive(*expr) && !expr->starts_with("[]") && !expr->starts_with("map[")) {
        return Error("type " + short_name + " cannot be another name for " + Quote(*expr) +
                     "; use a primitive, []T or map[T]");
      }
      auto built = TypeExpr(*expr, nullptr, -1);
      if (!built) return built.error();
      node = *built;
      if (Status s = ApplyLeafFlags(flags); !s.ok()) return s;
    } else {
      node = NewNode();
      node->type = SchemaType::kObject;
      if (flags.enum_values || flags.format)
        return Error("enum= and format= need a primitive type");
    }
    if (flags.map_type) {
      if (node->type != SchemaType::kObject && node->type != SchemaType::kMap) {
        return Error("mapType= applies only to object and map types");
      }
      node->map_type = *flags.map_type;
    }
    node->name = std::move(name);
    node->description = flags.description;
    if (is_kind) {
      if (!have_group_version_) return Error("kind " + short_name + " needs a groupversion line");
      node->gvk_group = group_;
      node->gvk_version = version_;
      node->gvk_kind = short_name;
    }
    out_.named.push_back(node);
    out_.named_locations.push_back(location_);
    last_type_name_ = short_name;
    if (node->type == SchemaType::kObject && !node->preserve_unknown_fields) {
      current_object_ = node;
      field_indent_ = 0;
    }
    return Status::Ok();
  }

  // A pb= path must not clash with the fields of current_object_ declared so far: no
  // two fields share a path, and a number is either a field or an embedded message.
  Status CheckProtoPath(const std::vector<int>& path) const {
    if (path.empty()) return Status::Ok();
    for (const Property& other : current_object_->properties) {
      if (other.proto_number == 0) continue;
      std::vector<int> other_path = other.proto_embedded_in;
      other_path.push_back(other.proto_number);
      size_t common = std::min(path.size(), other_path.size());
      if (std::equal(path.begin(), path.begin() + static_cast<long>(common), other_path.begin())) {
        std::string spelled;
        for (int n : path) spelled += (spelled.empty() ? "" : ".") + std::to_string(n);
        return Error("pb=" + spelled + " clashes with field " + Quote(other.name) + " of " +
                     current_object_->name);
      }
    }
    return Status::Ok();
  }

  Status FieldLine(const std::vector<Token>& tokens, size_t indent) {
    if (!current_object_) {
      if (!last_type_name_.empty()) {
        return Error("type " + last_type_name_ +
                     " cannot have fields (it is not a fixed-field object)");
      }
      return Error("indented line outside a type declaration (bad indentation?)");
    }
    if (field_indent_ == 0) {
      field_indent_ = indent;
    } else if (indent != field_indent_) {
      return Error("bad indentation: fields of " + current_object_->name + " are indented by " +
                   std::to_string(field_indent_) + ", this line by " + std::to_string(indent));
    }
    if (tokens.size() < 2 || tokens[0].quoted || tokens[1].quoted || IsFlagToken(tokens[1])) {
      return Error("expected `<field> <type> [flags] [\"description\"]`");
    }
    const std::string& field = tokens[0].text;
    if (!IsFieldName(field)) return Error("bad field name " + Quote(field));
    if (current_object_->FindProperty(field)) {
      return Error("field " + Quote(field) + " declared twice in " + current_object_->name);
    }
    Flags flags;
    if (Status s = ParseFlags(tokens, 2, flags); !s.ok()) return s;
    if (Status s = CheckProtoPath(flags.proto_path); !s.ok()) return s;

    Schema* owner = current_object_;
    int index = static_cast<int>(owner->properties.size());
    owner->properties.push_back(Property{.name = field, .description = flags.description});
    auto built = TypeExpr(tokens[1].text, owner, index);
    if (!built) return built.error();
    Schema* node = *built;
    Property& prop = owner->properties.back();
    prop.schema = node;
    prop.required = flags.required;
    prop.default_json = flags.default_json;
    if (!flags.proto_path.empty()) {
      prop.proto_number = flags.proto_path.back();
      prop.proto_embedded_in.assign(flags.proto_path.begin(), flags.proto_path.end() - 1);
    }
    prop.pointer = flags.pointer;
    prop.keep_zero = flags.keep_zero;

    bool is_array = node && node->type == SchemaType::kArray;
    bool is_map = node && node->type == SchemaType::kMap;
    if (flags.list_type || flags.patch_merge_key) {
      if (!is_array) return Error("listType=, mapKeys= and patchMergeKey= apply only to arrays");
      if (flags.list_type) node->list_type = *flags.list_type;
      if (flags.map_keys) node->list_map_keys = *flags.map_keys;
      if (flags.patch_merge_key) node->patch_merge_key = *flags.patch_merge_key;
    }
    if (flags.map_type) {
      if (!is_map) return Error("mapType= on a field applies only to maps");
      node->map_type = *flags.map_type;
    }
    bool deferred_property_check = flags.default_json.has_value();
    if (flags.patch_strategy) {
      if (is_array || is_map) {
        node->patch_strategy = *flags.patch_strategy;
      } else if (!node) {
        prop.patch_strategy = *flags.patch_strategy;  // checked to be an object on resolve
        deferred_property_check = true;
      } else {
        return Error("patchStrategy= applies only to arrays, maps and objects");
      }
    }
    if (Status s = ApplyLeafFlags(flags); !s.ok()) return s;
    if (deferred_property_check) {
      out_.checks.push_back(DeferredCheck{.what = DeferredCheck::What::kProperty,
                                          .node = owner,
                                          .property = index,
                                          .resource = -1,
                                          .location = location_});
    }
    if (flags.map_keys || flags.patch_merge_key) {
      out_.checks.push_back(DeferredCheck{.what = DeferredCheck::What::kListKeys,
                                          .node = node,
                                          .property = -1,
                                          .resource = -1,
                                          .location = location_});
    }
    return Status::Ok();
  }

  Status ResourceLine(const std::vector<Token>& tokens) {
    if (package_.empty()) return Error("resource declared before the package line");
    if (!have_group_version_) return Error("resource declared before the groupversion line");
    if (tokens.size() < 2 || tokens[1].quoted || tokens[1].text.find('=') != std::string::npos) {
      return Error("expected `resource <plural> kind=<Kind> ...`");
    }
    ResourceDecl decl;
    decl.group = group_;
    decl.version = version_;
    decl.plural = tokens[1].text;
    if (!IsResourceName(decl.plural)) return Error("bad resource name " + Quote(decl.plural));
    if (!resource_names_.insert(decl.plural).second) {
      return Error("resource " + decl.plural + " declared twice");
    }
    std::string type_name;
    bool have_verbs = false;
    std::set<std::string, std::less<>> seen;
    auto list_of_names = [&](const std::string& key, const std::string& value,
                             std::vector<std::string>& into) -> Status {
      into = SplitList(value);
      for (const auto& v : into) {
        if (!IsResourceName(v)) return Error("bad entry " + Quote(v) + " in " + key + "=");
      }
      return Status::Ok();
    };
    for (size_t i = 2; i < tokens.size(); ++i) {
      const Token& t = tokens[i];
      size_t eq = t.text.find('=');
      if (t.quoted || eq == std::string::npos || eq + 1 == t.text.size()) {
        return Error("expected key=value on a resource line, found " + Quote(t.text));
      }
      std::string key = t.text.substr(0, eq);
      std::string value = t.text.substr(eq + 1);
      if (!seen.insert(key).second) return Error("key " + Quote(key) + " given twice");
      Status s;
      if (key == "kind") {
        if (!IsIdentifier(value)) return Error("bad kind " + Quote(value));
        decl.kind = value;
      } else if (key == "type") {
        if (!IsQualifiedName(value)) return Error("bad type " + Quote(value));
        type_name = value;
      } else if (key == "scope") {
        if (value != "Namespaced" && value != "Cluster") {
          return Error("scope must be Namespaced or Cluster, not " + Quote(value));
        }
        decl.namespaced = value == "Namespaced";
      } else if (key == "singular") {
        if (!IsResourceName(value)) return Error("bad singular " + Quote(value));
        decl.singular = value;
      } else if (key == "shortNames") {
        s = list_of_names(key, value, decl.short_names);
      } else if (key == "categories") {
        s = list_of_names(key, value, decl.categories);
      } else if (key == "subresources") {
        s = list_of_names(key, value, decl.subresources);
      } else if (key == "verbs") {
        s = list_of_names(key, value, decl.verbs);
        have_verbs = true;
      } else if (key == "storage") {
        if (value == (group_.empty() ? version_ : group_ + "/" + version_)) {
          return Error("storage= names the resource's own group/version");
        }
        decl.storage_group_version = value;
      } else {
        return Error("unknown resource key " + Quote(key));
      }
      if (!s.ok()) return s;
    }
    if (decl.kind.empty()) return Error("resource " + decl.plural + " needs kind=");
    if (type_name.empty()) type_name = decl.kind;
    if (decl.singular.empty()) {
      decl.singular = decl.kind;
      std::ranges::transform(decl.singular, decl.singular.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      });
    }
    if (!have_verbs) decl.verbs.assign(kDefaultVerbs.begin(), kDefaultVerbs.end());

    int index = static_cast<int>(out_.resources.size());
    out_.resources.push_back(std::move(decl));
    out_.resource_locations.push_back(location_);
    out_.refs.push_back(UnresolvedRef{.node = nullptr,
                                      .property = -1,
                                      .resource = index,
                                      .spelled = type_name,
                                      .candidates = Candidates(type_name),
                                      .location = location_});
    out_.checks.push_back(DeferredCheck{.what = DeferredCheck::What::kResource,
                                        .node = nullptr,
                                        .property = -1,
                                        .resource = index,
                                        .location = location_});
    return Status::Ok();
  }

  std::string file_;
  std::string location_;  // "file:line" of the line being parsed
  std::string package_;
  std::map<std::string, std::string> aliases_;
  bool have_group_version_ = false;
  std::string group_, version_;
  std::set<std::string> declared_;        // qualified type names of this file
  std::set<std::string> resource_names_;  // plurals of this file

  Schema* leaf_ = nullptr;            // innermost node of the last type expression; null if named
  Schema* current_object_ = nullptr;  // the object type receiving field lines
  std::string last_type_name_;        // the type being declared, object or not
  size_t field_indent_ = 0;           // indentation of current_object_'s fields; 0 = none yet

  ParsedSchemaFile out_;
};

}  // namespace

Result<ParsedSchemaFile> ParseSchemaFile(std::string_view file_name, std::string_view text) {
  Parser parser(file_name);
  return parser.Run(text);
}

}  // namespace skiff::api
