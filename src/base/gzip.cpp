#include "base/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>

namespace skiff {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// zlib's windowBits for a gzip wrapper.
constexpr int kGzipWindowBits = 15 + 16;

}  // namespace

std::string GzipCompress(std::string_view data, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, std::clamp(level, 1, 9), Z_DEFLATED, kGzipWindowBits, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(rc == Z_STREAM_END ? zs.total_out : 0);
  deflateEnd(&zs);
  return out;
}

Result<std::string> GzipDecompress(std::string_view data, size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, kGzipWindowBits) != Z_OK)
    return Err(StatusCode::kInternal, "cannot start gzip decompression");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[64 * 1024];
  int rc = Z_OK;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof(buf) - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return Err(StatusCode::kBadRequest, "gzip data expands beyond the limit");
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      inflateReset(&zs);  // another member follows
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Err(StatusCode::kBadRequest, "corrupt or truncated gzip data");
  return out;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    std::string_view coding = item, params;
    if (size_t semi = item.find(';'); semi != std::string_view::npos) {
      coding = item.substr(0, semi);
      params = item.substr(semi + 1);
    }
    coding = Trim(coding);
    if (!EqualsIgnoreCase(coding, "gzip") && !EqualsIgnoreCase(coding, "x-gzip") && coding != "*")
      continue;
    params = Trim(params);
    if (params.starts_with("q=") || params.starts_with("Q=")) {
      std::string_view q = Trim(params.substr(2));
      if (!q.empty() &&
          std::all_of(q.begin(), q.end(), [](char c) { return c == '0' || c == '.'; }))
        continue;  // q=0: not acceptable
    }
    return true;
  }
  return false;
}

}  // namespace skiff
