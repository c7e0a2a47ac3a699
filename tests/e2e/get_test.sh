#!/usr/bin/env bash
# kubectl get: table columns of each kind, output formats, selectors, sorting, watch and
# chunked lists.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

AGE='[0-9]+(s|m|h|d)([0-9]+s|[0-9]+m)?'
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)

k create namespace e2e-get >/dev/null
k create namespace e2e-other >/dev/null
ok "namespaces e2e-get and e2e-other created"

# --- namespaces ------------------------------------------------------------------------
expect_ok "get namespaces" k get namespaces
expect_eq "namespaces header" "NAME STATUS AGE" "$(header "$OUT")"
for ns in default kube-system kube-public kube-node-lease e2e-get; do
  expect_match "namespace $ns is listed as Active" "$OUT" "^$ns +Active +$AGE\$"
done

# --- nodes: none without an agent ----------------------------------------------------
expect_ok "get nodes" k get nodes
expect_eq "no nodes: nothing on stdout" "" "$OUT"
expect_eq "no nodes: kubectl says so" "No resources found" "$ERR"

expect_ok "get configmaps in an empty namespace" k get configmaps -n e2e-other -l nothing=here
expect_eq "empty namespaced list: kubectl says so" "No resources found in e2e-other namespace." "$ERR"

# --- configmaps --------------------------------------------------------------------------
cat >"$E2E_TMP/cms.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: alpha
  namespace: e2e-get
  labels: {tier: front, rank: "3"}
data: {rank: "3", a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bravo
  namespace: e2e-get
  labels: {tier: back, rank: "1"}
data: {rank: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: charlie
  namespace: e2e-get
  labels: {tier: front, rank: "2"}
data: {rank: "2", a: "1", b: "2"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: delta
  namespace: e2e-other
  labels: {tier: front}
data: {}
EOF
expect_ok "create configmaps" k create -f "$E2E_TMP/cms.yaml"

expect_ok "get configmaps" k get configmaps -n e2e-get
expect_eq "configmaps header" "NAME DATA AGE" "$(header "$OUT")"
expect_match "configmap row: name, number of keys, age" "$OUT" "^charlie +3 +$AGE\$"
expect_match "configmap row for a single key" "$OUT" "^bravo +1 +$AGE\$"

expect_ok "get configmaps -o wide" k get cm -n e2e-get -o wide
expect_eq "configmaps -o wide header (no extra columns)" "NAME DATA AGE" "$(header "$OUT")"

expect_ok "get configmaps -A" k get cm -A -l tier
expect_eq "configmaps -A header" "NAMESPACE NAME DATA AGE" "$(header "$OUT")"
expect_match "-A lists e2e-get objects" "$OUT" "^e2e-get +alpha +2 +$AGE\$"
expect_match "-A lists e2e-other objects" "$OUT" "^e2e-other +delta +0 +$AGE\$"

expect_ok "get configmap -o yaml" k get cm alpha -n e2e-get -o yaml
expect_eq "-o yaml starts with apiVersion" "apiVersion: v1" "$(head -n 1 <<<"$OUT")"
expect_match "-o yaml has the kind" "$OUT" '^kind: ConfigMap$'
expect_match "-o yaml has the name" "$OUT" '^  name: alpha$'
expect_match "-o yaml has the data" "$OUT" '^  rank: "3"$'
expect_ok "get configmaps -o yaml (list)" k get cm -n e2e-get -l tier -o yaml
expect_match "a list in YAML is kind: List" "$OUT" '^kind: List$'
expect_match "a list in YAML has items" "$OUT" '^items:$'

expect_ok "get configmap -o json" k get cm alpha -n e2e-get -o json
expect_eq "-o json: kind and apiVersion" "ConfigMap v1" "$(jq -r '.kind + " " + .apiVersion' <<<"$OUT")"
expect_match "-o json: uid is set" "$(jq -r .metadata.uid <<<"$OUT")" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
expect_match "-o json: creationTimestamp is RFC 3339" "$(jq -r .metadata.creationTimestamp <<<"$OUT")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
expect_match "-o json: resourceVersion is set" "$(jq -r .metadata.resourceVersion <<<"$OUT")" '^[0-9]+$'
expect_eq "-o json: namespace" "e2e-get" "$(jq -r .metadata.namespace <<<"$OUT")"
expect_ok "get configmaps -o json (list)" k get cm -n e2e-get -l tier -o json
expect_eq "-o json list: kind List with three items" "List 3" "$(jq -r '.kind + " " + (.items | length | tostring)' <<<"$OUT")"

expect_ok "get -o jsonpath over a list" k get cm -n e2e-get -l tier -o 'jsonpath={.items[*].metadata.name}'
expect_eq "jsonpath lists the names in order" "alpha bravo charlie" "$OUT"
expect_ok "get -o jsonpath with range" k get cm -n e2e-get -l tier -o 'jsonpath={range .items[*]}{.metadata.name}={.data.rank}{"\n"}{end}'
expect_eq "jsonpath range output" $'alpha=3\nbravo=1\ncharlie=2' "$OUT"
expect_ok "get -o jsonpath of one object" k get cm charlie -n e2e-get -o jsonpath='{.data.b}'
expect_eq "jsonpath of one field" "2" "$OUT"

expect_ok "get -o custom-columns" k get cm -n e2e-get -l tier -o custom-columns=NAME:.metadata.name,RANK:.data.rank,TIER:.metadata.labels.tier
expect_eq "custom-columns header" "NAME RANK TIER" "$(header "$OUT")"
expect_eq "custom-columns row" "bravo 1 back" "$(row bravo "$OUT")"
expect_ok "custom-columns with a missing field" k get cm -n e2e-get -o custom-columns=NAME:.metadata.name,B:.data.b
expect_eq "a missing field prints <none>" "alpha <none>" "$(row alpha "$OUT")"

expect_ok "get --show-labels" k get cm -n e2e-get --show-labels
expect_eq "--show-labels header" "NAME DATA AGE LABELS" "$(header "$OUT")"
expect_match "--show-labels row lists the labels sorted by key" "$OUT" "^alpha +2 +$AGE +rank=3,tier=front\$"

expect_ok "get -l equality" k get cm -n e2e-get -l tier=front -o name
expect_eq "-l tier=front" $'configmap/alpha\nconfigmap/charlie' "$OUT"
wait_for "kube-root-ca.crt is published in the namespace" 10 "$KUBECTL" get cm kube-root-ca.crt -n e2e-get
expect_ok "get -l inequality" k get cm -n e2e-get -l 'tier!=front' -o name
# kube-root-ca.crt has no tier label, so `tier!=front` selects it too, as on Kubernetes.
expect_eq "-l tier!=front" $'configmap/bravo\nconfigmap/kube-root-ca.crt' "$OUT"
expect_ok "get -l set-based" k get cm -n e2e-get -l 'rank in (1,2)' -o name
expect_eq "-l rank in (1,2)" $'configmap/bravo\nconfigmap/charlie' "$OUT"
expect_ok "get -l existence and equality combined" k get cm -n e2e-get -l 'tier,rank notin (2)' -o name
expect_eq "-l tier,rank notin (2)" $'configmap/alpha\nconfigmap/bravo' "$OUT"
expect_ok "get -l with no match" k get cm -n e2e-get -l tier=nowhere
expect_eq "-l with no match says so" "No resources found in e2e-get namespace." "$ERR"

expect_ok "get --field-selector metadata.name=" k get cm -n e2e-get --field-selector metadata.name=bravo -o name
expect_eq "--field-selector metadata.name=bravo" "configmap/bravo" "$OUT"
expect_ok "get --field-selector metadata.name!=" k get cm -n e2e-get --field-selector metadata.name!=bravo -l tier -o name
expect_eq "--field-selector metadata.name!=bravo" $'configmap/alpha\nconfigmap/charlie' "$OUT"
expect_ok "get -A --field-selector metadata.namespace=" k get cm -A --field-selector metadata.namespace=e2e-other -l tier -o name
expect_eq "--field-selector metadata.namespace=e2e-other" "configmap/delta" "$OUT"
expect_fail_contains "an unsupported field selector is rejected" 'field label not supported: data.rank' \
  k get cm -n e2e-get --field-selector data.rank=1

expect_ok "get --sort-by a data field" k get cm -n e2e-get -l tier --sort-by=.data.rank -o name
expect_eq "--sort-by=.data.rank" $'configmap/bravo\nconfigmap/charlie\nconfigmap/alpha' "$OUT"
expect_ok "get --sort-by in a table" k get cm -n e2e-get -l tier --sort-by=.data.rank
expect_eq "--sort-by keeps the table header" "NAME DATA AGE" "$(header "$OUT")"
expect_eq "--sort-by orders the table rows" "bravo charlie alpha" "$(awk 'NR > 1 {printf "%s%s", sep, $1; sep=" "}' <<<"$OUT")"

# --- secrets -----------------------------------------------------------------------------
k create secret generic creds -n e2e-get --from-literal=user=admin --from-literal=pass=pw >/dev/null
ok "secret created"
expect_ok "get secrets" k get secrets -n e2e-get creds
expect_eq "secrets header" "NAME TYPE DATA AGE" "$(header "$OUT")"
expect_match "secret row" "$OUT" "^creds +Opaque +2 +$AGE\$"
expect_ok "get secret -o jsonpath" k get secret creds -n e2e-get -o jsonpath='{.data.user}'
expect_eq "secret data is base64" "$(printf admin | base64)" "$OUT"

# --- services ------------------------------------------------------------------------------
expect_ok "the kubernetes service exists in default" k get service kubernetes -n default
expect_eq "services header" "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE" "$(header "$OUT")"
expect_match "kubernetes service row" "$OUT" "^kubernetes +ClusterIP +10\.43\.0\.1 +<none> +443/TCP +$AGE\$"

cat >"$E2E_TMP/svc.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: e2e-get
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: https, port: 443, protocol: TCP}
---
apiVersion: v1
kind: Service
metadata:
  name: ext
  namespace: e2e-get
spec:
  ports:
  - {port: 5432}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: ext
  namespace: e2e-get
subsets:
- addresses:
  - ip: 10.1.2.3
  ports:
  - port: 5432
EOF
expect_ok "create services and endpoints" k create -f "$E2E_TMP/svc.yaml"
expect_ok "get services" k get svc -n e2e-get
expect_eq "services header" "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE" "$(header "$OUT")"
expect_match "service row" "$OUT" "^web +ClusterIP +10\.43\.[0-9]+\.[0-9]+ +<none> +80/TCP,443/TCP +$AGE\$"
expect_ok "get services -o wide" k get svc -n e2e-get -o wide
expect_eq "services -o wide header" "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR" "$(header "$OUT")"
expect_match "services -o wide row has the selector" "$OUT" "^web +ClusterIP +10\.43\.[0-9]+\.[0-9]+ +<none> +80/TCP,443/TCP +$AGE +app=web\$"
expect_match "a service without selector shows <none>" "$OUT" "^ext +ClusterIP +10\.43\.[0-9]+\.[0-9]+ +<none> +5432/TCP +$AGE +<none>\$"

# --- endpoints -------------------------------------------------------------------------------
expect_ok "get endpoints" k get endpoints ext -n e2e-get
expect_eq "endpoints header" "NAME ENDPOINTS AGE" "$(header "$OUT")"
expect_match "endpoints row" "$OUT" "^ext +10\.1\.2\.3:5432 +$AGE\$"

# --- pods (nothing runs them: they stay Pending) --------------------------------------------
cat >"$E2E_TMP/pods.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: p1
  namespace: e2e-get
  labels: {app: web}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: p2
  namespace: e2e-get
  labels: {app: db}
spec:
  containers:
  - name: a
    image: busybox:1.36
  - name: b
    image: busybox:1.36
EOF
expect_ok "create pods" k create -f "$E2E_TMP/pods.yaml"
expect_ok "get pods" k get pods -n e2e-get
expect_eq "pods header" "NAME READY STATUS RESTARTS AGE" "$(header "$OUT")"
expect_match "pending pod row" "$OUT" "^p1 +0/1 +Pending +0 +$AGE\$"
expect_match "two-container pod row" "$OUT" "^p2 +0/2 +Pending +0 +$AGE\$"
expect_ok "get pods -o wide" k get pods -n e2e-get -o wide
expect_eq "pods -o wide header" "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES" "$(header "$OUT")"
expect_match "pods -o wide row" "$OUT" "^p1 +0/1 +Pending +0 +$AGE +<none> +<none> +<none> +<none>\$"
expect_ok "get pods --field-selector status.phase=Pending" k get pods -n e2e-get --field-selector status.phase=Pending -o name
expect_eq "both pods are Pending" $'pod/p1\npod/p2' "$OUT"
expect_ok "get pods --field-selector spec.nodeName=" k get pods -n e2e-get --field-selector spec.nodeName= -o name
expect_eq "both pods are unassigned" $'pod/p1\npod/p2' "$OUT"
expect_ok "get pods --field-selector status.phase=Running" k get pods -n e2e-get --field-selector status.phase=Running -o name
expect_eq "no pod is Running" "" "$OUT"
expect_ok "get pods -l app=db" k get pods -n e2e-get -l app=db -o name
expect_eq "-l app=db" "pod/p2" "$OUT"
expect_ok "get pod -o json" k get pod p1 -n e2e-get -o json
expect_eq "pod defaults: restartPolicy, dnsPolicy, terminationMessagePolicy" "Always ClusterFirst File" \
  "$(jq -r '[.spec.restartPolicy, .spec.dnsPolicy, .spec.containers[0].terminationMessagePolicy] | join(" ")' <<<"$OUT")"
expect_eq "pod status phase" "Pending" "$(jq -r .status.phase <<<"$OUT")"

# --- events ----------------------------------------------------------------------------------
cat >"$E2E_TMP/event.yaml" <<EOF
apiVersion: v1
kind: Event
metadata:
  name: p1.e2e
  namespace: e2e-get
involvedObject:
  apiVersion: v1
  kind: Pod
  name: p1
  namespace: e2e-get
reason: Tested
message: hello from the e2e test
type: Normal
count: 1
firstTimestamp: "$NOW"
lastTimestamp: "$NOW"
source:
  component: e2e
EOF
expect_ok "create an event" k create -f "$E2E_TMP/event.yaml"
expect_ok "get events" k get events -n e2e-get --field-selector involvedObject.name=p1,reason=Tested
expect_eq "events header" "LAST SEEN TYPE REASON OBJECT MESSAGE" "$(header "$OUT")"
expect_match "event row" "$OUT" "^$AGE +Normal +Tested +pod/p1 +hello from the e2e test\$"
expect_ok "get events -A" k get events -A --field-selector reason=Tested
expect_eq "events -A header" "NAMESPACE LAST SEEN TYPE REASON OBJECT MESSAGE" "$(header "$OUT")"

# --- serviceaccounts ------------------------------------------------------------------------
wait_for "the default serviceaccount appears in a new namespace" 30 k get serviceaccount default -n e2e-get
expect_ok "get serviceaccounts" k get serviceaccounts -n e2e-get default
expect_eq "serviceaccounts header" "NAME SECRETS AGE" "$(header "$OUT")"
expect_match "serviceaccount row" "$OUT" "^default +0 +$AGE\$"

# --- leases ----------------------------------------------------------------------------------
cat >"$E2E_TMP/lease.yaml" <<'EOF'
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: e2e-lock
  namespace: e2e-get
spec:
  holderIdentity: holder-1
  leaseDurationSeconds: 15
EOF
expect_ok "create a lease" k create -f "$E2E_TMP/lease.yaml"
expect_ok "get leases" k get leases -n e2e-get
expect_eq "leases header" "NAME HOLDER AGE" "$(header "$OUT")"
expect_match "lease row" "$OUT" "^e2e-lock +holder-1 +$AGE\$"

# --- deployments and replicasets -------------------------------------------------------------
k create namespace e2e-apps >/dev/null
cat >"$E2E_TMP/deploy.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: e2e-apps
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
EOF
expect_ok "create a deployment" k create -f "$E2E_TMP/deploy.yaml"
expect_ok "get deployments" k get deployments -n e2e-apps
expect_eq "deployments header" "NAME READY UP-TO-DATE AVAILABLE AGE" "$(header "$OUT")"
expect_match "deployment row: no replica ready" "$OUT" "^web +0/2 +[0-9]+ +0 +$AGE\$"
expect_ok "get deployments -o wide" k get deploy -n e2e-apps -o wide
expect_eq "deployments -o wide header" "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR" "$(header "$OUT")"
expect_match "deployments -o wide row" "$OUT" "^web +0/2 +[0-9]+ +0 +$AGE +nginx +nginx:1\.25 +app=web\$"

# ReplicaSets are objects like any other; creating them for a Deployment is the
# Deployment controller's job, which arrives with the control loops.
expect_ok "get replicasets" k get replicasets -n e2e-apps
expect_contains "no replicasets yet" "$OUT$ERR" "No resources found in e2e-apps namespace."

# --- watch ---------------------------------------------------------------------------------------
k create namespace e2e-watch >/dev/null
k create configmap w0 -n e2e-watch --from-literal=k=v >/dev/null
W="$E2E_TMP/watch.out"
"$KUBECTL" get cm -n e2e-watch -w --output-watch-events >"$W" 2>&1 &
track_bg $!
W2="$E2E_TMP/watch-plain.out"
"$KUBECTL" get cm -n e2e-watch -w >"$W2" 2>&1 &
track_bg $!
wait_for "the watch prints the existing object first" 20 grep -Eq '^ADDED +w0 ' "$W"
wait_for "the plain watch prints the existing object first" 20 grep -Eq '^w0 ' "$W2"
expect_eq "watch header has the EVENT column" "EVENT NAME DATA AGE" "$(header "$(cat "$W")")"

k create configmap w1 -n e2e-watch --from-literal=a=1 >/dev/null
wait_for "watch shows the create as ADDED" 20 grep -Eq '^ADDED +w1 +1 ' "$W"
k patch configmap w1 -n e2e-watch --type=merge -p '{"data":{"b":"2"}}' >/dev/null
wait_for "watch shows the update as MODIFIED" 20 grep -Eq '^MODIFIED +w1 +2 ' "$W"
wait_for "plain watch shows the object again after the update" 20 grep -Eq '^w1 +2 ' "$W2"
k delete configmap w1 -n e2e-watch >/dev/null
wait_for "watch shows the delete as DELETED" 20 grep -Eq '^DELETED +w1 ' "$W"
expect_eq "events arrive once each, in order" "ADDED MODIFIED DELETED" \
  "$(awk '$2 == "w1" {printf "%s%s", sep, $1; sep=" "}' "$W")"
expect_eq "the pre-existing object is reported exactly once" "1" "$(grep -Ec '^ADDED +w0 ' "$W")"

# --- chunked list over 2,000 configmaps -------------------------------------------------------------
k create namespace e2e-bulk >/dev/null
bulk_create_configmaps e2e-bulk bulk 2000 batch e2e "$E2E_TMP/bulk.result" 16
created=$(grep -c '^201 ' "$E2E_TMP/bulk.result" || true)
expect_eq "2000 configmaps created over HTTP (201 each)" "2000" "$created"
seq 1 2000 | sed 's/^/bulk-/' | sort >"$E2E_TMP/bulk.expected"

expect_ok "get --chunk-size=100 -o name" k get cm -n e2e-bulk -l batch=e2e --chunk-size=100 -o name -v=6
sed 's|^configmap/||' <<<"$OUT" | sort >"$E2E_TMP/bulk.listed"
expect_eq "the chunked list has every configmap exactly once (2000 lines)" "2000" "$(wc -l <"$E2E_TMP/bulk.listed" | tr -d ' ')"
if ! diff -q "$E2E_TMP/bulk.expected" "$E2E_TMP/bulk.listed" >/dev/null; then
  fail "the chunked list returns exactly the created names" "$(diff "$E2E_TMP/bulk.expected" "$E2E_TMP/bulk.listed" | head -20)"
fi
ok "the chunked list returns exactly the created names"
pages=$(grep -c 'limit=100' <<<"$ERR" || true)
((pages >= 20)) || fail "kubectl fetched the list in pages of 100 (saw $pages page requests)" "$(grep -m5 'GET' <<<"$ERR")"
ok "kubectl fetched the list in pages of 100 ($pages page requests)"

expect_ok "get --chunk-size=100 as a table" k get cm -n e2e-bulk -l batch=e2e --chunk-size=100
expect_eq "a chunked table has one header" "1" "$(grep -c '^NAME ' <<<"$OUT")"
expect_eq "a chunked table has 2000 rows" "2000" "$(grep -c '^bulk-' <<<"$OUT")"

# Without a selector the namespace may also hold kube-root-ca.crt: count what is there.
api GET "/api/v1/namespaces/e2e-bulk/configmaps"
total=$(jq '.items | length' <<<"$BODY")
api GET "/api/v1/namespaces/e2e-bulk/configmaps?limit=100"
expect_eq "a limited list over HTTP: 200" "200" "$HTTP_CODE"
expect_eq "a limited list returns 100 items" "100" "$(jq '.items | length' <<<"$BODY")"
cont=$(jq -r '.metadata.continue // ""' <<<"$BODY")
expect_ne "a limited list returns a continue token" "" "$cont"
expect_eq "a limited list reports remainingItemCount" "$((total - 100))" "$(jq -r '.metadata.remainingItemCount // "missing"' <<<"$BODY")"
api GET "/api/v1/namespaces/e2e-bulk/configmaps?limit=100&continue=$(jq -rn --arg c "$cont" '$c | @uri')"
expect_eq "the continue token fetches the next page" "200 100" "$HTTP_CODE $(jq '.items | length' <<<"$BODY")"
