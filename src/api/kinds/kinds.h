// The built-in kinds' strategies, one accessor per kind (defined in <kind>_strategy.cpp).
// StrategyFor (kind_strategy.cpp) is the one registry that lists them all.
// Thread safety: each accessor returns a stateless singleton, safe to share.
#pragma once

#include "api/kind_strategy.h"

namespace skiff::api::kinds {

const KindStrategy& ConfigMapStrategy();
const KindStrategy& CustomResourceDefinitionStrategy();
const KindStrategy& DeploymentStrategy();
const KindStrategy& EndpointsStrategy();
const KindStrategy& EventStrategy();
const KindStrategy& HorizontalPodAutoscalerStrategy();
const KindStrategy& LeaseStrategy();
const KindStrategy& LimitRangeStrategy();
const KindStrategy& NamespaceStrategy();
const KindStrategy& NodeStrategy();
const KindStrategy& PodStrategy();
const KindStrategy& ReplicaSetStrategy();
const KindStrategy& ResourceQuotaStrategy();
const KindStrategy& SecretStrategy();
const KindStrategy& ServiceAccountStrategy();
const KindStrategy& ServiceStrategy();
const KindStrategy& PersistentVolumeStrategy();
const KindStrategy& PersistentVolumeClaimStrategy();
const KindStrategy& PodTemplateStrategy();
const KindStrategy& ReplicationControllerStrategy();
const KindStrategy& DaemonSetStrategy();
const KindStrategy& StatefulSetStrategy();
const KindStrategy& ControllerRevisionStrategy();
const KindStrategy& JobStrategy();
const KindStrategy& CronJobStrategy();
const KindStrategy& PodDisruptionBudgetStrategy();
const KindStrategy& PriorityClassStrategy();
const KindStrategy& IngressStrategy();
const KindStrategy& IngressClassStrategy();
const KindStrategy& NetworkPolicyStrategy();
const KindStrategy& EndpointSliceStrategy();
const KindStrategy& RoleStrategy();
const KindStrategy& ClusterRoleStrategy();
const KindStrategy& RoleBindingStrategy();
const KindStrategy& ClusterRoleBindingStrategy();
const KindStrategy& StorageClassStrategy();
const KindStrategy& FlowSchemaStrategy();
const KindStrategy& PriorityLevelConfigurationStrategy();
const KindStrategy& ValidatingWebhookConfigurationStrategy();
const KindStrategy& MutatingWebhookConfigurationStrategy();

// Column definitions every kind reuses.
TableColumn NameColumn();
TableColumn AgeColumn();

}  // namespace skiff::api::kinds
