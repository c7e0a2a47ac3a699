#include "api/kind_strategy.h"

#include <boost/json.hpp>

#include "api/kinds/kinds.h"
#include "api/kinds/strategy_support.h"

namespace skiff::api {

namespace json = boost::json;

// ---------------------------------------------------------------------------
// Generic behaviour: what a kind without special needs gets.

void KindStrategy::ApplyDefaults(json::object& /*obj*/) const {}

void KindStrategy::PrepareForCreate(json::object& /*obj*/) const {}

void KindStrategy::PrepareForUpdate(json::object& /*obj*/, const json::object& /*old*/) const {}

void KindStrategy::Validate(const json::object& /*obj*/, const json::object* /*old*/,
                            std::vector<StatusCause>& /*errors*/) const {}

std::optional<std::string> KindStrategy::FieldValue(const json::object& /*obj*/,
                                                    std::string_view /*field*/) const {
  return std::nullopt;
}

// Kubernetes' default table (rest.NewDefaultTableConvertor): the name and the creation
// timestamp as it is, which kubectl prints under CREATED AT.
std::vector<TableColumn> KindStrategy::Columns() const {
  return {kinds::NameColumn(),
          {"Created At", "date", "",
           "CreationTimestamp is a timestamp representing the server time when this object was "
           "created.",
           0}};
}

void KindStrategy::Row(const json::object& obj, const StrategyContext& /*ctx*/,
                       json::array& cells) const {
  cells.emplace_back(kinds::FindStr(obj, {"metadata", "name"}));
  cells.emplace_back(kinds::FindStr(obj, {"metadata", "creationTimestamp"}));
}

std::string AgeCell(const json::object& obj, const StrategyContext& ctx) {
  return kinds::TimestampSince(kinds::FindStr(obj, {"metadata", "creationTimestamp"}), ctx.now);
}

// ---------------------------------------------------------------------------
// The registry: every built-in kind with behaviour of its own, listed once.

const KindStrategy* StrategyFor(std::string_view group, std::string_view kind) {
  static const KindStrategy kGeneric{};
  struct Entry {
    std::string_view group;
    std::string_view kind;
    const KindStrategy& (*strategy)();
  };
  static const Entry kEntries[] = {
      {"", "ConfigMap", &kinds::ConfigMapStrategy},
      {"", "Endpoints", &kinds::EndpointsStrategy},
      {"", "Event", &kinds::EventStrategy},
      {"", "LimitRange", &kinds::LimitRangeStrategy},
      {"", "Namespace", &kinds::NamespaceStrategy},
      {"", "Node", &kinds::NodeStrategy},
      {"", "Pod", &kinds::PodStrategy},
      {"", "ResourceQuota", &kinds::ResourceQuotaStrategy},
      {"", "Secret", &kinds::SecretStrategy},
      {"", "Service", &kinds::ServiceStrategy},
      {"", "ServiceAccount", &kinds::ServiceAccountStrategy},
      {"apps", "Deployment", &kinds::DeploymentStrategy},
      {"apps", "ReplicaSet", &kinds::ReplicaSetStrategy},
      {"coordination.k8s.io", "Lease", &kinds::LeaseStrategy},
      {"", "PersistentVolume", &kinds::PersistentVolumeStrategy},
      {"", "PersistentVolumeClaim", &kinds::PersistentVolumeClaimStrategy},
      {"", "PodTemplate", &kinds::PodTemplateStrategy},
      {"", "ReplicationController", &kinds::ReplicationControllerStrategy},
      {"apps", "DaemonSet", &kinds::DaemonSetStrategy},
      {"apps", "StatefulSet", &kinds::StatefulSetStrategy},
      {"apps", "ControllerRevision", &kinds::ControllerRevisionStrategy},
      {"batch", "Job", &kinds::JobStrategy},
      {"batch", "CronJob", &kinds::CronJobStrategy},
      {"policy", "PodDisruptionBudget", &kinds::PodDisruptionBudgetStrategy},
      {"scheduling.k8s.io", "PriorityClass", &kinds::PriorityClassStrategy},
      {"networking.k8s.io", "Ingress", &kinds::IngressStrategy},
      {"networking.k8s.io", "IngressClass", &kinds::IngressClassStrategy},
      {"networking.k8s.io", "NetworkPolicy", &kinds::NetworkPolicyStrategy},
      {"discovery.k8s.io", "EndpointSlice", &kinds::EndpointSliceStrategy},
      {"rbac.authorization.k8s.io", "Role", &kinds::RoleStrategy},
      {"rbac.authorization.k8s.io", "ClusterRole", &kinds::ClusterRoleStrategy},
      {"rbac.authorization.k8s.io", "RoleBinding", &kinds::RoleBindingStrategy},
      {"rbac.authorization.k8s.io", "ClusterRoleBinding", &kinds::ClusterRoleBindingStrategy},
      {"storage.k8s.io", "StorageClass", &kinds::StorageClassStrategy},
      {"flowcontrol.apiserver.k8s.io", "FlowSchema", &kinds::FlowSchemaStrategy},
      {"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration",
       &kinds::PriorityLevelConfigurationStrategy},
      {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration",
       &kinds::ValidatingWebhookConfigurationStrategy},
      {"admissionregistration.k8s.io", "MutatingWebhookConfiguration",
       &kinds::MutatingWebhookConfigurationStrategy},
      {"autoscaling", "HorizontalPodAutoscaler", &kinds::HorizontalPodAutoscalerStrategy},
      {"apiextensions.k8s.io", "CustomResourceDefinition",
       &kinds::CustomResourceDefinitionStrategy},
  };
  for (const Entry& e : kEntries) {
    if (e.group == group && e.kind == kind) return &e.strategy();
  }
  return &kGeneric;
}

namespace kinds {

TableColumn NameColumn() {
  return TableColumn{
      "Name", "string", "name",
      "Name must be unique within a namespace. Is required when creating resources, although "
      "some resources may allow a client to request the generation of an appropriate name "
      "automatically. Name is primarily intended for creation idempotence and configuration "
      "definition. Cannot be updated. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
      0};
}

TableColumn AgeColumn() {
  return TableColumn{
      "Age", "string", "",
      "CreationTimestamp is a timestamp representing the server time when this object was "
      "created. It is not guaranteed to be set in happens-before order across separate "
      "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
      "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
      "https://git.k8s.io/community/contributors/devel/sig-architecture/"
      "api-conventions.md#metadata",
      0};
}

}  // namespace kinds

}  // namespace skiff::api
