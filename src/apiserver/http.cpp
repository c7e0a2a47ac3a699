#include "apiserver/http.h"

#include <algorithm>
#include <cctype>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace skiff {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `s`; malformed escapes are kept as they are.
std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_as_space && s[i] == '+') ? ' ' : s[i];
  }
  return out;
}

}  // namespace

// Splits a request target into its decoded path and query parameters. Boost.URL
// handles well-formed targets; anything it rejects that HTTP parsing let through
// (e.g. an unescaped '|' or '"', which Go's server also accepts) is split leniently.
void ParseRequestTarget(std::string_view target, HttpRequest& request) {
  // Origin-form ("/path?query") is what clients send; "//x" there is a path, not an
  // authority. Absolute-form ("https://host/path") is accepted too, as Go's server does.
  boost::system::result<boost::urls::url_view> url = !target.empty() && target.front() == '/'
                                                         ? boost::urls::parse_origin_form(target)
                                                         : boost::urls::parse_uri_reference(target);
  if (url) {
    request.path = url->path();
    for (const boost::urls::param& param : url->params())
      request.query.emplace_back(param.key, param.value);
    return;
  }
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (size_t scheme = path.find("://"); scheme != std::string_view::npos) {
    size_t slash = path.find('/', scheme + 3);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  request.path = PercentDecode(path, false);
  if (question == std::string_view::npos) return;
  std::string_view query = target.substr(question + 1);
  if (size_t hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    request.query.emplace_back(PercentDecode(key, true), PercentDecode(value, true));
  }
}

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::optional<std::string_view> HttpRequest::Query(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view HttpRequest::Header(std::string_view name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return {};
  return it->second;
}

void HttpResponse::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (!CaseInsensitiveLess()(k, name) && !CaseInsensitiveLess()(name, k)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace skiff
