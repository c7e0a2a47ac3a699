#!/usr/bin/env bash
# Finalizers hold deleted objects until removed; deleting a namespace empties it, then
# removes it.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

NS=e2e-fin
k create namespace "$NS" >/dev/null
ok "namespace $NS created"

held_cm() { # held_cm NAME NAMESPACE
  cat <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  namespace: $2
  finalizers: [example.com/hold]
data: {k: v}
EOF
}

gone() { # gone KIND NAME [NAMESPACE]: true when the object no longer exists
  local out
  if out=$("$KUBECTL" get "$1" "$2" ${3:+-n "$3"} 2>&1); then return 1; fi
  [[ "$out" == *"not found"* ]]
}

# --- a finalizer holds a deleted object ------------------------------------------------------------
held_cm held "$NS" >"$E2E_TMP/held.yaml"
expect_ok "create a configmap with a finalizer" k create -f "$E2E_TMP/held.yaml"
rv0=$(k get cm held -n "$NS" -o jsonpath='{.metadata.resourceVersion}')
expect_ok "delete --wait=false" k delete configmap held -n "$NS" --wait=false
expect_match "delete reports the deletion" "$OUT" "^configmap \"held\" deleted( from $NS namespace)?\$"
expect_ok "the object is still there" k get cm held -n "$NS" -o json
obj=$OUT
expect_match "deletionTimestamp is set" "$(jq -r '.metadata.deletionTimestamp // ""' <<<"$obj")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
expect_eq "deletionGracePeriodSeconds is 0" "0" "$(jq -r '.metadata.deletionGracePeriodSeconds' <<<"$obj")"
expect_eq "the finalizer is still listed" '["example.com/hold"]' "$(jq -c .metadata.finalizers <<<"$obj")"
rv1=$(jq -r .metadata.resourceVersion <<<"$obj")
((rv1 > rv0)) || fail "marking for deletion is a write (resourceVersion grows)" "before=$rv0 after=$rv1"
ok "marking for deletion is a write (resourceVersion $rv0 -> $rv1)"

expect_ok "a second delete is accepted" k delete configmap held -n "$NS" --wait=false
expect_eq "a second delete keeps the first deletionTimestamp" "$(jq -r .metadata.deletionTimestamp <<<"$obj")" \
  "$(k get cm held -n "$NS" -o jsonpath='{.metadata.deletionTimestamp}')"
expect_fail_contains "no new finalizer on an object being deleted" \
  'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted' \
  k patch configmap held -n "$NS" --type=json -p '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]'
expect_ok "other fields can still change while it is held" k label configmap held -n "$NS" still=here
expect_eq "the label was written" "here" "$(k get cm held -n "$NS" -o jsonpath='{.metadata.labels.still}')"

expect_ok "remove the finalizer" k patch configmap held -n "$NS" --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
wait_for "the configmap disappears once its finalizer is gone" 20 gone configmap held "$NS"

# delete --wait gives up on a held object after --timeout
held_cm held2 "$NS" | k create -f - >/dev/null
expect_fail_contains "delete --wait on a held object times out" 'timed out waiting for the condition' \
  k delete configmap held2 -n "$NS" --timeout=2s
k patch configmap held2 -n "$NS" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
wait_for "held2 disappears once its finalizer is gone" 20 gone configmap held2 "$NS"

# --- namespace deletion ----------------------------------------------------------------------------
TNS=e2e-doomed
cat >"$E2E_TMP/doomed.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $TNS
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: $TNS}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: $TNS}
stringData: {password: pw}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $TNS}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $TNS}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.25}]
EOF
expect_ok "create a namespace with a configmap, secret, service and deployment" k apply -f "$E2E_TMP/doomed.yaml"
# A held configmap keeps the namespace in Terminating until the test releases it.
held_cm anchor "$TNS" | k create -f - >/dev/null
ok "held configmap 'anchor' created in $TNS"
expect_eq "the namespace has the kubernetes finalizer" '["kubernetes"]' "$(k get ns "$TNS" -o json | jq -c .spec.finalizers)"

expect_ok "delete the namespace (--wait=false)" k delete namespace "$TNS" --wait=false
expect_match "delete namespace output" "$OUT" "^namespace \"$TNS\" deleted\$"
expect_eq "the namespace is Terminating" "Terminating" "$(k get ns "$TNS" -o jsonpath='{.status.phase}')"
expect_ok "get namespaces shows it Terminating" k get ns "$TNS"
expect_match "Terminating in the table" "$OUT" "^$TNS +Terminating +"
expect_fail_contains "no new objects in a terminating namespace" \
  "unable to create new content in namespace $TNS because it is being terminated" \
  k create configmap late -n "$TNS" --from-literal=a=b

wait_for "the configmap in the namespace is deleted" 30 gone configmap cfg "$TNS"
wait_for "the secret in the namespace is deleted" 30 gone secret creds "$TNS"
wait_for "the service in the namespace is deleted" 30 gone service web "$TNS"
wait_for "the deployment in the namespace is deleted" 30 gone deployment web "$TNS"
wait_for "the deployment's replicasets are deleted" 30 \
  bash -c '[[ -z "$("$KUBECTL" get rs -n '"$TNS"' -o name 2>/dev/null)" ]]'
wait_for "the deployment's pods are deleted" 30 \
  bash -c '[[ -z "$("$KUBECTL" get pods -n '"$TNS"' -o name 2>/dev/null)" ]]'
expect_ok "the held configmap waits for its finalizer" k get cm anchor -n "$TNS" -o jsonpath='{.metadata.deletionTimestamp}'
expect_ne "the held configmap is marked for deletion" "" "$OUT"
expect_eq "the namespace is still Terminating while content remains" "Terminating" \
  "$(k get ns "$TNS" -o jsonpath='{.status.phase}')"
wait_for "the namespace reports the remaining finalizer" 30 bash -c \
  '"$KUBECTL" get ns '"$TNS"' -o json | jq -e '"'"'[.status.conditions[]? | select(.type == "NamespaceFinalizersRemaining" and .status == "True")] | length == 1'"'"''

k patch configmap anchor -n "$TNS" --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
ok "finalizer of 'anchor' removed"
wait_for "the namespace is gone" 60 gone namespace "$TNS"
expect_fail_contains "its objects are gone with it" 'not found' k get configmap anchor -n "$TNS"

# --- an empty namespace goes away with kubectl's default wait ----------------------------------------------
k create namespace e2e-empty >/dev/null
expect_ok "delete an empty namespace and wait" k delete namespace e2e-empty --timeout=60s
expect_ok "it is gone when delete returns" gone namespace e2e-empty
