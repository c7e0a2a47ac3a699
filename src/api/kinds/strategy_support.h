// Helpers shared by the kind strategies: reading and writing the JSON of an object
// without trusting its shape, building field errors worded as Kubernetes words them,
// and rendering values the way Go prints them inside those messages.
// Internal to src/api; nothing outside the strategies should include this header.
// Thread safety: free functions over caller-owned values.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "base/status.h"

namespace skiff::api::kinds {

// ---------------------------------------------------------------------------
// Reading: every accessor follows `path` (a list of object keys) and returns
// nothing (nullptr, "", nullopt, false) when a step is absent or of another type.
using JsonPath = std::initializer_list<std::string_view>;

const boost::json::value* Find(const boost::json::object& obj, JsonPath path);
const boost::json::object* FindObj(const boost::json::object& obj, JsonPath path);
const boost::json::array* FindArr(const boost::json::object& obj, JsonPath path);
std::string_view FindStr(const boost::json::object& obj, JsonPath path);
std::optional<int64_t> FindInt(const boost::json::object& obj, JsonPath path);
bool FindBool(const boost::json::object& obj, JsonPath path);
// Number of members of an object or elements of an array at `path`; 0 otherwise.
size_t CountAt(const boost::json::object& obj, JsonPath path);

// ---------------------------------------------------------------------------
// Writing.
boost::json::object* FindMutObj(boost::json::object& obj, JsonPath path);
boost::json::array* FindMutArr(boost::json::object& obj, JsonPath path);
// The object at `path`, created (replacing any non-object) where missing.
boost::json::object& EnsureObj(boost::json::object& obj, JsonPath path);
// Sets obj[key] = value unless obj already holds a non-null `key`.
void SetIfAbsent(boost::json::object& obj, std::string_view key, const boost::json::value& value);
// True when `key` is absent, null or an empty string.
bool IsUnsetString(const boost::json::object& obj, std::string_view key);

// Structural equality where an absent member equals a null, "", 0, false, [] or {}
// (Go's zero values: what apimachinery's semantic equality compares).
bool SemanticEqual(const boost::json::value& a, const boost::json::value& b);
// SemanticEqual on two optional members.
bool SemanticEqualMember(const boost::json::value* a, const boost::json::value* b);

// ---------------------------------------------------------------------------
// Field paths, as k8s.io/apimachinery/pkg/util/validation/field prints them.
std::string Child(std::string_view path, std::string_view name);  // "spec" + "x" -> "spec.x"
std::string Index(std::string_view path, size_t i);               // "spec.x[3]"
std::string KeyOf(std::string_view path, std::string_view key);   // "data[tls.crt]"

// ---------------------------------------------------------------------------
// Go value rendering for "Invalid value: <v>" messages.
std::string GoQuote(std::string_view s);                     // %q of a string
std::string GoStringMap(const boost::json::object* map);     // %#v of map[string]string
std::string GoStringSlice(const boost::json::array* items);  // %#v of []string
// %#v of a metav1.LabelSelector value (`v1.LabelSelector{MatchLabels:...}`).
std::string GoLabelSelector(const boost::json::object* selector);
// %#v of an intstr.IntOrString value.
std::string GoIntOrString(const boost::json::value* v);

// ---------------------------------------------------------------------------
// Field errors, appended as metav1 StatusCauses. `shown` values are already rendered
// (use GoQuote for strings, std::to_string for numbers).
class FieldErrors {
 public:
  explicit FieldErrors(std::vector<StatusCause>& out) : out_(out) {}

  void Required(std::string path, std::string_view detail = {});
  void Invalid(std::string path, std::string_view shown, std::string_view detail);
  void InvalidString(std::string path, std::string_view value, std::string_view detail);
  void InvalidInt(std::string path, int64_t value, std::string_view detail);
  void NotSupported(std::string path, std::string_view value,
                    std::initializer_list<std::string_view> supported);
  void NotSupported(std::string path, std::string_view value,
                    const std::vector<std::string>& supported);
  void Duplicate(std::string path, std::string_view shown);
  void Forbidden(std::string path, std::string_view detail);
  void TooLong(std::string path, int64_t max_bytes);
  // "Too many: <actual>: must have at most <max> items".
  void TooMany(std::string path, int64_t actual, int64_t max_items);
  void NotFound(std::string path, std::string_view shown);
  // Each message becomes an Invalid cause for the string `value`.
  void InvalidEach(const std::string& path, std::string_view value,
                   const std::vector<std::string>& messages);

  size_t size() const { return out_.size(); }

 private:
  void Add(std::string type, std::string path, std::string message);
  std::vector<StatusCause>& out_;
};

// ---------------------------------------------------------------------------
// Small validators with Kubernetes' messages.
// IsValidPortNum: "must be between 1 and 65535, inclusive".
std::vector<std::string> PortNumErrors(int64_t port);
// IsValidPortName (IANA_SVC_NAME).
std::vector<std::string> PortNameErrors(std::string_view name);
// IsConfigMapKey.
std::vector<std::string> ConfigMapKeyErrors(std::string_view key);
// True for a textual IPv4 or IPv6 address.
bool IsIpAddress(std::string_view text);
bool IsIpv6Address(std::string_view text);
// ValidateNonSpecialIP: unspecified, loopback and link-local addresses are refused.
std::vector<std::string> NonSpecialIpErrors(std::string_view ip);
// "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)" for a non-address.
void ValidateIpAddress(const std::string& path, std::string_view ip, FieldErrors& errs);
// Name rules of k8s.io/apimachinery/pkg/util/validation, with its messages.
std::vector<std::string> Dns1123LabelErrors(std::string_view value);
std::vector<std::string> Dns1123SubdomainErrors(std::string_view value);
std::vector<std::string> QualifiedNameErrors(std::string_view value);  // also label keys
std::vector<std::string> LabelValueErrors(std::string_view value);
// Validates a metav1.LabelSelector at `path` (matchLabels, matchExpressions).
void ValidateLabelSelector(const boost::json::object& selector, const std::string& path,
                           FieldErrors& errs);
// A metav1.LabelSelector as labels.Selector.String() prints it: requirements sorted by
// key, "k=v", "k in (a,b)", "k notin (a)", "k", "!k"; "" for an empty or absent one.
std::string LabelSelectorString(const boost::json::object* selector);
// Whether `labels` satisfy `selector`. An absent selector matches nothing, an empty one
// everything; one with an unknown operator matches nothing.
bool LabelSelectorMatches(const boost::json::object* selector, const boost::json::object* labels);
// Validates a label map at `path` (keys and values).
void ValidateLabelMap(const boost::json::object& labels, const std::string& path,
                      FieldErrors& errs);

// An RFC 3339 timestamp ("2024-05-01T10:00:00Z", fractions allowed), nullopt if invalid.
std::optional<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view rfc3339);

// kubectl's HumanDuration of now - t ("5m", "3h2m", "<invalid>" when t is in the future).
std::string HumanDurationSince(std::chrono::system_clock::time_point t,
                               std::chrono::system_clock::time_point now);

// "<unknown>" for absent or unparsable timestamps, else HumanDuration(now - t).
std::string TimestampSince(std::string_view rfc3339, std::chrono::system_clock::time_point now);

}  // namespace skiff::api::kinds
