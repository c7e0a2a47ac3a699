// Rules shared by the workloads that own pods through a template and a label selector
// (Deployment, ReplicaSet, ReplicationController, DaemonSet, StatefulSet, Job).
// Thread safety: free functions over caller-owned values.
#pragma once

#include <cstdint>
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

// labels.FormatLabels: "k1=v1,k2=v2" sorted by key, "<none>" for an empty or absent map.
std::string LabelsCell(const boost::json::object* labels);

// The selector of the pods a workload template produces must match the template's labels:
// "`selector` does not match template `labels`" at `<template_path>.metadata.labels`.
void ValidateSelectorMatchesTemplate(const boost::json::object* selector,
                                     const boost::json::object& tmpl,
                                     const std::string& template_path, FieldErrors& errs);

// An intstr that must be a non-negative integer or a percent string ("25%"), as
// apps validation's ValidatePositiveIntOrPercent; with `at_most_100_percent`, a
// percentage above 100% is refused too (IsNotMoreThan100Percent).
void ValidateIntOrPercent(const boost::json::value* v, const std::string& path,
                          bool at_most_100_percent, FieldErrors& errs);

// intstr's IntValue for ints and percents ("25%" -> 25); other strings count as 0.
int64_t IntOrPercentNumber(const boost::json::value* v);

// The value rendered as Go prints an intstr.IntOrString in a table cell: "1", "25%".
std::string IntOrStringCell(const boost::json::value* v);

}  // namespace skiff::api::kinds
