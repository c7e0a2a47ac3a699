// Rules shared by the apps workloads that own pods through a template and a label
// selector (Deployment, ReplicaSet).
// Thread safety: free functions over caller-owned values.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

// spec.selector (required, valid, non-empty) and spec.template (labels matched by the
// selector, a valid pod template whose restartPolicy is Always, no activeDeadlineSeconds).
void ValidateSelectorAndTemplate(const boost::json::object& spec, FieldErrors& errs);

// apps/v1 forbids changing spec.selector once created.
void ValidateImmutableSelector(const boost::json::object& spec, const boost::json::object& old_spec,
                               FieldErrors& errs);

// spec.replicas defaults to 1; the template's PodSpec gets its code defaults.
void ApplyWorkloadDefaults(boost::json::object& spec);

// metadata.generation: 1 on create, +1 on an update that changes the spec (or, when
// `count_annotations`, the annotations).
void SetInitialGeneration(boost::json::object& obj);
void BumpGenerationOnChange(boost::json::object& obj, const boost::json::object& old,
                            bool count_annotations);

// Validates that `field` of `spec`, when present, is >= 0.
void ValidateNonNegativeField(const boost::json::object& spec, std::string_view field,
                              FieldErrors& errs);

}  // namespace skiff::api::kinds
