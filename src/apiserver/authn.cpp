#include "apiserver/authn.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace skiff {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Splits CSV text into records the way Go's encoding/csv does with TrimLeadingSpace
// (which Kubernetes uses for its token file): RFC 4180 quoting, "" inside quotes for a
// quote, quoted fields may span lines, blank lines skipped. Additionally skips lines
// starting with '#'. Each record carries the line it started on.
struct CsvRecord {
  int line = 0;
  std::vector<std::string> fields;
};

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, std::string_view source) {
  std::vector<CsvRecord> records;
  size_t pos = 0;
  int line = 1;
  auto error = [&](std::string_view what) {
    return Err(StatusCode::kInvalid,
               std::string(source) + ": line " + std::to_string(line) + ": " + std::string(what));
  };
  while (pos < text.size()) {
    // Skip blank lines and comment lines.
    size_t eol = text.find('\n', pos);
    std::string_view first_line =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (Trim(first_line).empty() || first_line.front() == '#') {
      pos = eol == std::string_view::npos ? text.size() : eol + 1;
      ++line;
      continue;
    }

    CsvRecord record;
    record.line = line;
    bool end_of_record = false;
    while (!end_of_record) {
      // Leading white space of a field is ignored.
      while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
      std::string field;
      if (pos < text.size() && text[pos] == '"') {
        ++pos;
        while (true) {
          if (pos >= text.size()) return error("extraneous or missing \" in quoted-field");
          char c = text[pos++];
          if (c == '"') {
            if (pos < text.size() && text[pos] == '"') {
              field += '"';
              ++pos;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          if (c == '\r' && pos < text.size() && text[pos] == '\n')
            continue;  // CRLF inside quotes -> LF
          field += c;
        }
        // After the closing quote: a comma, the end of the line or the end of input.
        if (pos < text.size() && text[pos] == '\r') ++pos;
        if (pos >= text.size()) {
          end_of_record = true;
        } else if (text[pos] == ',') {
          ++pos;
        } else if (text[pos] == '\n') {
          ++pos;
          ++line;
          end_of_record = true;
        } else {
          return error("extraneous or missing \" in quoted-field");
        }
      } else {
        while (pos < text.size() && text[pos] != ',' && text[pos] != '\n') {
          if (text[pos] == '"') return error("bare \" in non-quoted-field");
          field += text[pos++];
        }
        if (!field.empty() && field.back() == '\r' && (pos >= text.size() || text[pos] == '\n'))
          field.pop_back();
        if (pos >= text.size()) {
          end_of_record = true;
        } else if (text[pos] == ',') {
          ++pos;
        } else {
          ++pos;
          ++line;
          end_of_record = true;
        }
      }
      record.fields.push_back(std::move(field));
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

UserInfo AnonymousUser() {
  UserInfo user;
  user.name = std::string(kAnonymousUser);
  user.groups.emplace_back(kAllUnauthenticatedGroup);
  return user;
}

void AddAuthenticatedGroup(UserInfo& user) {
  for (const std::string& group : user.groups) {
    if (group == kAllAuthenticatedGroup || group == kAllUnauthenticatedGroup) return;
  }
  user.groups.emplace_back(kAllAuthenticatedGroup);
}

std::optional<std::string_view> BearerToken(const HttpRequest& request) {
  std::string_view header = Trim(request.Header("Authorization"));
  size_t space = header.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  if (!EqualsIgnoreCase(header.substr(0, space), "bearer")) return std::nullopt;
  std::string_view token = Trim(header.substr(space + 1));
  // Like Kubernetes (strings.Fields), the token is the second whitespace-separated word.
  size_t end = token.find_first_of(" \t");
  if (end != std::string_view::npos) token = token.substr(0, end);
  if (token.empty()) return std::nullopt;
  return token;
}

Result<std::optional<UserInfo>> ClientCertAuthenticator::Authenticate(
    const HttpRequest& request) const {
  if (!request.peer || request.peer->common_name.empty()) return std::optional<UserInfo>();
  UserInfo user;
  user.name = request.peer->common_name;
  user.groups = request.peer->organizations;
  AddAuthenticatedGroup(user);
  return std::optional<UserInfo>(std::move(user));
}

StaticTokenAuthenticator::StaticTokenAuthenticator(std::unordered_map<std::string, UserInfo> tokens)
    : tokens_(std::move(tokens)) {}

Result<std::unique_ptr<StaticTokenAuthenticator>> StaticTokenAuthenticator::FromFile(
    const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(StatusCode::kInternal, "cannot read token file " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return Err(StatusCode::kInternal, "cannot read token file " + path.string());
  return FromCsv(content.str(), "token file " + path.string());
}

Result<std::unique_ptr<StaticTokenAuthenticator>> StaticTokenAuthenticator::FromCsv(
    std::string_view content, std::string_view source) {
  Result<std::vector<CsvRecord>> records = ParseCsv(content, source);
  if (!records) return Err(records.error());
  std::unordered_map<std::string, UserInfo> tokens;
  for (CsvRecord& record : *records) {
    if (record.fields.size() < 3) {
      return Err(StatusCode::kInvalid,
                 std::string(source) + ": line " + std::to_string(record.line) +
                     ": must have at least 3 columns (token, user name, user uid), found " +
                     std::to_string(record.fields.size()));
    }
    if (record.fields[0].empty()) continue;
    UserInfo user;
    user.name = std::move(record.fields[1]);
    user.uid = std::move(record.fields[2]);
    if (record.fields.size() >= 4) {
      std::string_view groups = record.fields[3];
      size_t start = 0;
      while (start <= groups.size()) {
        size_t comma = groups.find(',', start);
        if (comma == std::string_view::npos) comma = groups.size();
        std::string_view group = Trim(groups.substr(start, comma - start));
        if (!group.empty()) user.groups.emplace_back(group);
        start = comma + 1;
      }
    }
    AddAuthenticatedGroup(user);
    tokens[std::move(record.fields[0])] = std::move(user);
  }
  return std::make_unique<StaticTokenAuthenticator>(std::move(tokens));
}

Result<std::optional<UserInfo>> StaticTokenAuthenticator::Authenticate(
    const HttpRequest& request) const {
  std::optional<std::string_view> token = BearerToken(request);
  if (!token) return std::optional<UserInfo>();
  auto it = tokens_.find(std::string(*token));
  if (it == tokens_.end()) return Err(StatusCode::kUnauthorized, "invalid bearer token");
  return std::optional<UserInfo>(it->second);
}

UnionAuthenticator::UnionAuthenticator(std::vector<std::unique_ptr<Authenticator>> authenticators)
    : authenticators_(std::move(authenticators)) {}

Result<std::optional<UserInfo>> UnionAuthenticator::Authenticate(const HttpRequest& request) const {
  std::optional<Status> first_error;
  for (const std::unique_ptr<Authenticator>& authenticator : authenticators_) {
    Result<std::optional<UserInfo>> result = authenticator->Authenticate(request);
    if (!result) {
      if (!first_error) first_error = std::move(result.error());
      continue;
    }
    if (result->has_value()) return result;
  }
  if (first_error) return Err(std::move(*first_error));
  return std::optional<UserInfo>();
}

}  // namespace skiff
