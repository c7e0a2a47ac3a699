#!/usr/bin/env bash
# State survives a restart (same uids and resourceVersions) and every acknowledged write
# survives a kill -9 in the middle of a burst of creates.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

NS=e2e-persist
cat >"$E2E_TMP/objects.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: $NS, labels: {keep: "yes"}}
data: {color: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: $NS}
data: {password: czNjcjN0}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.25}]
EOF
expect_ok "create objects" k create -f "$E2E_TMP/objects.yaml"
k label configmap cfg -n "$NS" updated=once >/dev/null
ok "configmap updated once"

OBJECTS=("namespace/$NS" "configmap/cfg" "secret/creds" "service/web")
snapshot() { # one line per object: kind/name uid resourceVersion (+ the service's clusterIP)
  local o
  for o in "${OBJECTS[@]}"; do
    if [[ "$o" == namespace/* ]]; then
      k get "$o" -o jsonpath='{.metadata.uid} {.metadata.resourceVersion}'
    else
      k get "$o" -n "$NS" -o jsonpath='{.metadata.uid} {.metadata.resourceVersion} {.spec.clusterIP}'
    fi
    echo " $o"
  done
}
# The deployment's status may still be written by its controller: compare its uid and spec.
deploy_identity() { k get deployment web -n "$NS" -o json | jq -c '{uid: .metadata.uid, spec: .spec, created: .metadata.creationTimestamp}'; }

before=$(snapshot)
deploy_before=$(deploy_identity)
cm_before=$(k get configmap cfg -n "$NS" -o json | jq -S 'del(.metadata.managedFields)')
max_rv=$(k get --raw /api/v1/configmaps | jq -r .metadata.resourceVersion)
[[ "$max_rv" =~ ^[0-9]+$ ]] || fail "a list carries a numeric resourceVersion" "got: $max_rv"
ok "list resourceVersion before restart: $max_rv"

# --- graceful restart --------------------------------------------------------------------------------
restart_server
expect_eq "uids and resourceVersions are the same after a restart" "$before" "$(snapshot)"
expect_eq "the deployment keeps its uid and spec" "$deploy_before" "$(deploy_identity)"
expect_eq "the configmap reads back byte for byte" "$cm_before" \
  "$(k get configmap cfg -n "$NS" -o json | jq -S 'del(.metadata.managedFields)')"
expect_eq "the secret data survives" "czNjcjN0" "$(k get secret creds -n "$NS" -o jsonpath='{.data.password}')"

expect_ok "a write after the restart" k create configmap after-restart -n "$NS" --from-literal=a=b -o jsonpath='{.metadata.resourceVersion}'
new_rv=$OUT
((new_rv > max_rv)) || fail "a new write gets a larger resourceVersion" "before restart: $max_rv, new write: $new_rv"
ok "a new write gets a larger resourceVersion ($max_rv -> $new_rv)"
new_uid=$(k get configmap after-restart -n "$NS" -o jsonpath='{.metadata.uid}')
expect_not_contains "the new object gets a fresh uid" "$before" "$new_uid"

k create namespace e2e-burst >/dev/null
ok "namespace e2e-burst created"

# --- kill -9 in the middle of 1,000 concurrent creates ----------------------------------------------
RESULT="$E2E_TMP/burst.result"
: >"$RESULT"
bulk_create_configmaps e2e-burst burst 1000 burst yes "$RESULT" 32 &
burst_pid=$!
track_bg "$burst_pid"
deadline=$((SECONDS + 60))
while (($(grep -c '^201 ' "$RESULT" || true) < 200)); do
  ((SECONDS < deadline)) || fail "200 creates acknowledged within 60s" "$(head -5 "$RESULT")"
  _check_server_alive
  sleep 0.05
done
kill9_server
wait "$burst_pid" || true
acked=$(grep -c '^201 ' "$RESULT" || true)
unanswered=$(grep -c '^000 ' "$RESULT" || true)
others=$(grep -Evc '^(201|000) ' "$RESULT" || true)
echo "    burst: $acked acknowledged (201), $unanswered unanswered, $others other answers"
expect_eq "no create got an error answer (only 201 or no answer)" "0" "$others"
expect_eq "every create was attempted" "1000" "$(wc -l <"$RESULT" | tr -d ' ')"

start_server
grep '^201 ' "$RESULT" | awk '{print $2}' | sort >"$E2E_TMP/acked"
k get configmaps -n e2e-burst -l burst=yes -o name | sed 's|^configmap/||' | sort >"$E2E_TMP/present"
missing=$(comm -23 "$E2E_TMP/acked" "$E2E_TMP/present")
[[ -z "$missing" ]] || fail "every acknowledged create survives kill -9 ($(wc -l <<<"$missing") missing)" "$(head -20 <<<"$missing")"
ok "every acknowledged create survives kill -9 ($acked of them, $(wc -l <"$E2E_TMP/present" | tr -d ' ') present)"
extra=$(comm -13 <(seq 1 1000 | sed 's/^/burst-/' | sort) "$E2E_TMP/present")
expect_eq "nothing but the attempted objects exists" "" "$extra"
expect_eq "the objects from before both restarts are intact" "$before" "$(snapshot)"

# the store still works after recovery: reads and writes of the recovered objects
some=$(head -n 1 "$E2E_TMP/acked")
expect_ok "a recovered object can be updated" k label configmap "$some" -n e2e-burst after=kill
expect_ok "a create after recovery" k create configmap after-kill -n e2e-burst -o jsonpath='{.metadata.resourceVersion}'
rv_after_kill=$OUT
list_rv=$(k get --raw /api/v1/namespaces/e2e-burst/configmaps | jq -r .metadata.resourceVersion)
((list_rv >= rv_after_kill)) || fail "list resourceVersion covers the newest write" "list=$list_rv write=$rv_after_kill"
ok "list resourceVersion covers the newest write"
((rv_after_kill > new_rv)) || fail "resourceVersions keep growing after kill -9" "$new_rv then $rv_after_kill"
ok "resourceVersions keep growing after kill -9 ($new_rv -> $rv_after_kill)"
