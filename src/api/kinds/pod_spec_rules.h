// What Kubernetes does in code for a PodSpec, shared by Pod and by the pod templates
// of Deployment and ReplicaSet: conditional defaults, validation with Kubernetes'
// field paths and messages, the QoS class, and the CONTAINERS/IMAGES cells.
// Thread safety: free functions over caller-owned values.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "api/kinds/strategy_support.h"

namespace skiff::api::kinds {

// Where a PodSpec lives: some defaults apply to pods only (requests from limits,
// enableServiceLinks, host ports under hostNetwork), not to templates.
enum class PodSpecOwner { kPod, kTemplate };

// Fills the defaults Kubernetes sets in code (SetDefaults_PodSpec, _Container, _Volume,
// _Probe, ...) where a field is absent. Never overwrites a value that is present.
void ApplyPodSpecDefaults(boost::json::object& spec, PodSpecOwner owner);

// Validates a PodSpec found at `path` ("spec" or "spec.template.spec").
void ValidatePodSpec(const boost::json::object& spec, const std::string& path, FieldErrors& errs);

// Validates tolerations at `path` (key, operator, value, effect rules).
void ValidateTolerations(const boost::json::array& tolerations, const std::string& path,
                         FieldErrors& errs);

// Validates a PodTemplateSpec at `path` ("spec.template"): labels, annotations, spec.
void ValidatePodTemplate(const boost::json::object& tmpl, const std::string& path,
                         FieldErrors& errs);

// "Guaranteed", "Burstable" or "BestEffort", computed from cpu and memory as
// Kubernetes' qos.ComputePodQOS does.
std::string PodQosClass(const boost::json::object& spec);

// The CONTAINERS and IMAGES cells of workload tables: comma-joined names / images.
std::string ContainerNamesCell(const boost::json::object* spec);
std::string ContainerImagesCell(const boost::json::object* spec);

// imagePullPolicy default for an image reference: "Always" for a :latest or missing
// tag without a digest, else "IfNotPresent".
std::string DefaultPullPolicy(std::string_view image);

}  // namespace skiff::api::kinds
