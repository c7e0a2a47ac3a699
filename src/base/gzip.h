// gzip (RFC 1952) compression of HTTP response bodies, and the Accept-Encoding check.
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace skiff {

// `data` as one gzip member at zlib `level` (1 fastest .. 9 smallest, as Kubernetes uses 1
// for responses). Never fails for memory it can allocate.
std::string GzipCompress(std::string_view data, int level = 1);

// The data of a gzip stream (all members). Errors: kBadRequest for a corrupt or truncated
// stream, or one that expands beyond `max_bytes`.
Result<std::string> GzipDecompress(std::string_view data, size_t max_bytes = size_t{1} << 30);

// Whether an Accept-Encoding header value accepts gzip ("gzip", "x-gzip" or "*", with a
// q-value other than 0), as Go's and browsers' clients send it.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace skiff
