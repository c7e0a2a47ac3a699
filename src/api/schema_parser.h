// The reader of schema files (docs/schema-format.md): text in, unlinked schema nodes out.
//
// Internal to api/: SchemaRegistry::AddFile is its only caller. The parser checks
// everything that can be checked within one file; what needs other files (type
// references, list-map keys, defaults against referenced types) is left for
// SchemaRegistry::Resolve as UnresolvedRef / DeferredCheck entries.
// Thread safety: ParseSchemaFile is a pure function; calls may run concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/schema.h"
#include "base/status.h"

namespace skiff::api {

// A reference to a named type, to be written into its slot once the target is known.
struct UnresolvedRef {
  // Exactly one slot: a property of `node`, the `items` of `node` (property < 0),
  // or, when `node` is null, the schema of resource number `resource` of the file.
  Schema* node = nullptr;
  int property = -1;
  int resource = -1;
  std::string spelled;                  // as written in the file, e.g. "meta.ObjectMeta"
  std::vector<std::string> candidates;  // fully qualified names to try, in order
  std::string location;                 // "core_v1.schema:12"
};

// A check that can only run once references are resolved.
struct DeferredCheck {
  enum class What {
    kProperty,  // default_json and patch_strategy of node->properties[property]
    kListKeys,  // list_map_keys and patch_merge_key of array `node` exist in its items
    kResource,  // resource number `resource`: its type is a kind matching the declaration
  };
  What what = What::kProperty;
  Schema* node = nullptr;
  int property = -1;
  int resource = -1;
  std::string location;
};

// The result of parsing one file: nodes owned here until the registry adopts them.
struct ParsedSchemaFile {
  std::vector<std::unique_ptr<Schema>> nodes;   // every node, named or anonymous
  std::vector<Schema*> named;                   // named types, in declaration order
  std::vector<std::string> named_locations;     // "file:line" of each named type
  std::vector<ResourceDecl> resources;          // `schema` left null, see refs
  std::vector<std::string> resource_locations;  // "file:line" of each resource line
  std::vector<UnresolvedRef> refs;
  std::vector<DeferredCheck> checks;
};

// Parses `text` as the schema file `file_name` (used in messages only).
// Errors: kInvalid, the message starting with "file:line: " and saying what is wrong.
// Never throws and never reads past `text`, whatever its content.
Result<ParsedSchemaFile> ParseSchemaFile(std::string_view file_name, std::string_view text);

}  // namespace skiff::api
