#include "base/strategic_merge_patch.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "base/json_codec.h"

namespace skiff {
namespace {

namespace json = boost::json;

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";

constexpr std::string_view kBadRetainKeys = "invalid patch format of retainKeys";
constexpr std::string_view kBadSetElementOrder = "invalid patch format of setElementOrder list";
constexpr std::string_view kBadPrimitiveList = "invalid patch format of primitive list";

struct PatchFailure {
  StatusCode code;
  std::string message;
};

[[noreturn]] void Fail(std::string_view message, StatusCode code = StatusCode::kBadRequest) {
  throw PatchFailure{code, std::string(message)};
}

std::string Show(const json::value& v) { return SerializeJson(v); }
std::string Show(const json::object& o) { return SerializeJson(json::value(o)); }
std::string Show(const json::array& a) { return SerializeJson(json::value(a)); }

[[noreturn]] void FailNoMergeKey(const json::object& item, std::string_view merge_key) {
  Fail("map: " + Show(item) + " does not contain declared merge key: " + std::string(merge_key));
}

// Go decodes every JSON number to float64, so all numbers share one "type".
enum class JsonType { kObject, kArray, kString, kNumber, kBool, kNull };

JsonType TypeOf(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return JsonType::kObject;
    case json::kind::array: return JsonType::kArray;
    case json::kind::string: return JsonType::kString;
    case json::kind::bool_: return JsonType::kBool;
    case json::kind::null: return JsonType::kNull;
    default: return JsonType::kNumber;
  }
}

bool StartsWithDirective(std::string_view key, std::string_view prefix) {
  return key.starts_with(prefix);
}

// "$setElementOrder/containers" -> "containers".
std::string ExtractKey(std::string_view key, std::string_view prefix, std::string_view error) {
  const std::size_t slash = key.find('/');
  if (slash == std::string_view::npos || key.substr(0, slash) != prefix) Fail(error);
  return std::string(key.substr(slash + 1));
}

// The strategy that applies to merging, with "retainKeys" set aside.
std::string ExtractStrategy(std::string_view spec) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view part = spec.substr(start, comma - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) parts.emplace_back(part);
    start = comma + 1;
  }
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts[0] == "retainKeys" ? "" : parts[0];
  if (parts.size() == 2) {
    if (parts[0] == "retainKeys") return parts[1];
    if (parts[1] == "retainKeys") return parts[0];
  }
  Fail("unexpected patch strategy: " + std::string(spec));
}

struct FieldInfo {
  std::unique_ptr<PatchMeta> meta;
  std::string strategy;  // "", "merge" or "replace"
  std::string merge_key;
};

FieldInfo LookupField(const PatchMeta* meta, std::string_view name) {
  FieldInfo info;
  if (meta == nullptr) return info;
  info.meta = meta->Field(name);
  if (info.meta == nullptr) return info;
  info.strategy = ExtractStrategy(info.meta->PatchStrategy());
  info.merge_key = info.meta->PatchMergeKey();
  return info;
}

// The value of the merge key in a list item, or nullptr when the item is not an object or
// lacks the key.
const json::value* MergeKeyOf(const json::value& item, std::string_view merge_key) {
  const json::object* object = item.if_object();
  if (object == nullptr) return nullptr;
  auto it = object->find(merge_key);
  return it == object->end() ? nullptr : &it->value();
}

bool SameMergeKey(const json::value& a, const json::value& b, std::string_view merge_key) {
  const json::value* ka = MergeKeyOf(a, merge_key);
  const json::value* kb = MergeKeyOf(b, merge_key);
  if (ka == nullptr || kb == nullptr) return ka == kb;
  return JsonEqual(*ka, *kb);
}

bool IsDirectiveItem(const json::value& item) {
  const json::object* object = item.if_object();
  return object != nullptr && object->contains(kDirectiveMarker);
}

bool IsDeleteItem(const json::value& item) {
  const json::object* object = item.if_object();
  if (object == nullptr) return false;
  auto it = object->find(kDirectiveMarker);
  return it != object->end() && it->value().is_string() && it->value().get_string() == "delete";
}

// Removes null members from objects, recursively (also inside lists).
void DiscardNulls(json::value& v) {
  if (json::object* object = v.if_object()) {
    for (auto it = object->begin(); it != object->end();) {
      if (it->value().is_null()) {
        it = object->erase(it);
      } else {
        DiscardNulls(it->value());
        ++it;
      }
    }
  } else if (json::array* array = v.if_array()) {
    for (json::value& item : *array) DiscardNulls(item);
  }
}

class Merger {
 public:
  // Merges `patch` into `target` (made an object if it is not one).
  void MergeMap(json::value& target, const json::object& patch, const PatchMeta* meta) {
    if (auto it = patch.find(kDirectiveMarker); it != patch.end()) {
      const json::value& directive = it->value();
      if (directive.is_string() && directive.get_string() == "replace") {
        json::object rest;
        for (const auto& member : patch) {
          if (member.key() != kDirectiveMarker) rest.emplace(member.key(), member.value());
        }
        json::value fresh = json::object();
        MergeMap(fresh, rest, meta);
        target = std::move(fresh);
        return;
      }
      if (directive.is_string() && directive.get_string() == "delete") {
        target = json::object();
        return;
      }
      if (!directive.is_string() || directive.get_string() != "merge") {
        Fail("unknown patch type: " + Show(directive) + " in map: " + Show(patch));
      }
    }
    if (!target.is_object()) target = json::object();
    json::object& original = target.get_object();

    ApplyRetainKeys(original, patch);
    std::set<std::string, std::less<>> ordered_lists;
    ApplySetElementOrder(original, patch, meta, &ordered_lists);

    for (const auto& member : patch) {
      const std::string_view key = member.key();
      if (key == kDirectiveMarker || key == kRetainKeysDirective ||
          StartsWithDirective(key, kSetElementOrderPrefix) || ordered_lists.contains(key)) {
        continue;
      }
      std::string field(key);
      bool delete_list = false;
      if (StartsWithDirective(key, kDeleteFromPrimitiveListPrefix)) {
        field = ExtractKey(key, kDeleteFromPrimitiveListPrefix, kBadPrimitiveList);
        delete_list = true;
      } else if (key.starts_with('$') && (meta == nullptr || meta->Field(key) == nullptr)) {
        Fail("unknown strategic merge patch directive \"" + field + "\"");
      }
      const json::value& value = member.value();
      if (value.is_null()) {
        original.erase(field);
        continue;
      }
      FieldInfo info = LookupField(meta, field);
      auto it = original.find(field);
      if (it == original.end()) {
        if (!delete_list) original[field] = NewValue(value, info);
        continue;
      }
      json::value& current = it->value();
      if (TypeOf(current) != TypeOf(value)) {
        if (!delete_list) current = NewValue(value, info);
        continue;
      }
      if (value.is_object()) {
        if (info.strategy == "replace") {
          json::value fresh = json::object();
          MergeMap(fresh, value.get_object(), info.meta.get());
          current = std::move(fresh);
        } else {
          MergeMap(current, value.get_object(), info.meta.get());
        }
      } else if (value.is_array()) {
        json::array merged =
            MergeSliceHandler(std::move(current.get_array()), value.get_array(), info, delete_list);
        original[field] = std::move(merged);
      } else {
        current = value;
      }
    }
  }

 private:
  // A patch value for a key the original lacks: directives applied, nulls dropped.
  json::value NewValue(const json::value& value, const FieldInfo& info) {
    if (value.is_object()) {
      json::value fresh = json::object();
      MergeMap(fresh, value.get_object(), info.meta.get());
      return fresh;
    }
    if (value.is_array() && info.strategy == "merge" && !info.merge_key.empty()) {
      const json::array& items = value.get_array();
      if (std::all_of(items.begin(), items.end(),
                      [](const json::value& v) { return v.is_object(); })) {
        std::unique_ptr<PatchMeta> item_meta = info.meta ? info.meta->Items() : nullptr;
        return MergeSlice(json::array(), items, item_meta.get(), info.merge_key, false);
      }
    }
    json::value copy = value;
    DiscardNulls(copy);
    return copy;
  }

  json::array MergeSliceHandler(json::array original, const json::array& patch,
                                const FieldInfo& info, bool delete_list) {
    if (info.strategy == "merge" || delete_list) {
      std::unique_ptr<PatchMeta> item_meta = info.meta ? info.meta->Items() : nullptr;
      return MergeSlice(std::move(original), patch, item_meta.get(), info.merge_key, delete_list);
    }
    return patch;
  }

  // The element type shared by all items of the lists; fails for mixed types and lists of
  // lists. Returns nullopt when there are no elements at all.
  static std::optional<JsonType> SliceElementType(const json::array& a, const json::array& b) {
    std::optional<JsonType> type;
    for (const json::array* list : {&a, &b}) {
      for (const json::value& item : *list) {
        const JsonType t = TypeOf(item);
        if (!type) {
          if (t == JsonType::kArray) Fail("lists of lists are not supported", StatusCode::kInvalid);
          type = t;
        } else if (*type != t) {
          Fail("list element types are not identical: [" + Show(a) + " " + Show(b) + "]");
        }
      }
    }
    return type;
  }

  json::array MergeSlice(json::array original, const json::array& patch, const PatchMeta* item_meta,
                         const std::string& merge_key, bool delete_list) {
    if (original.empty() && patch.empty()) return original;
    const JsonType kind = *SliceElementType(original, patch);
    json::array patch_order;
    json::array server_order;
    json::array merged;
    if (kind != JsonType::kObject) {
      if (delete_list) {
        json::array kept;
        for (json::value& item : original) {
          const bool doomed =
              std::any_of(patch.begin(), patch.end(),
                          [&item](const json::value& d) { return JsonEqual(item, d); });
          if (!doomed) kept.push_back(std::move(item));
        }
        return kept;
      }
      server_order = original;
      patch_order = patch;
      for (const json::array* list : {static_cast<const json::array*>(&original), &patch}) {
        for (const json::value& item : *list) {
          const bool seen =
              std::any_of(merged.begin(), merged.end(),
                          [&item](const json::value& m) { return JsonEqual(item, m); });
          if (!seen) merged.push_back(item);
        }
      }
    } else {
      if (delete_list) Fail(kBadPrimitiveList);
      if (merge_key.empty()) Fail("cannot merge lists without merge key");
      // Special elements: {"$patch": "delete", <key>: v} and {"$patch": "replace"}.
      bool replace = false;
      for (const json::value& item : patch) {
        const json::object& object = item.get_object();
        auto directive = object.find(kDirectiveMarker);
        if (directive == object.end()) {
          patch_order.push_back(item);
          continue;
        }
        const json::value& d = directive->value();
        if (d.is_string() && d.get_string() == "delete") {
          const json::value* key = MergeKeyOf(item, merge_key);
          if (key == nullptr) FailNoMergeKey(object, merge_key);
          json::array kept;
          for (json::value& existing : original) {
            const json::value* existing_key = MergeKeyOf(existing, merge_key);
            if (!(existing_key != nullptr && JsonEqual(*existing_key, *key))) {
              kept.push_back(std::move(existing));
            }
          }
          original = std::move(kept);
        } else if (d.is_string() && d.get_string() == "replace") {
          replace = true;
        } else if (!(d.is_string() && d.get_string() == "merge")) {
          Fail("unknown patch type: " + Show(d) + " in map: " + Show(object));
        }
      }
      if (replace) {
        original.clear();
        for (const json::value& item : patch_order) {
          json::value fresh = json::object();
          MergeMap(fresh, item.get_object(), item_meta);
          original.push_back(std::move(fresh));
        }
        patch_order.clear();
      }
      server_order = original;
      for (const json::value& item : patch_order) {
        const json::value* key = MergeKeyOf(item, merge_key);
        if (key == nullptr) FailNoMergeKey(item.get_object(), merge_key);
        bool found = false;
        for (std::size_t i = 0; i < original.size(); ++i) {
          if (!original[i].is_object())
            Fail("value for key " + std::to_string(i) + " is not a map.");
          const json::value* existing = MergeKeyOf(original[i], merge_key);
          if (existing != nullptr && JsonEqual(*existing, *key)) {
            MergeMap(original[i], item.get_object(), item_meta);
            found = true;
            break;
          }
        }
        if (!found) {
          json::value fresh = json::object();
          MergeMap(fresh, item.get_object(), item_meta);
          original.push_back(std::move(fresh));
        }
      }
      merged = std::move(original);
    }
    json::array in_patch, server_only;
    Partition(std::move(merged), patch_order, merge_key, &in_patch, &server_only);
    return NormalizeElementOrder(std::move(in_patch), std::move(server_only), patch_order,
                                 server_order, merge_key, kind);
  }

  // Splits `items` into those present in `by` (by merge key, or by value for primitives)
  // and the rest, keeping their relative order.
  static void Partition(json::array items, const json::array& by, const std::string& merge_key,
                        json::array* present, json::array* absent) {
    for (json::value& item : items) {
      bool found;
      if (merge_key.empty()) {
        found = std::any_of(by.begin(), by.end(),
                            [&item](const json::value& b) { return JsonEqual(item, b); });
      } else {
        if (!item.is_object()) Fail("expected a map, but received " + Show(item));
        const json::value* key = MergeKeyOf(item, merge_key);
        if (key == nullptr) FailNoMergeKey(item.get_object(), merge_key);
        found = false;
        for (std::size_t i = 0; i < by.size() && !found; ++i) {
          if (!by[i].is_object()) Fail("value for key " + std::to_string(i) + " is not a map.");
          const json::value* other = MergeKeyOf(by[i], merge_key);
          found = other != nullptr && JsonEqual(*other, *key);
        }
      }
      (found ? present : absent)->push_back(std::move(item));
    }
  }

  // Position of `item` in `order` (by merge key for objects, by value otherwise), or -1.
  static int64_t IndexIn(const json::array& order, const json::value& item,
                         const std::string& merge_key, JsonType kind) {
    for (std::size_t i = 0; i < order.size(); ++i) {
      const bool same = kind == JsonType::kObject ? SameMergeKey(order[i], item, merge_key)
                                                  : JsonEqual(order[i], item);
      if (same) return static_cast<int64_t>(i);
    }
    return -1;
  }

  static json::array NormalizeSliceOrder(json::array to_sort, const json::array& order,
                                         const std::string& merge_key, JsonType kind) {
    json::array to_delete;
    if (kind == JsonType::kObject) {
      for (const json::array* list : {static_cast<const json::array*>(&to_sort), &order}) {
        for (const json::value& item : *list) {
          if (!item.is_object()) Fail("expected a map, but received " + Show(item));
          if (MergeKeyOf(item, merge_key) == nullptr) FailNoMergeKey(item.get_object(), merge_key);
        }
      }
      json::array keep;
      for (json::value& item : to_sort) {
        (IsDeleteItem(item) ? to_delete : keep).push_back(std::move(item));
      }
      to_sort = std::move(keep);
    }
    // Stable sort by position in `order`; items not in `order` go last.
    std::vector<std::pair<int64_t, std::size_t>> keys;
    keys.reserve(to_sort.size());
    for (std::size_t i = 0; i < to_sort.size(); ++i) {
      int64_t index = IndexIn(order, to_sort[i], merge_key, kind);
      keys.emplace_back(index < 0 ? std::numeric_limits<int64_t>::max() : index, i);
    }
    std::stable_sort(keys.begin(), keys.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json::array sorted;
    sorted.reserve(to_sort.size() + to_delete.size());
    for (const auto& [index, position] : keys) sorted.push_back(std::move(to_sort[position]));
    for (json::value& item : to_delete) sorted.push_back(std::move(item));
    return sorted;
  }

  // Interleaves server-only items (`left`) into patch items (`right`), keeping both relative
  // orders and otherwise following the live order.
  static json::array MergeSortedSlice(json::array left, json::array right,
                                      const json::array& server_order, const std::string& merge_key,
                                      JsonType kind) {
    json::array out;
    out.reserve(left.size() + right.size());
    std::size_t i = 0, j = 0;
    while (i < left.size() || j < right.size()) {
      if (i >= left.size()) {
        out.push_back(std::move(right[j++]));
      } else if (j >= right.size()) {
        out.push_back(std::move(left[i++]));
      } else {
        const int64_t li = IndexIn(server_order, left[i], merge_key, kind);
        const int64_t ri = IndexIn(server_order, right[j], merge_key, kind);
        if (li >= 0 && ri >= 0 && li < ri) {
          out.push_back(std::move(left[i++]));
        } else {
          out.push_back(std::move(right[j++]));
        }
      }
    }
    return out;
  }

  static json::array NormalizeElementOrder(json::array patch_items, json::array server_only,
                                           const json::array& patch_order,
                                           const json::array& server_order,
                                           const std::string& merge_key, JsonType kind) {
    patch_items = NormalizeSliceOrder(std::move(patch_items), patch_order, merge_key, kind);
    server_only = NormalizeSliceOrder(std::move(server_only), server_order, merge_key, kind);
    return MergeSortedSlice(std::move(server_only), std::move(patch_items), server_order, merge_key,
                            kind);
  }

  static void ApplyRetainKeys(json::object& original, const json::object& patch) {
    auto it = patch.find(kRetainKeysDirective);
    if (it == patch.end()) return;
    if (!it->value().is_array()) Fail(kBadRetainKeys);
    std::set<std::string, std::less<>> retained;
    for (const json::value& key : it->value().get_array()) {
      if (key.is_string()) retained.emplace(key.get_string());
    }
    for (const auto& member : patch) {
      const std::string_view key = member.key();
      if (member.value().is_null() || key == kRetainKeysDirective || key == kDirectiveMarker ||
          StartsWithDirective(key, kDeleteFromPrimitiveListPrefix) ||
          StartsWithDirective(key, kSetElementOrderPrefix)) {
        continue;
      }
      if (!retained.contains(key)) Fail(kBadRetainKeys);
    }
    for (auto member = original.begin(); member != original.end();) {
      if (retained.contains(std::string_view(member->key()))) {
        ++member;
      } else {
        member = original.erase(member);
      }
    }
  }

  // The patch list must follow the $setElementOrder list (deletions aside).
  static void ValidatePatchWithSetOrderList(const json::array& patch_list, const json::array& order,
                                            const std::string& merge_key) {
    if (order.empty() || patch_list.empty()) return;
    json::array non_delete;
    for (const json::value& item : patch_list) {
      if (!merge_key.empty()) {
        if (!item.is_object()) Fail("expected a map, but received " + Show(item));
        if (IsDeleteItem(item)) continue;
      }
      non_delete.push_back(item);
    }
    std::size_t p = 0, s = 0;
    while (p < non_delete.size() && s < order.size()) {
      if (IsDirectiveItem(non_delete[p])) {
        ++p;
        continue;
      }
      bool equal;
      if (merge_key.empty()) {
        equal = JsonEqual(non_delete[p], order[s]);
      } else {
        if (!order[s].is_object()) Fail("expected a map, but received " + Show(order[s]));
        if (MergeKeyOf(non_delete[p], merge_key) == nullptr) {
          FailNoMergeKey(non_delete[p].get_object(), merge_key);
        }
        if (MergeKeyOf(order[s], merge_key) == nullptr)
          FailNoMergeKey(order[s].get_object(), merge_key);
        equal = SameMergeKey(non_delete[p], order[s], merge_key);
      }
      if (equal) ++p;
      ++s;
    }
    if (p < non_delete.size() && s >= order.size()) {
      Fail("The order in patch list:\n" + Show(patch_list) + "\n doesn't match " +
           std::string(kSetElementOrderPrefix) + " list:\n" + Show(order) + "\n");
    }
  }

  void ApplySetElementOrder(json::object& original, const json::object& patch,
                            const PatchMeta* meta,
                            std::set<std::string, std::less<>>* ordered_lists) {
    for (const auto& member : patch) {
      const std::string_view key = member.key();
      if (!StartsWithDirective(key, kSetElementOrderPrefix)) continue;
      if (!member.value().is_array()) Fail(kBadSetElementOrder);
      const json::array& order = member.value().get_array();
      const std::string list_key = ExtractKey(key, kSetElementOrderPrefix, kBadSetElementOrder);

      const json::array empty;
      const json::array* original_list = &empty;
      const json::array* patch_list = &empty;
      auto original_it = original.find(list_key);
      const bool found_original = original_it != original.end();
      if (found_original) {
        if (!original_it->value().is_array()) {
          Fail("expected a list at " + list_key + ", but received " + Show(original_it->value()));
        }
        original_list = &original_it->value().get_array();
      }
      auto patch_it = patch.find(list_key);
      const bool found_patch = patch_it != patch.end();
      if (found_patch) {
        if (!patch_it->value().is_array()) {
          Fail("expected a list at " + list_key + ", but received " + Show(patch_it->value()));
        }
        patch_list = &patch_it->value().get_array();
      }
      FieldInfo info = LookupField(meta, list_key);
      ValidatePatchWithSetOrderList(*patch_list, order, info.merge_key);
      if (!found_original && !found_patch) continue;

      const json::array server_order = *original_list;
      json::array merged;
      if (found_patch) {
        merged = MergeSliceHandler(*original_list, *patch_list, info, false);
      } else {
        merged = *original_list;
      }
      ordered_lists->insert(list_key);
      const std::optional<JsonType> kind = SliceElementType(server_order, *patch_list);
      if (!kind) {
        original[list_key] = std::move(merged);
        continue;
      }
      json::array in_order, server_only;
      Partition(std::move(merged), order, info.merge_key, &in_order, &server_only);
      original[list_key] = NormalizeElementOrder(std::move(in_order), std::move(server_only), order,
                                                 server_order, info.merge_key, *kind);
    }
  }
};

// PatchMeta over a JSON description (see PatchMetaFromJson).
class JsonPatchMeta final : public PatchMeta {
 public:
  JsonPatchMeta(std::shared_ptr<const json::value> root, const json::value* node)
      : root_(std::move(root)), node_(node) {}

  // PatchMeta
  std::unique_ptr<PatchMeta> Field(std::string_view name) const override {
    if (const json::value* fields = Member("fields"); fields != nullptr && fields->is_object()) {
      if (auto it = fields->get_object().find(name); it != fields->get_object().end()) {
        return Child(&it->value());
      }
    }
    return Child(Member("values"));
  }
  std::unique_ptr<PatchMeta> Items() const override { return Child(Member("items")); }
  std::string PatchStrategy() const override { return StringMember("strategy"); }
  std::string PatchMergeKey() const override { return StringMember("mergeKey"); }

 private:
  const json::value* Member(std::string_view name) const {
    const json::object* object = node_->if_object();
    if (object == nullptr) return nullptr;
    auto it = object->find(name);
    return it == object->end() ? nullptr : &it->value();
  }
  std::string StringMember(std::string_view name) const {
    const json::value* v = Member(name);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  }
  std::unique_ptr<PatchMeta> Child(const json::value* node) const {
    if (node == nullptr || !node->is_object()) return nullptr;
    return std::make_unique<JsonPatchMeta>(root_, node);
  }

  std::shared_ptr<const json::value> root_;  // keeps `node_` alive
  const json::value* node_;
};

}  // namespace

std::unique_ptr<PatchMeta> PatchMetaFromJson(const json::value& description) {
  auto root = std::make_shared<const json::value>(description);
  const json::value* node = root.get();
  return std::make_unique<JsonPatchMeta>(std::move(root), node);
}

Result<json::value> ApplyStrategicMergePatch(const json::value& original, const json::value& patch,
                                             const PatchMeta* meta) {
  if (!original.is_null() && !original.is_object()) {
    return Err(StatusCode::kBadRequest, "invalid JSON document");
  }
  if (patch.is_null()) return original.is_null() ? json::value(json::object()) : original;
  if (!patch.is_object()) return Err(StatusCode::kBadRequest, "invalid JSON document");
  json::value result = original.is_null() ? json::value(json::object()) : original;
  try {
    Merger().MergeMap(result, patch.get_object(), meta);
  } catch (const PatchFailure& failure) {
    return Err(failure.code, failure.message);
  }
  return result;
}

}  // namespace skiff
