// SchemaPatchMeta: strategic-merge-patch metadata (patch strategies, merge keys) read
// from a kind's schema, so every kind patches the way its schema says.
// Thread safety: immutable; the schema must outlive it.
#pragma once

#include <memory>
#include <string>

#include "api/schema.h"
#include "base/strategic_merge_patch.h"

namespace skiff {

class SchemaPatchMeta final : public PatchMeta {
 public:
  // `schema` may be null: every field is then unknown (lists are replaced).
  explicit SchemaPatchMeta(const api::Schema* schema, const api::Property* property = nullptr)
      : schema_(schema), property_(property) {}

  // PatchMeta
  std::unique_ptr<PatchMeta> Field(std::string_view name) const override;
  std::unique_ptr<PatchMeta> Items() const override;
  std::string PatchStrategy() const override;
  std::string PatchMergeKey() const override;

 private:
  const api::Schema* schema_;
  const api::Property* property_;
};

}  // namespace skiff
