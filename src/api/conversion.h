// Conversion between the versions of a kind.
//
// A resource may be served in several versions; the store and the watch cache hold one,
// the storage version, which is the hub: a request in another version converts its
// object to the storage version on the way in and back on the way out, so any served
// version reads and writes every stored object. Conversions are lossless: what a version
// cannot express travels in annotations, as Kubernetes does, and comes back when the
// object returns to the hub.
// Thread safety: conversions are stateless functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace skiff::api {

struct ResourceInfo;

// The two directions between one served version of a kind and its storage version.
// Each works on the object in place and leaves apiVersion/kind to the caller.
struct VersionConversion {
  void (*to_storage)(boost::json::object& obj);
  void (*from_storage)(boost::json::object& obj);
  // The path of a storage-version field in this version ("involvedObject.name" ->
  // "regarding.name"), for validation errors; null when paths are the same.
  std::string (*field_path_from_storage)(std::string_view path) = nullptr;
};

// The conversion of `kind` in group/version to its storage version, or nullptr when
// none is registered (built-in kinds list theirs in conversion.cpp).
const VersionConversion* FindConversion(std::string_view group, std::string_view version,
                                        std::string_view kind);

// Converts `obj`, an object of `r`'s version, to the storage version of `r` and sets its
// apiVersion and kind. Does nothing when `r` is the storage version. Resources without a
// conversion function (custom resources, conversion strategy None) change only apiVersion.
void ConvertToStorage(const ResourceInfo& r, boost::json::object& obj);

// Converts `obj`, a stored object of `r`'s resource, to `r`'s version. Does nothing when
// `r` is the storage version.
void ConvertFromStorage(const ResourceInfo& r, boost::json::object& obj);

// The path, in `r`'s version, of field `path` of the storage version.
std::string FieldPathInVersion(const ResourceInfo& r, std::string_view path);

}  // namespace skiff::api
