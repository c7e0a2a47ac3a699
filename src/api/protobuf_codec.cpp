#include "api/protobuf_codec.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include <boost/json.hpp>

#include "base/base64.h"
#include "base/k8s_time.h"

namespace skiff::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kMagic{"k8s\0", 4};
// Messages nested deeper than this are refused; real objects need about 15 levels.
constexpr int kMaxDepth = 64;
// RFC 3339 covers the years 0001 to 9999.
constexpr int64_t kMinTimeSeconds = -62135596800;
constexpr int64_t kMaxTimeSeconds = 253402300799;

constexpr std::string_view kMetaPackage = "io.k8s.apimachinery.pkg.apis.meta.v1.";

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

Status Malformed(std::string_view what) {
  return Status(StatusCode::kBadRequest, "invalid protobuf body: " + std::string(what));
}

// One field of a message as it appears on the wire.
struct WireField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t scalar = 0;     // kVarint, kFixed64, kFixed32
  std::string_view bytes;  // kLengthDelimited
};

// Reads protobuf wire data; every read is bounds-checked.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ == data_.size(); }

  Result<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == data_.size()) return std::unexpected(Malformed("truncated varint"));
      auto byte = static_cast<uint8_t>(data_[pos_++]);
      // The tenth byte may only carry the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) return std::unexpected(Malformed("varint overflows 64 bits"));
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return std::unexpected(Malformed("varint longer than 10 bytes"));
  }

  Result<uint64_t> Fixed(size_t size) {
    if (data_.size() - pos_ < size) return std::unexpected(Malformed("truncated fixed-size field"));
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) {
      value |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += size;
    return value;
  }

  Result<std::string_view> LengthDelimited() {
    auto length = Varint();
    if (!length) return std::unexpected(length.error());
    if (*length > data_.size() - pos_) {
      return std::unexpected(Malformed("length past the end of the message"));
    }
    std::string_view out = data_.substr(pos_, static_cast<size_t>(*length));
    pos_ += static_cast<size_t>(*length);
    return out;
  }

  // Reads the next field: its tag and its payload, whatever the wire type.
  Result<WireField> Next() {
    auto tag = Varint();
    if (!tag) return std::unexpected(tag.error());
    WireField field;
    field.wire_type = static_cast<uint32_t>(*tag & 7);
    uint64_t number = *tag >> 3;
    if (number == 0 || number > 536870911) {
      return std::unexpected(Malformed("field number " + std::to_string(number) + " out of range"));
    }
    field.number = static_cast<uint32_t>(number);
    Result<uint64_t> scalar;
    switch (field.wire_type) {
      case kVarint: scalar = Varint(); break;
      case kFixed64: scalar = Fixed(8); break;
      case kFixed32: scalar = Fixed(4); break;
      case kLengthDelimited: {
        auto bytes = LengthDelimited();
        if (!bytes) return std::unexpected(bytes.error());
        field.bytes = *bytes;
        return field;
      }
      default:
        // Groups (3, 4) are not used by Kubernetes; 6 and 7 do not exist.
        return std::unexpected(
            Malformed("unsupported wire type " + std::to_string(field.wire_type)));
    }
    if (!scalar) return std::unexpected(scalar.error());
    field.scalar = *scalar;
    return field;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Calls `visit(const WireField&) -> Status` for each field of `message`.
template <typename Visit>
Status ForEachField(std::string_view message, Visit&& visit) {
  WireReader reader(message);
  while (!reader.done()) {
    auto field = reader.Next();
    if (!field) return field.error();
    if (Status s = visit(*field); !s.ok()) return s;
  }
  return Status::Ok();
}

Status WrongWireType(const std::string& path, const WireField& field) {
  return Malformed("field " + std::to_string(field.number) + " at " +
                   (path.empty() ? std::string("the top level") : path) + " has wire type " +
                   std::to_string(field.wire_type) + ", which does not fit its type");
}

std::string ChildPath(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// True for the named meta/v1 type `short_name` (Time, MicroTime, Duration).
bool IsMetaType(const Schema& schema, std::string_view short_name) {
  return schema.name.size() == kMetaPackage.size() + short_name.size() &&
         schema.name.starts_with(kMetaPackage) && schema.name.ends_with(short_name);
}

// Go's time.Duration.String(): "1h0m0s", "1m30s", "1.5s", "300ms", "0s".
std::string GoDuration(int64_t nanoseconds) {
  if (nanoseconds == 0) return "0s";
  bool negative = nanoseconds < 0;
  uint64_t u =
      negative ? 0 - static_cast<uint64_t>(nanoseconds) : static_cast<uint64_t>(nanoseconds);
  std::string out;  // built backwards
  // Writes the low `precision` digits of v as a fraction without trailing zeros and
  // returns v with those digits removed.
  auto fraction = [&out](uint64_t v, int precision) {
    bool printed = false;
    for (int i = 0; i < precision; ++i) {
      auto digit = static_cast<char>('0' + v % 10);
      printed = printed || digit != '0';
      if (printed) out += digit;
      v /= 10;
    }
    if (printed) out += '.';
    return v;
  };
  auto integer = [&out](uint64_t v) {
    do {
      out += static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v > 0);
  };
  if (u < 1'000'000'000) {
    int precision = 0;
    if (u < 1'000) {
      out = "sn";
    } else if (u < 1'000'000) {
      out = "s\xb5\xc2";  // "µs" backwards, UTF-8
      precision = 3;
    } else {
      out = "sm";
      precision = 6;
    }
    integer(fraction(u, precision));
  } else {
    out = "s";
    u = fraction(u, 9);
    integer(u % 60);
    u /= 60;
    if (u > 0) {
      out += 'm';
      integer(u % 60);
      u /= 60;
      if (u > 0) {
        out += 'h';
        integer(u);
      }
    }
  }
  if (negative) out += '-';
  std::ranges::reverse(out);
  return out;
}

class Decoder {
 public:
  Decoder(const SchemaRegistry& registry, ProtobufDecodeReport* report)
      : registry_(registry), report_(report) {}

  // Decodes `message` of object type `schema` into `out`, merging with what is there
  // (protobuf merges repeated occurrences of a message field). `embedded` is the path of
  // embedded-message numbers being read (see Property::proto_embedded_in).
  Status Object(std::string_view message, const Schema& schema, const std::vector<int>& embedded,
                const std::string& path, int depth, json::object& out) {
    if (depth > kMaxDepth)
      return Malformed("messages nested deeper than " + std::to_string(kMaxDepth));
    return ForEachField(message, [&](const WireField& field) -> Status {
      const Property* property = nullptr;
      bool embeds = false;
      for (const Property& p : schema.properties) {
        if (p.proto_number == 0) continue;
        const auto& outer = p.proto_embedded_in;
        if (outer.size() < embedded.size() ||
            !std::equal(embedded.begin(), embedded.end(), outer.begin())) {
          continue;
        }
        if (outer.size() == embedded.size()) {
          if (p.proto_number == static_cast<int>(field.number)) {
            property = &p;
            break;
          }
        } else if (outer[embedded.size()] == static_cast<int>(field.number)) {
          embeds = true;
          break;
        }
      }
      if (embeds) {
        if (field.wire_type != kLengthDelimited) return WrongWireType(path, field);
        std::vector<int> inner = embedded;
        inner.push_back(static_cast<int>(field.number));
        return Object(field.bytes, schema, inner, path, depth + 1, out);
      }
      if (!property) {
        if (report_) {
          report_->unknown_fields.push_back((path.empty() ? std::string("(top level)") : path) +
                                            ": field " + std::to_string(field.number));
        }
        return Status::Ok();
      }
      return Field(field, *property, ChildPath(path, property->name), depth, out);
    });
  }

  // Decodes a whole body: magic, runtime.Unknown envelope, then the object; see
  // DecodeKubernetesProtobuf. `api_version` and `kind` hold the defaults on entry.
  Result<json::value> Envelope(std::string_view body, std::string* api_version, std::string* kind,
                               int depth) {
    if (!HasKubernetesProtobufMagic(body)) {
      return std::unexpected(Malformed("missing the k8s\\0 prefix"));
    }
    std::string_view raw;
    std::string content_encoding;
    std::string envelope_api_version, envelope_kind;
    Status s = ForEachField(body.substr(kMagic.size()), [&](const WireField& f) -> Status {
      if (f.number > 4) return Status::Ok();
      if (f.wire_type != kLengthDelimited) return WrongWireType("", f);
      switch (f.number) {
        case 1:
          return ForEachField(f.bytes, [&](const WireField& t) -> Status {
            if (t.number > 2) return Status::Ok();
            if (t.wire_type != kLengthDelimited) return WrongWireType("typeMeta", t);
            (t.number == 1 ? envelope_api_version : envelope_kind).assign(t.bytes);
            return Status::Ok();
          });
        case 2: raw = f.bytes; break;
        case 3: content_encoding.assign(f.bytes); break;
        default: break;  // contentType: always protobuf in practice
      }
      return Status::Ok();
    });
    if (!s.ok()) return std::unexpected(s);
    if (!content_encoding.empty()) {
      return Err(StatusCode::kUnsupportedMediaType,
                 "protobuf content encoding \"" + content_encoding + "\" is not supported");
    }
    if (envelope_api_version.empty()) envelope_api_version = *api_version;
    if (envelope_kind.empty()) envelope_kind = *kind;
    if (envelope_api_version.empty() || envelope_kind.empty()) {
      return std::unexpected(Malformed("the envelope names no apiVersion or kind"));
    }
    const Schema* schema = FindKind(envelope_api_version, envelope_kind);
    if (!schema) {
      return Err(StatusCode::kUnsupportedMediaType,
                 "no protobuf decoding for kind " + envelope_kind + " of " + envelope_api_version);
    }
    json::object out;
    out["apiVersion"] = envelope_api_version;
    out["kind"] = envelope_kind;
    if (Status d = Object(raw, *schema, {}, "", depth, out); !d.ok()) return std::unexpected(d);
    // Fields of the message never override the envelope's type.
    out["apiVersion"] = envelope_api_version;
    out["kind"] = envelope_kind;
    *api_version = std::move(envelope_api_version);
    *kind = std::move(envelope_kind);
    return json::value(std::move(out));
  }

 private:
  // One occurrence of `property` on the wire.
  Status Field(const WireField& field, const Property& property, const std::string& path, int depth,
               json::object& out) {
    const Schema& schema = *property.schema;
    switch (schema.type) {
      case SchemaType::kArray:
        return ArrayElements(field, *schema.items, path, depth, out[property.name]);
      case SchemaType::kMap: return MapEntry(field, *schema.items, path, depth, out[property.name]);
      case SchemaType::kObject:
        if (!schema.preserve_unknown_fields) {
          if (field.wire_type != kLengthDelimited) return WrongWireType(path, field);
          json::value& slot = out[property.name];
          if (!slot.is_object()) slot = json::object();
          return Object(field.bytes, schema, {}, path, depth + 1, slot.as_object());
        }
        break;
      default: break;
    }
    auto value = Value(field, schema, path, depth);
    if (!value) return value.error();
    if (!value->has_value() || (!property.pointer && !property.keep_zero && IsZero(**value))) {
      // Kubernetes' JSON leaves out zero values of omitempty fields (and zero times).
      out.erase(property.name);
    } else {
      out[property.name] = std::move(**value);
    }
    return Status::Ok();
  }

  static bool IsZero(const json::value& v) {
    switch (v.kind()) {
      case json::kind::string: return v.get_string().empty();
      case json::kind::int64: return v.get_int64() == 0;
      case json::kind::uint64: return v.get_uint64() == 0;
      case json::kind::double_: return v.get_double() == 0;
      case json::kind::bool_: return !v.get_bool();
      case json::kind::null: return true;
      default: return false;  // objects and arrays are kept as they are
    }
  }

  static bool Packable(const Schema& items) {
    return items.type == SchemaType::kInteger || items.type == SchemaType::kBoolean ||
           items.type == SchemaType::kNumber;
  }

  // One occurrence of a repeated field: an element, or a packed run of scalars.
  Status ArrayElements(const WireField& field, const Schema& items, const std::string& path,
                       int depth, json::value& slot) {
    if (!slot.is_array()) slot = json::array();
    json::array& array = slot.as_array();
    if (field.wire_type == kLengthDelimited && Packable(items)) {
      WireReader reader(field.bytes);
      while (!reader.done()) {
        WireField element{.number = field.number, .wire_type = kVarint, .scalar = 0, .bytes = {}};
        Result<uint64_t> scalar;
        if (items.type == SchemaType::kNumber) {
          element.wire_type = kFixed64;
          scalar = reader.Fixed(8);
        } else {
          scalar = reader.Varint();
        }
        if (!scalar) return scalar.error();
        element.scalar = *scalar;
        auto value = Value(element, items, path, depth);
        if (!value) return value.error();
        array.push_back(value->value_or(nullptr));
      }
      return Status::Ok();
    }
    std::string element_path = path + "[" + std::to_string(array.size()) + "]";
    if (items.type == SchemaType::kObject && !items.preserve_unknown_fields) {
      if (field.wire_type != kLengthDelimited) return WrongWireType(element_path, field);
      json::object element;
      if (Status s = Object(field.bytes, items, {}, element_path, depth + 1, element); !s.ok())
        return s;
      array.push_back(std::move(element));
      return Status::Ok();
    }
    auto value = Value(field, items, element_path, depth);
    if (!value) return value.error();
    array.push_back(value->value_or(nullptr));
    return Status::Ok();
  }

  // One entry of a map field: a message {key = 1, value = 2}.
  Status MapEntry(const WireField& field, const Schema& items, const std::string& path, int depth,
                  json::value& slot) {
    if (field.wire_type != kLengthDelimited) return WrongWireType(path, field);
    if (!slot.is_object()) slot = json::object();
    std::string key;
    std::optional<WireField> value_field;
    Status s = ForEachField(field.bytes, [&](const WireField& entry) -> Status {
      if (entry.number == 1) {
        if (entry.wire_type != kLengthDelimited) return WrongWireType(path, entry);
        key.assign(entry.bytes);
      } else if (entry.number == 2) {
        value_field = entry;
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    std::string entry_path = path + "[" + key + "]";
    json::value value;
    if (items.type == SchemaType::kArray) {
      // Protobuf has no map of lists: the list is wrapped in a message {items = 1}
      // (authentication's ExtraValue).
      if (value_field) {
        if (value_field->wire_type != kLengthDelimited)
          return WrongWireType(entry_path, *value_field);
        json::value list = json::array();
        Status e = ForEachField(value_field->bytes, [&](const WireField& element) -> Status {
          if (element.number != 1) return Status::Ok();
          return ArrayElements(element, *items.items, entry_path, depth + 1, list);
        });
        if (!e.ok()) return e;
        value = std::move(list);
      } else {
        value = json::array();
      }
    } else if (items.type == SchemaType::kObject && !items.preserve_unknown_fields) {
      json::object object;
      if (value_field) {
        if (value_field->wire_type != kLengthDelimited)
          return WrongWireType(entry_path, *value_field);
        if (Status e = Object(value_field->bytes, items, {}, entry_path, depth + 1, object);
            !e.ok()) {
          return e;
        }
      }
      value = std::move(object);
    } else if (value_field) {
      auto decoded = Value(*value_field, items, entry_path, depth);
      if (!decoded) return decoded.error();
      value = decoded->value_or(nullptr);
    } else {
      value = ZeroValue(items);
    }
    slot.as_object()[key] = std::move(value);
    return Status::Ok();
  }

  // The JSON of a map value that is absent from its entry (the Go zero value).
  static json::value ZeroValue(const Schema& items) {
    switch (items.type) {
      case SchemaType::kInteger: return 0;
      case SchemaType::kNumber: return 0.0;
      case SchemaType::kBoolean: return false;
      case SchemaType::kQuantity: return "0";
      case SchemaType::kIntOrString: return 0;
      case SchemaType::kString: return "";
      default: return nullptr;
    }
  }

  // A single non-repeated value of a primitive (or free-form) schema. Returns nullopt for
  // a value Kubernetes' JSON leaves out (a zero time, an empty RawExtension).
  Result<std::optional<json::value>> Value(const WireField& field, const Schema& schema,
                                           const std::string& path, int depth) {
    auto wrong = [&] { return std::unexpected(WrongWireType(path, field)); };
    switch (schema.type) {
      case SchemaType::kInteger: {
        if (field.wire_type != kVarint) return wrong();
        if (schema.format == "int32") {
          return json::value(static_cast<int64_t>(static_cast<int32_t>(field.scalar)));
        }
        return json::value(static_cast<int64_t>(field.scalar));
      }
      case SchemaType::kBoolean:
        if (field.wire_type != kVarint) return wrong();
        return json::value(field.scalar != 0);
      case SchemaType::kNumber:
        if (field.wire_type == kFixed64) return json::value(std::bit_cast<double>(field.scalar));
        if (field.wire_type == kFixed32) {
          return json::value(
              static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(field.scalar))));
        }
        return wrong();
      case SchemaType::kString:
        if (field.wire_type != kLengthDelimited) return wrong();
        if (IsMetaType(schema, "MicroTime")) return Time(field.bytes, path, true);
        if (schema.format == "date-time") return Time(field.bytes, path, false);
        if (IsMetaType(schema, "Duration")) return Duration(field.bytes, path);
        if (schema.format == "byte") return json::value(Base64Encode(field.bytes));
        return json::value(field.bytes);
      case SchemaType::kQuantity: {
        if (field.wire_type != kLengthDelimited) return wrong();
        std::string text;
        Status s = ForEachField(field.bytes, [&](const WireField& f) -> Status {
          if (f.number != 1) return Status::Ok();
          if (f.wire_type != kLengthDelimited) return WrongWireType(path, f);
          text.assign(f.bytes);
          return Status::Ok();
        });
        if (!s.ok()) return std::unexpected(s);
        return json::value(text.empty() ? "0" : text);
      }
      case SchemaType::kIntOrString:
        if (field.wire_type != kLengthDelimited) return wrong();
        return IntOrString(field.bytes, path);
      case SchemaType::kAny:
      case SchemaType::kObject:  // free-form: FieldsV1, RawExtension
        if (field.wire_type != kLengthDelimited) return wrong();
        return RawJson(field.bytes, path, depth);
      case SchemaType::kArray:
      case SchemaType::kMap: break;
    }
    return wrong();
  }

  // meta.Time / meta.MicroTime: {seconds = 1, nanos = 2}. The zero time is left out, as
  // Kubernetes writes it as null.
  Result<std::optional<json::value>> Time(std::string_view message, const std::string& path,
                                          bool micro) {
    int64_t seconds = 0;
    int64_t nanos = 0;
    Status s = ForEachField(message, [&](const WireField& f) -> Status {
      if (f.number != 1 && f.number != 2) return Status::Ok();
      if (f.wire_type != kVarint) return WrongWireType(path, f);
      if (f.number == 1) {
        seconds = static_cast<int64_t>(f.scalar);
      } else {
        nanos = static_cast<int32_t>(f.scalar);
      }
      return Status::Ok();
    });
    if (!s.ok()) return std::unexpected(s);
    if (seconds == 0 && nanos == 0) return std::nullopt;
    if (seconds < kMinTimeSeconds || seconds > kMaxTimeSeconds || nanos < 0 ||
        nanos > 999'999'999) {
      return std::unexpected(Malformed("time out of range at " + path));
    }
    TimePoint t{std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(seconds) +
                                                                std::chrono::nanoseconds(nanos))};
    return json::value(micro ? FormatRfc3339Micro(t) : FormatRfc3339(t));
  }

  // meta.Duration: {duration = 1} in nanoseconds, written the way Go prints durations.
  Result<std::optional<json::value>> Duration(std::string_view message, const std::string& path) {
    int64_t nanoseconds = 0;
    Status s = ForEachField(message, [&](const WireField& f) -> Status {
      if (f.number != 1) return Status::Ok();
      if (f.wire_type != kVarint) return WrongWireType(path, f);
      nanoseconds = static_cast<int64_t>(f.scalar);
      return Status::Ok();
    });
    if (!s.ok()) return std::unexpected(s);
    return json::value(GoDuration(nanoseconds));
  }

  // intstr.IntOrString: {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}.
  Result<std::optional<json::value>> IntOrString(std::string_view message,
                                                 const std::string& path) {
    uint64_t type = 0;
    int32_t int_value = 0;
    std::string string_value;
    Status s = ForEachField(message, [&](const WireField& f) -> Status {
      if (f.number == 1 || f.number == 2) {
        if (f.wire_type != kVarint) return WrongWireType(path, f);
        if (f.number == 1) {
          type = f.scalar;
        } else {
          int_value = static_cast<int32_t>(f.scalar);
        }
      } else if (f.number == 3) {
        if (f.wire_type != kLengthDelimited) return WrongWireType(path, f);
        string_value.assign(f.bytes);
      }
      return Status::Ok();
    });
    if (!s.ok()) return std::unexpected(s);
    if (type == 0) return json::value(static_cast<int64_t>(int_value));
    if (type == 1) return json::value(string_value);
    return std::unexpected(Malformed("IntOrString of unknown type at " + path));
  }

  // runtime.RawExtension {raw = 1} and meta.FieldsV1 {Raw = 1}: embedded JSON, or an
  // embedded Kubernetes protobuf object. Empty raw bytes are left out.
  Result<std::optional<json::value>> RawJson(std::string_view message, const std::string& path,
                                             int depth) {
    std::string_view raw;
    Status s = ForEachField(message, [&](const WireField& f) -> Status {
      if (f.number != 1) return Status::Ok();
      if (f.wire_type != kLengthDelimited) return WrongWireType(path, f);
      raw = f.bytes;
      return Status::Ok();
    });
    if (!s.ok()) return std::unexpected(s);
    if (raw.empty()) return std::nullopt;
    if (HasKubernetesProtobufMagic(raw)) {
      if (depth + 1 > kMaxDepth) return std::unexpected(Malformed("objects nested too deeply"));
      std::string api_version, kind;
      auto object = Envelope(raw, &api_version, &kind, depth + 1);
      if (!object) return std::unexpected(object.error());
      return std::move(*object);
    }
    json::parse_options options;
    options.max_depth = kMaxDepth;
    json::error_code ec;
    json::value parsed = json::parse(raw, ec, {}, options);
    if (ec) return std::unexpected(Malformed("embedded JSON at " + path + " is invalid"));
    return parsed;
  }

  const Schema* FindKind(std::string_view api_version, std::string_view kind) const {
    size_t slash = api_version.find('/');
    std::string_view group = slash == std::string_view::npos ? "" : api_version.substr(0, slash);
    std::string_view version =
        slash == std::string_view::npos ? api_version : api_version.substr(slash + 1);
    const Schema* meta_kind = nullptr;
    for (const auto& [name, schema] : registry_.types()) {
      if (schema->gvk_kind != kind || schema->type != SchemaType::kObject) continue;
      if (schema->gvk_group == group && schema->gvk_version == version) return schema;
      if (name.starts_with(kMetaPackage)) meta_kind = schema;
    }
    return meta_kind;
  }

  const SchemaRegistry& registry_;
  ProtobufDecodeReport* report_;
};

}  // namespace

bool HasKubernetesProtobufMagic(std::string_view body) { return body.starts_with(kMagic); }

Result<json::value> DecodeKubernetesProtobuf(std::string_view body, const SchemaRegistry& registry,
                                             std::string* api_version, std::string* kind,
                                             ProtobufDecodeReport* report) {
  std::string version_in = api_version ? *api_version : std::string();
  std::string kind_in = kind ? *kind : std::string();
  ProtobufDecodeReport local_report;
  Decoder decoder(registry, report ? &local_report : nullptr);
  try {
    auto out = decoder.Envelope(body, &version_in, &kind_in, 0);
    if (!out) return out;
    if (api_version) *api_version = std::move(version_in);
    if (kind) *kind = std::move(kind_in);
    if (report) *report = std::move(local_report);
    return out;
  } catch (const std::exception& e) {  // allocation failures inside Boost.JSON
    return Err(StatusCode::kInternal, std::string("decoding a protobuf body: ") + e.what());
  }
}

Result<json::object> DecodeProtobufMessage(std::string_view message, const Schema& schema,
                                           const SchemaRegistry& registry,
                                           ProtobufDecodeReport* report) {
  Decoder decoder(registry, report);
  json::object out;
  try {
    if (Status s = decoder.Object(message, schema, {}, "", 0, out); !s.ok())
      return Err(std::move(s));
  } catch (const std::exception& e) {
    return Err(StatusCode::kInternal, std::string("decoding a protobuf message: ") + e.what());
  }
  return out;
}

}  // namespace skiff::api
