#!/usr/bin/env bash
# Several versions of one resource over one storage: autoscaling/v1 and v2
# HorizontalPodAutoscalers (stored as v2), core v1 and events.k8s.io/v1 Events (stored as
# core v1). Any version reads and writes every object, and nothing is lost on the way.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

MANIFESTS="$(dirname "${BASH_SOURCE[0]}")/manifests"
AGE='[0-9]+(s|m|h|d)([0-9]+s|[0-9]+m)?'
NS=e2e-versions
k create namespace "$NS" >/dev/null
ok "namespace $NS created"

# --- discovery ---------------------------------------------------------------------------
expect_ok "api-resources" k api-resources --no-headers
expect_match "hpa in api-resources (preferred version v2)" "$OUT" \
  '^horizontalpodautoscalers +hpa +autoscaling/v2 +true +HorizontalPodAutoscaler$'
expect_match "events.k8s.io events in api-resources" "$OUT" '^events +ev +events.k8s.io/v1 +true +Event$'
expect_ok "api-versions" k api-versions
expect_contains "autoscaling/v1 served" "$OUT" "autoscaling/v1"
expect_contains "autoscaling/v2 served" "$OUT" "autoscaling/v2"
expect_ok "autoscaling/v1 discovery" k get --raw /apis/autoscaling/v1
expect_eq "v1 lists horizontalpodautoscalers" "horizontalpodautoscalers,horizontalpodautoscalers/status" \
  "$(jq -r '[.resources[].name] | join(",")' <<<"$OUT")"
v1_hash=$(jq -r '.resources[0].storageVersionHash' <<<"$OUT")
expect_ok "autoscaling group" k get --raw /apis/autoscaling
expect_eq "preferred version is v2" "autoscaling/v2" "$(jq -r .preferredVersion.groupVersion <<<"$OUT")"
expect_ok "autoscaling/v2 discovery" k get --raw /apis/autoscaling/v2
expect_eq "both versions report the storage version's hash" "$v1_hash" \
  "$(jq -r '.resources[0].storageVersionHash' <<<"$OUT")"

# --- the manifests -----------------------------------------------------------------------
for dir in horizontalpodautoscaler event-events.k8s.io; do
  for f in "$MANIFESTS/$dir"/valid-*.yaml; do
    expect_ok "$dir: $(basename "$f") applies" k apply --validate=strict -n "$NS" -f "$f"
  done
  for f in "$MANIFESTS/$dir"/invalid-*.yaml; do
    want=$(sed -n 's/^# expect: //p' "$f")
    expect_fail_contains "$dir: $(basename "$f") is rejected" "$want" \
      k apply --validate=strict -n "$NS" -f "$f"
  done
done

# --- kubectl get / explain / get all -------------------------------------------------------
expect_ok "get hpa" k get hpa -n "$NS"
expect_eq "hpa header" "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE" "$(header "$OUT")"
expect_match "php-apache row" "$OUT" "^php-apache +Deployment/php-apache +cpu: <unknown>/50% +1 +10 +0 +$AGE\$"
expect_match "multi row" "$OUT" "^multi +Deployment/php-apache +cpu: <unknown>/50%, <unknown>/1k \\+ 1 more\\.\\.\\. +1 +10 +0 +$AGE\$"
expect_match "the v1 object is listed through v2" "$OUT" "^php-apache-v1 +Deployment/php-apache +cpu: <unknown>/50% +1 +10 +0 +$AGE\$"
expect_ok "get horizontalpodautoscalers.v1.autoscaling" k get horizontalpodautoscalers.v1.autoscaling -n "$NS"
expect_eq "same columns through v1" "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE" "$(header "$OUT")"
expect_ok "get all" k get all -n "$NS"
expect_contains "get all shows the hpas" "$OUT" "horizontalpodautoscaler.autoscaling/multi"
expect_ok "explain hpa.spec.metrics.resource.target" k explain hpa.spec.metrics.resource.target
expect_contains "explain shows averageUtilization" "$OUT" "averageUtilization"
expect_ok "explain the v1 form" k explain hpa.spec --api-version=autoscaling/v1
expect_contains "v1 has targetCPUUtilizationPercentage" "$OUT" "targetCPUUtilizationPercentage"

# --- stored as v2 and defaulted ------------------------------------------------------------
expect_ok "get the v1-created hpa through v2" k get horizontalpodautoscalers.v2.autoscaling php-apache-v1 -n "$NS" -o json
expect_eq "its CPU target is a v2 metric" \
  '[{"resource":{"name":"cpu","target":{"averageUtilization":50,"type":"Utilization"}},"type":"Resource"}]' \
  "$(jq -cS .spec.metrics <<<"$OUT")"
expect_ok "get multi through v2" k get hpa multi -n "$NS" -o json
multi_v2=$OUT
expect_eq "behavior defaults complete scaleUp" \
  '{"policies":[{"periodSeconds":15,"type":"Pods","value":4},{"periodSeconds":15,"type":"Percent","value":100}],"selectPolicy":"Max","stabilizationWindowSeconds":0}' \
  "$(jq -cS .spec.behavior.scaleUp <<<"$multi_v2")"
expect_eq "behavior defaults keep scaleDown's own values" \
  '{"policies":[{"periodSeconds":60,"type":"Percent","value":10}],"selectPolicy":"Max","stabilizationWindowSeconds":300}' \
  "$(jq -cS .spec.behavior.scaleDown <<<"$multi_v2")"

# --- the round trip through v1 ------------------------------------------------------------
expect_ok "get multi through v1" k get horizontalpodautoscalers.v1.autoscaling multi -n "$NS" -o json
multi_v1=$OUT
expect_eq "v1 apiVersion" "autoscaling/v1" "$(jq -r .apiVersion <<<"$multi_v1")"
expect_eq "v1 CPU target" "50" "$(jq -r .spec.targetCPUUtilizationPercentage <<<"$multi_v1")"
expect_eq "v1 has no metrics field" "null" "$(jq -r .spec.metrics <<<"$multi_v1")"
# The CPU target comes first, so it stays in the annotation too: that keeps the order.
expect_eq "the metrics travel in the annotation" '["Resource","Pods","Object"]' \
  "$(jq -c '.metadata.annotations["autoscaling.alpha.kubernetes.io/metrics"] | fromjson | map(.type)' <<<"$multi_v1")"
expect_contains "the behavior travels in an annotation" \
  "$(jq -r '.metadata.annotations["autoscaling.alpha.kubernetes.io/behavior"]' <<<"$multi_v1")" '"StabilizationWindowSeconds":300'
jq '.spec.maxReplicas = 12' <<<"$multi_v1" >"$E2E_TMP/multi-v1.json"
expect_ok "replace through v1" k replace -f "$E2E_TMP/multi-v1.json"
expect_ok "read back through v2" k get horizontalpodautoscalers.v2.autoscaling multi -n "$NS" -o json
after=$OUT
expect_eq "the v1 change arrived" "12" "$(jq -r .spec.maxReplicas <<<"$after")"
expect_eq "all metrics kept, in order" "$(jq -cS .spec.metrics <<<"$multi_v2")" "$(jq -cS .spec.metrics <<<"$after")"
expect_eq "behavior kept" "$(jq -cS .spec.behavior <<<"$multi_v2")" "$(jq -cS .spec.behavior <<<"$after")"
expect_eq "no round-trip annotations stored" "[]" \
  "$(jq -c '[.metadata.annotations // {} | keys[] | select(startswith("autoscaling.alpha"))]' <<<"$after")"

# Patches apply to the version of the URL.
expect_ok "merge patch through v1" \
  k patch horizontalpodautoscalers.v1.autoscaling multi -n "$NS" --type=merge -p '{"spec":{"targetCPUUtilizationPercentage":70}}'
expect_eq "the patch response is v1" "autoscaling/v1" "$(k get horizontalpodautoscalers.v1.autoscaling multi -n "$NS" -o jsonpath='{.apiVersion}')"
expect_ok "read back through v2" k get hpa multi -n "$NS" -o json
expect_eq "CPU target changed in place, other metrics kept" \
  '[{"Resource":70},{"Pods":"1k"},{"Object":"10k"}]' \
  "$(jq -c '[.spec.metrics[] | {(.type): (.resource.target.averageUtilization // .pods.target.averageValue // .object.target.value)}]' <<<"$OUT")"
expect_ok "strategic merge patch through v1" \
  k patch horizontalpodautoscalers.v1.autoscaling multi -n "$NS" -p '{"spec":{"minReplicas":2}}'
expect_eq "minReplicas through v2" "2" "$(k get hpa multi -n "$NS" -o jsonpath='{.spec.minReplicas}')"
expect_eq "three metrics still" "3" "$(k get hpa multi -n "$NS" -o json | jq '.spec.metrics | length')"

# Lists and watches convert every object.
expect_ok "list through v1" k get --raw "/apis/autoscaling/v1/namespaces/$NS/horizontalpodautoscalers"
expect_eq "list kind and version" "HorizontalPodAutoscalerList autoscaling/v1" "$(jq -r '.kind + " " + .apiVersion' <<<"$OUT")"
expect_eq "every item in v1" '["autoscaling/v1"]' "$(jq -c '[.items[].apiVersion] | unique' <<<"$OUT")"
expect_ok "watch through v1" k get --raw "/apis/autoscaling/v1/namespaces/$NS/horizontalpodautoscalers?watch=true&timeoutSeconds=1"
expect_eq "watch events in v1" '["autoscaling/v1"]' "$(jq -sc '[.[].object.apiVersion] | unique' <<<"$OUT")"

expect_ok "delete through v1" k delete horizontalpodautoscalers.v1.autoscaling php-apache-v1 -n "$NS"
expect_fail_contains "gone through v2" 'horizontalpodautoscalers.autoscaling "php-apache-v1" not found' \
  k get horizontalpodautoscalers.v2.autoscaling php-apache-v1 -n "$NS"

# --- events: core v1 and events.k8s.io/v1 -------------------------------------------------
cat >"$E2E_TMP/core-event.yaml" <<EOF
apiVersion: v1
kind: Event
metadata:
  name: pod-pulled
  namespace: $NS
involvedObject:
  apiVersion: v1
  kind: Pod
  name: web
  namespace: $NS
reason: Pulled
message: Successfully pulled image
source:
  component: kubelet
  host: node-1
count: 2
type: Normal
firstTimestamp: "2024-05-01T12:00:00Z"
lastTimestamp: "2024-05-01T12:01:00Z"
EOF
expect_ok "create a core v1 event" k create -f "$E2E_TMP/core-event.yaml"
expect_ok "read it through events.k8s.io/v1" k get events.v1.events.k8s.io pod-pulled -n "$NS" -o json
ev=$OUT
expect_eq "apiVersion" "events.k8s.io/v1" "$(jq -r .apiVersion <<<"$ev")"
expect_eq "message is the note" "Successfully pulled image" "$(jq -r .note <<<"$ev")"
expect_eq "involvedObject is regarding" "Pod/web" "$(jq -r '.regarding.kind + "/" + .regarding.name' <<<"$ev")"
expect_eq "source is deprecatedSource" "kubelet" "$(jq -r .deprecatedSource.component <<<"$ev")"
expect_eq "count is deprecatedCount" "2" "$(jq -r .deprecatedCount <<<"$ev")"
expect_ok "read the events.k8s.io event through core v1" k get events web-scaled -n "$NS" -o json
expect_eq "core apiVersion" "v1" "$(jq -r .apiVersion <<<"$OUT")"
expect_eq "note is the message" "Scaled up replica set web-1 to 3" "$(jq -r .message <<<"$OUT")"
expect_eq "reportingController is reportingComponent" "example.com/scaler" "$(jq -r .reportingComponent <<<"$OUT")"
expect_ok "get events.v1.events.k8s.io" k get events.v1.events.k8s.io -n "$NS"
expect_match "both events listed" "$OUT" "Scaled up replica set web-1 to 3"
expect_match "both events listed (core one)" "$OUT" "Successfully pulled image"
expect_ok "list through events.k8s.io" k get --raw "/apis/events.k8s.io/v1/namespaces/$NS/events"
expect_eq "two events, both in events.k8s.io/v1" '["events.k8s.io/v1"] 2' \
  "$(jq -c '[.items[].apiVersion] | unique' <<<"$OUT") $(jq '.items | length' <<<"$OUT")"
expect_ok "delete through events.k8s.io" k delete events.v1.events.k8s.io pod-pulled -n "$NS"
expect_fail_contains "gone from core" 'events "pod-pulled" not found' k get events pod-pulled -n "$NS"

# --- a restart keeps every version serving --------------------------------------------------
restart_server
expect_ok "v1 read after restart" k get horizontalpodautoscalers.v1.autoscaling multi -n "$NS" -o jsonpath='{.spec.targetCPUUtilizationPercentage}'
expect_eq "CPU target after restart" "70" "$OUT"

