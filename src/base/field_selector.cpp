#include "base/field_selector.h"

#include <algorithm>

namespace skiff {
namespace {

// Splits at ',' that are not escaped; escapes stay in the terms.
std::vector<std::string_view> SplitTerms(std::string_view selector) {
  std::vector<std::string_view> terms;
  if (selector.empty()) return terms;
  std::size_t start = 0;
  bool in_slash = false;
  for (std::size_t i = 0; i < selector.size(); ++i) {
    const char c = selector[i];
    if (in_slash) {
      in_slash = false;
    } else if (c == '\\') {
      in_slash = true;
    } else if (c == ',') {
      terms.push_back(selector.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(selector.substr(start));
  return terms;
}

// The first operator occurrence splits the term; "!=" and "==" win over "=" at the same
// position. The field part supports no escaping.
bool SplitTerm(std::string_view term, std::string_view* lhs, std::string_view* op,
               std::string_view* rhs) {
  static constexpr std::string_view kOperators[] = {"!=", "==", "="};
  for (std::size_t i = 0; i < term.size(); ++i) {
    for (std::string_view candidate : kOperators) {
      if (term.substr(i).starts_with(candidate)) {
        *lhs = term.substr(0, i);
        *op = candidate;
        *rhs = term.substr(i + candidate.size());
        return true;
      }
    }
  }
  return false;
}

// Decodes one UTF-8 character (or a single byte when malformed) for error messages that
// print the rune's numeric value.
uint32_t RuneAt(std::string_view s, std::size_t i, std::size_t* width) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t w = c < 0x80             ? 1
                  : (c & 0xE0) == 0xC0 ? 2
                  : (c & 0xF0) == 0xE0 ? 3
                  : (c & 0xF8) == 0xF0 ? 4
                                       : 1;
  if (i + w > s.size()) w = 1;
  uint32_t cp = w == 1 ? c : w == 2 ? (c & 0x1Fu) : w == 3 ? (c & 0x0Fu) : (c & 0x07u);
  for (std::size_t k = 1; k < w; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      *width = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  *width = w;
  return w == 1 && c >= 0x80 ? 0xFFFD : cp;
}

}  // namespace

std::string EscapeFieldValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == ',' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Result<std::string> UnescapeFieldValue(std::string_view value) {
  if (value.find_first_of("\\,=") == std::string_view::npos) return std::string(value);
  std::string out;
  out.reserve(value.size());
  bool in_slash = false;
  for (std::size_t i = 0; i < value.size();) {
    std::size_t width = 1;
    const uint32_t rune = RuneAt(value, i, &width);
    const std::string_view character = value.substr(i, width);
    i += width;
    if (in_slash) {
      if (rune == '\\' || rune == ',' || rune == '=') {
        out.append(character);
      } else {
        return Err(StatusCode::kBadRequest,
                   "invalid field selector: invalid escape sequence: \\" + std::string(character));
      }
      in_slash = false;
      continue;
    }
    if (rune == '\\') {
      in_slash = true;
    } else if (rune == ',' || rune == '=') {
      return Err(StatusCode::kBadRequest,
                 "invalid field selector: unescaped character in value: " + std::to_string(rune));
    } else {
      out.append(character);
    }
  }
  if (in_slash) {
    return Err(StatusCode::kBadRequest, "invalid field selector: invalid escape sequence: \\");
  }
  return out;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  std::vector<std::string_view> terms = SplitTerms(text);
  std::sort(terms.begin(), terms.end());
  FieldSelector selector;
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    std::string_view lhs, op, rhs;
    if (!SplitTerm(term, &lhs, &op, &rhs)) {
      return Err(StatusCode::kBadRequest, "invalid selector: '" + std::string(text) +
                                              "'; can't understand '" + std::string(term) + "'");
    }
    auto value = UnescapeFieldValue(rhs);
    if (!value) return Err(value.error());
    selector.requirements_.push_back(
        FieldRequirement{std::string(lhs), op == "!=", std::move(*value)});
  }
  return selector;
}

bool FieldSelector::Matches(const FieldGetter& get) const {
  for (const FieldRequirement& r : requirements_) {
    const std::string actual = get(r.field).value_or("");
    if ((actual == r.value) == r.not_equals) return false;
  }
  return true;
}

std::string FieldSelector::ToString() const {
  std::string out;
  for (std::size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) out += ',';
    out += requirements_[i].field;
    out += requirements_[i].not_equals ? "!=" : "=";
    out += EscapeFieldValue(requirements_[i].value);
  }
  return out;
}

std::optional<std::string> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const FieldRequirement& r : requirements_) {
    if (r.field == field && !r.not_equals) return r.value;
  }
  return std::nullopt;
}

Status FieldSelector::CheckSupported(
    const std::function<bool(std::string_view field)>& supported) const {
  for (const FieldRequirement& r : requirements_) {
    if (!supported(r.field)) {
      return Status(StatusCode::kBadRequest, "field label not supported: " + r.field);
    }
  }
  return Status::Ok();
}

}  // namespace skiff
