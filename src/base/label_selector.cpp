#include "base/label_selector.h"

#include <algorithm>
#include <charconv>

#include <boost/json/value.hpp>

#include "base/k8s_names.h"

namespace skiff {
namespace {

namespace json = boost::json;

// Go's %q for the strings that appear in selector messages.
std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7F) {
          out += "\\x";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// Go's %#v of a []string.
std::string GoStringSlice(const std::vector<std::string>& values) {
  std::string out = "[]string{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(values[i]);
  }
  out += "}";
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// An aggregate of field errors prints as the single error, or as "[e1, e2]".
std::string Aggregate(const std::vector<std::string>& errors) {
  if (errors.size() == 1) return errors.front();
  return "[" + Join(errors, ", ") + "]";
}

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in range.
bool ParseInt64(std::string_view s, int64_t* out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

void SortUnique(std::vector<std::string>* values) {
  std::sort(values->begin(), values->end());
  values->erase(std::unique(values->begin(), values->end()), values->end());
}

// labels.NewRequirement's validation, with its field paths ("key", "values[0][app]").
std::vector<std::string> ValidateRequirement(const std::string& key, LabelOperator op,
                                             const std::vector<std::string>& values) {
  std::vector<std::string> errs;
  if (auto problems = IsQualifiedName(key); !problems.empty()) {
    errs.push_back("key: Invalid value: " + GoQuote(key) + ": " + Join(problems, "; "));
  }
  switch (op) {
    case LabelOperator::kIn:
    case LabelOperator::kNotIn:
      if (values.empty()) {
        errs.push_back("values: Invalid value: " + GoStringSlice(values) +
                       ": for 'in', 'notin' operators, values set can't be empty");
      }
      break;
    case LabelOperator::kEquals:
    case LabelOperator::kDoubleEquals:
    case LabelOperator::kNotEquals:
      if (values.size() != 1) {
        errs.push_back("values: Invalid value: " + GoStringSlice(values) +
                       ": exact-match compatibility requires one single value");
      }
      break;
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back("values: Invalid value: " + GoStringSlice(values) +
                       ": values set must be empty for exists and does not exist");
      }
      break;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan:
      if (values.size() != 1) {
        errs.push_back("values: Invalid value: " + GoStringSlice(values) +
                       ": for 'Gt', 'Lt' operators, exactly one value is required");
      }
      for (std::size_t i = 0; i < values.size(); ++i) {
        int64_t ignored;
        if (!ParseInt64(values[i], &ignored)) {
          errs.push_back("values[" + std::to_string(i) + "]: Invalid value: " + GoQuote(values[i]) +
                         ": for 'Gt', 'Lt' operators, the value must be an integer");
        }
      }
      break;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (auto problems = IsValidLabelValue(values[i]); !problems.empty()) {
      errs.push_back("values[" + std::to_string(i) + "][" + key +
                     "]: Invalid value: " + GoQuote(values[i]) + ": " + Join(problems, "; "));
    }
  }
  return errs;
}

// ---- The string syntax: a port of the structure of labels.Parse. ----

enum class Token {
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Item {
  Token token;
  std::string literal;
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecialSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

bool SymbolToken(std::string_view s, Token* out) {
  static constexpr std::pair<std::string_view, Token> kSymbols[] = {
      {")", Token::kClosedPar},     {",", Token::kComma},      {"!", Token::kDoesNotExist},
      {"==", Token::kDoubleEquals}, {"=", Token::kEquals},     {">", Token::kGreaterThan},
      {"<", Token::kLessThan},      {"!=", Token::kNotEquals}, {"(", Token::kOpenPar},
  };
  for (const auto& [text, token] : kSymbols) {
    if (text == s) {
      *out = token;
      return true;
    }
  }
  return false;
}

std::vector<Item> Lex(std::string_view s) {
  std::vector<Item> items;
  std::size_t pos = 0;
  while (true) {
    while (pos < s.size() && IsWhitespace(s[pos])) ++pos;
    if (pos >= s.size()) {
      items.push_back(Item{Token::kEnd, ""});
      return items;
    }
    if (IsSpecialSymbol(s[pos])) {
      // The longest run of symbols that still forms a token.
      std::string buffer;
      Item last{Token::kEnd, ""};
      bool have_last = false;
      while (pos < s.size() && IsSpecialSymbol(s[pos])) {
        buffer.push_back(s[pos]);
        Token token;
        if (SymbolToken(buffer, &token)) {
          last = Item{token, buffer};
          have_last = true;
          ++pos;
        } else {
          break;
        }
      }
      // Every single symbol is a token, so `have_last` always holds here.
      if (have_last) items.push_back(std::move(last));
      continue;
    }
    const std::size_t start = pos;
    while (pos < s.size() && !IsWhitespace(s[pos]) && !IsSpecialSymbol(s[pos])) ++pos;
    std::string word(s.substr(start, pos - start));
    Token token = word == "in" ? Token::kIn : word == "notin" ? Token::kNotIn : Token::kIdentifier;
    items.push_back(Item{token, std::move(word)});
  }
}

struct ParseError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(std::vector<Item> items) : items_(std::move(items)) {}

  std::vector<LabelRequirement> Parse() {
    std::vector<LabelRequirement> requirements;
    while (true) {
      const Item& next = Lookahead(/*values=*/true);
      switch (next.token) {
        case Token::kIdentifier:
        case Token::kDoesNotExist: {
          try {
            requirements.push_back(ParseRequirement());
          } catch (const ParseError& e) {
            throw ParseError{"unable to parse requirement: " + e.message};
          }
          Item after = Consume(/*values=*/true);
          if (after.token == Token::kEnd) return requirements;
          if (after.token == Token::kComma) {
            const Item& following = Lookahead(/*values=*/true);
            if (following.token != Token::kIdentifier && following.token != Token::kDoesNotExist) {
              throw ParseError{"found '" + following.literal + "', expected: identifier after ','"};
            }
            break;
          }
          throw ParseError{"found '" + after.literal + "', expected: ',' or 'end of string'"};
        }
        case Token::kEnd: return requirements;
        default:
          throw ParseError{"found '" + next.literal +
                           "', expected: !, identifier, or 'end of string'"};
      }
    }
  }

 private:
  // In value position the keywords "in" and "notin" are plain identifiers.
  Item Adjust(const Item& item, bool values) const {
    if (values && (item.token == Token::kIn || item.token == Token::kNotIn)) {
      return Item{Token::kIdentifier, item.literal};
    }
    return item;
  }
  const Item& Lookahead(bool values) {
    lookahead_ = Adjust(items_[position_], values);
    return lookahead_;
  }
  Item Consume(bool values) {
    Item item = Adjust(items_[position_], values);
    if (position_ + 1 < items_.size()) ++position_;
    return item;
  }

  LabelRequirement ParseRequirement() {
    LabelRequirement r;
    bool have_op = false;
    Item item = Consume(true);
    if (item.token == Token::kDoesNotExist) {
      r.op = LabelOperator::kDoesNotExist;
      have_op = true;
      item = Consume(true);
    }
    if (item.token != Token::kIdentifier) {
      throw ParseError{"found '" + item.literal + "', expected: identifier"};
    }
    if (auto problems = IsQualifiedName(item.literal); !problems.empty()) {
      throw ParseError{"<nil>: Invalid value: " + GoQuote(item.literal) + ": " +
                       Join(problems, "; ")};
    }
    r.key = item.literal;
    const Token next = Lookahead(true).token;
    if (next == Token::kEnd || next == Token::kComma) {
      if (!have_op) r.op = LabelOperator::kExists;
      have_op = true;
    }
    if (!have_op) {
      r.op = ParseOperator();
      if (r.op == LabelOperator::kIn || r.op == LabelOperator::kNotIn) {
        r.values = ParseValues();
      } else {
        r.values = ParseExactValue();
      }
      SortUnique(&r.values);
    }
    if (auto errs = ValidateRequirement(r.key, r.op, r.values); !errs.empty()) {
      throw ParseError{Aggregate(errs)};
    }
    return r;
  }

  LabelOperator ParseOperator() {
    Item item = Consume(/*values=*/false);
    switch (item.token) {
      case Token::kIn: return LabelOperator::kIn;
      case Token::kEquals: return LabelOperator::kEquals;
      case Token::kDoubleEquals: return LabelOperator::kDoubleEquals;
      case Token::kGreaterThan: return LabelOperator::kGreaterThan;
      case Token::kLessThan: return LabelOperator::kLessThan;
      case Token::kNotIn: return LabelOperator::kNotIn;
      case Token::kNotEquals: return LabelOperator::kNotEquals;
      default:
        throw ParseError{"found '" + item.literal + "', expected: in, notin, =, ==, !=, gt, lt"};
    }
  }

  std::vector<std::string> ParseValues() {
    Item item = Consume(true);
    if (item.token != Token::kOpenPar) {
      throw ParseError{"found '" + item.literal + "' expected: '('"};
    }
    const Item next = Lookahead(true);
    switch (next.token) {
      case Token::kIdentifier:
      case Token::kComma: {
        std::vector<std::string> values = ParseIdentifiersList();
        if (Consume(true).token != Token::kClosedPar) {
          throw ParseError{"found '" + next.literal + "', expected: ')'"};
        }
        return values;
      }
      case Token::kClosedPar: Consume(true); return {""};
      default: throw ParseError{"found '" + next.literal + "', expected: ',', ')' or identifier"};
    }
  }

  std::vector<std::string> ParseIdentifiersList() {
    std::vector<std::string> values;
    while (true) {
      Item item = Consume(true);
      switch (item.token) {
        case Token::kIdentifier: {
          values.push_back(item.literal);
          const Item& next = Lookahead(true);
          if (next.token == Token::kComma) continue;
          if (next.token == Token::kClosedPar) return values;
          throw ParseError{"found '" + next.literal + "', expected: ',' or ')'"};
        }
        case Token::kComma: {
          if (values.empty()) values.emplace_back();  // "(,"
          const Token next = Lookahead(true).token;
          if (next == Token::kClosedPar) {
            values.emplace_back();  // ",)"
            return values;
          }
          if (next == Token::kComma) {
            Consume(true);
            values.emplace_back();  // ",,"
          }
          break;
        }
        default: throw ParseError{"found '" + item.literal + "', expected: ',', or identifier"};
      }
    }
  }

  std::vector<std::string> ParseExactValue() {
    const Token next = Lookahead(true).token;
    if (next == Token::kEnd || next == Token::kComma) return {""};
    Item item = Consume(true);
    if (item.token == Token::kIdentifier) return {item.literal};
    throw ParseError{"found '" + item.literal + "', expected: identifier"};
  }

  std::vector<Item> items_;
  std::size_t position_ = 0;
  Item lookahead_{Token::kEnd, ""};
};

template <typename GetLabel>
bool RequirementMatches(const LabelRequirement& r, GetLabel get) {
  const std::string* value = get(r.key);
  auto has_value = [&r](const std::string& v) {
    return std::binary_search(r.values.begin(), r.values.end(), v);
  };
  switch (r.op) {
    case LabelOperator::kIn:
    case LabelOperator::kEquals:
    case LabelOperator::kDoubleEquals: return value != nullptr && has_value(*value);
    case LabelOperator::kNotIn:
    case LabelOperator::kNotEquals: return value == nullptr || !has_value(*value);
    case LabelOperator::kExists: return value != nullptr;
    case LabelOperator::kDoesNotExist: return value == nullptr;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan: {
      if (value == nullptr || r.values.size() != 1) return false;
      int64_t actual, operand;
      if (!ParseInt64(*value, &actual) || !ParseInt64(r.values[0], &operand)) return false;
      return r.op == LabelOperator::kGreaterThan ? actual > operand : actual < operand;
    }
  }
  return false;
}

void SortByKey(std::vector<LabelRequirement>* requirements) {
  std::stable_sort(
      requirements->begin(), requirements->end(),
      [](const LabelRequirement& a, const LabelRequirement& b) { return a.key < b.key; });
}

}  // namespace

bool LabelRequirement::Matches(const std::map<std::string, std::string>& labels) const {
  return RequirementMatches(*this, [&labels](const std::string& key) -> const std::string* {
    auto it = labels.find(key);
    return it == labels.end() ? nullptr : &it->second;
  });
}

std::string LabelRequirement::ToString() const {
  std::string out;
  if (op == LabelOperator::kDoesNotExist) out += '!';
  out += key;
  switch (op) {
    case LabelOperator::kEquals: out += '='; break;
    case LabelOperator::kDoubleEquals: out += "=="; break;
    case LabelOperator::kNotEquals: out += "!="; break;
    case LabelOperator::kIn: out += " in "; break;
    case LabelOperator::kNotIn: out += " notin "; break;
    case LabelOperator::kGreaterThan: out += '>'; break;
    case LabelOperator::kLessThan: out += '<'; break;
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist: return out;
  }
  const bool set = op == LabelOperator::kIn || op == LabelOperator::kNotIn;
  if (set) out += '(';
  out += Join(values, ",");
  if (set) out += ')';
  return out;
}

LabelSelector LabelSelector::Nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  try {
    Parser parser(Lex(text));
    LabelSelector selector;
    selector.requirements_ = parser.Parse();
    SortByKey(&selector.requirements_);
    return selector;
  } catch (const ParseError& e) {
    return Err(StatusCode::kBadRequest, e.message);
  }
}

Result<LabelSelector> LabelSelector::FromJson(const json::value& selector) {
  if (selector.is_null()) return Nothing();
  if (!selector.is_object()) {
    return Err(StatusCode::kInvalid, "a label selector must be an object");
  }
  LabelSelector out;
  const json::object& object = selector.get_object();
  if (auto it = object.find("matchLabels"); it != object.end() && !it->value().is_null()) {
    if (!it->value().is_object()) {
      return Err(StatusCode::kInvalid, "matchLabels must be an object of strings");
    }
    for (const auto& member : it->value().get_object()) {
      if (!member.value().is_string()) {
        return Err(StatusCode::kInvalid, "matchLabels must be an object of strings");
      }
      LabelRequirement r{std::string(member.key()),
                         LabelOperator::kEquals,
                         {std::string(member.value().get_string())}};
      if (auto errs = ValidateRequirement(r.key, r.op, r.values); !errs.empty()) {
        return Err(StatusCode::kInvalid, Aggregate(errs));
      }
      out.requirements_.push_back(std::move(r));
    }
  }
  if (auto it = object.find("matchExpressions"); it != object.end() && !it->value().is_null()) {
    if (!it->value().is_array()) {
      return Err(StatusCode::kInvalid, "matchExpressions must be a list");
    }
    for (const json::value& expr : it->value().get_array()) {
      if (!expr.is_object()) {
        return Err(StatusCode::kInvalid, "matchExpressions entries must be objects");
      }
      const json::object& e = expr.get_object();
      auto string_member = [&e](std::string_view name) -> std::string {
        auto m = e.find(name);
        if (m == e.end() || !m->value().is_string()) return "";
        return std::string(m->value().get_string());
      };
      LabelRequirement r;
      r.key = string_member("key");
      const std::string op = string_member("operator");
      if (op == "In") {
        r.op = LabelOperator::kIn;
      } else if (op == "NotIn") {
        r.op = LabelOperator::kNotIn;
      } else if (op == "Exists") {
        r.op = LabelOperator::kExists;
      } else if (op == "DoesNotExist") {
        r.op = LabelOperator::kDoesNotExist;
      } else {
        return Err(StatusCode::kInvalid, GoQuote(op) + " is not a valid label selector operator");
      }
      if (auto v = e.find("values"); v != e.end() && !v->value().is_null()) {
        if (!v->value().is_array()) {
          return Err(StatusCode::kInvalid, "matchExpressions values must be a list of strings");
        }
        for (const json::value& item : v->value().get_array()) {
          if (!item.is_string()) {
            return Err(StatusCode::kInvalid, "matchExpressions values must be a list of strings");
          }
          r.values.emplace_back(item.get_string());
        }
      }
      if (auto errs = ValidateRequirement(r.key, r.op, r.values); !errs.empty()) {
        return Err(StatusCode::kInvalid, Aggregate(errs));
      }
      SortUnique(&r.values);
      out.requirements_.push_back(std::move(r));
    }
  }
  SortByKey(&out.requirements_);
  return out;
}

Result<LabelSelector> LabelSelector::FromMap(const std::map<std::string, std::string>& labels) {
  LabelSelector out;
  for (const auto& [key, value] : labels) {
    LabelRequirement r{key, LabelOperator::kEquals, {value}};
    if (auto errs = ValidateRequirement(r.key, r.op, r.values); !errs.empty()) {
      return Err(StatusCode::kInvalid, Aggregate(errs));
    }
    out.requirements_.push_back(std::move(r));
  }
  return out;  // std::map iteration is already sorted by key
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&labels](const LabelRequirement& r) { return r.Matches(labels); });
}

bool LabelSelector::Matches(const json::value* labels) const {
  if (nothing_) return false;
  const json::object* object = labels != nullptr ? labels->if_object() : nullptr;
  std::string scratch;
  for (const LabelRequirement& r : requirements_) {
    const bool ok = RequirementMatches(r, [&](const std::string& key) -> const std::string* {
      if (object == nullptr) return nullptr;
      auto it = object->find(key);
      if (it == object->end() || !it->value().is_string()) return nullptr;
      scratch.assign(it->value().get_string().data(), it->value().get_string().size());
      return &scratch;
    });
    if (!ok) return false;
  }
  return true;
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (std::size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ',';
    out += requirements_[i].ToString();
  }
  return out;
}

std::optional<std::string> LabelSelector::RequiresExactMatch(std::string_view key) const {
  for (const LabelRequirement& r : requirements_) {
    if (r.key != key) continue;
    if ((r.op == LabelOperator::kEquals || r.op == LabelOperator::kDoubleEquals ||
         r.op == LabelOperator::kIn) &&
        r.values.size() == 1) {
      return r.values.front();
    }
  }
  return std::nullopt;
}

}  // namespace skiff
