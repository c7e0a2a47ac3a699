#include "apiserver/schema_patch_meta.h"

namespace skiff {

std::unique_ptr<PatchMeta> SchemaPatchMeta::Field(std::string_view name) const {
  if (!schema_) return nullptr;
  if (schema_->type == api::SchemaType::kMap) {
    return std::make_unique<SchemaPatchMeta>(schema_->items);
  }
  if (schema_->type != api::SchemaType::kObject) return nullptr;
  const api::Property* p = schema_->FindProperty(name);
  if (!p) return nullptr;
  return std::make_unique<SchemaPatchMeta>(p->schema, p);
}

std::unique_ptr<PatchMeta> SchemaPatchMeta::Items() const {
  if (!schema_ || schema_->type != api::SchemaType::kArray) return nullptr;
  return std::make_unique<SchemaPatchMeta>(schema_->items);
}

std::string SchemaPatchMeta::PatchStrategy() const {
  if (schema_ && !schema_->patch_strategy.empty()) return schema_->patch_strategy;
  if (property_) return property_->patch_strategy;
  return {};
}

std::string SchemaPatchMeta::PatchMergeKey() const {
  return schema_ ? schema_->patch_merge_key : std::string();
}

}  // namespace skiff
