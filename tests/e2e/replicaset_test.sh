#!/usr/bin/env bash
# The ReplicaSet controller in `skiff server`: pods named <rs>-<5 characters> owned by
# their ReplicaSet, scaling both ways, replacement of deleted pods, adoption of orphans,
# status and events, as `kubectl get` and `kubectl describe` show them.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

NS=e2e-rs
k create namespace "$NS" >/dev/null
cat >"$E2E_TMP/rs.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels: {tier: frontend}
spec:
  replicas: 3
  selector:
    matchLabels: {tier: frontend}
  template:
    metadata:
      labels: {tier: frontend}
    spec:
      containers:
      - name: php-redis
        image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
YAML
expect_ok "create the ReplicaSet of the Kubernetes documentation" k apply -f "$E2E_TMP/rs.yaml" -n "$NS"

pods_count() { # pods_count N: exactly N active pods with tier=frontend
  local n
  n=$("$KUBECTL" get pods -n "$NS" -l tier=frontend -o json |
    jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length')
  [[ "$n" == "$1" ]]
}
wait_for "three pods appear" 20 pods_count 3
expect_ok "get pods" k get pods -n "$NS" -l tier=frontend -o name
expect_eq "every pod is named frontend-<5 characters>" "3" "$(grep -cE '^pod/frontend-[a-z0-9]{5}$' <<<"$OUT")"
pod=$(head -n 1 <<<"$OUT" | sed 's|^pod/||')
expect_ok "describe a pod" k describe pod "$pod" -n "$NS"
expect_match "describe: Controlled By" "$OUT" '^Controlled By: +ReplicaSet/frontend$'
owner=$(k get pod "$pod" -n "$NS" -o json | jq -c '.metadata.ownerReferences[0] | {apiVersion,kind,name,controller,blockOwnerDeletion}')
expect_eq "the owner reference" '{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"frontend","controller":true,"blockOwnerDeletion":true}' "$owner"

rs_status() { [[ "$("$KUBECTL" get rs frontend -n "$NS" -o jsonpath='{.status.replicas}/{.status.observedGeneration}')" == "$1" ]]; }
wait_for "status.replicas is 3" 20 rs_status "3/1"
expect_ok "kubectl get rs" k get rs frontend -n "$NS"
expect_eq "get rs columns" "NAME DESIRED CURRENT READY AGE" "$(header "$OUT")"
expect_match "get rs row" "$(row frontend "$OUT")" '^frontend 3 3 0 [0-9]+s$'

expect_ok "scale to 5" k scale rs frontend -n "$NS" --replicas=5
wait_for "five pods" 20 pods_count 5
expect_ok "scale to 1" k scale rs frontend -n "$NS" --replicas=1
wait_for "one pod" 20 pods_count 1
wait_for "status follows the scale" 20 rs_status "1/3"

last=$(k get pods -n "$NS" -l tier=frontend -o jsonpath='{.items[0].metadata.name}')
expect_ok "delete the last pod" k delete pod "$last" -n "$NS" --wait=false
replaced() {
  local names
  names=$("$KUBECTL" get pods -n "$NS" -l tier=frontend -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name')
  [[ -n "$names" && "$names" != "$last" && $(wc -l <<<"$names") == 1 ]]
}
wait_for "a new pod replaces it" 20 replaced

cat >"$E2E_TMP/orphan.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: orphan
  labels: {tier: frontend}
spec:
  containers: [{name: c, image: busybox}]
YAML
expect_ok "scale to 2" k scale rs frontend -n "$NS" --replicas=2
wait_for "two pods" 20 pods_count 2
expect_ok "scale to 3, then add a matching orphan" k scale rs frontend -n "$NS" --replicas=3
k create -f "$E2E_TMP/orphan.yaml" -n "$NS" >/dev/null 2>&1 || true
wait_for "three pods, whether or not the orphan came first" 20 pods_count 3
adopted() { [[ "$("$KUBECTL" get pod orphan -n "$NS" -o jsonpath='{.metadata.ownerReferences[0].name}' 2>/dev/null)" == frontend ]] || ! "$KUBECTL" get pod orphan -n "$NS" >/dev/null 2>&1; }
wait_for "the orphan is adopted (or was not needed)" 20 adopted

expect_ok "describe rs" k describe rs frontend -n "$NS"
expect_match "describe: replicas" "$OUT" '^Replicas: +3 current / 3 desired$'
expect_match "describe: SuccessfulCreate events" "$OUT" 'SuccessfulCreate +.*Created pod: frontend-[a-z0-9]{5}'
expect_match "describe: SuccessfulDelete events" "$OUT" 'SuccessfulDelete +.*Deleted pod: '

# The server restarts with its controllers: the ReplicaSet is kept at its size.
restart_server
expect_ok "delete a pod after the restart" k delete pod -n "$NS" "$(k get pods -n "$NS" -l tier=frontend -o jsonpath='{.items[0].metadata.name}')" --wait=false
wait_for "the restarted controllers restore three pods" 30 pods_count 3

echo "PASS replicaset"
