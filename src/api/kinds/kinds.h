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

// Column definitions every kind reuses.
TableColumn NameColumn();
TableColumn AgeColumn();

}  // namespace skiff::api::kinds
