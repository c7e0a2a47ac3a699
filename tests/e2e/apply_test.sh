#!/usr/bin/env bash
# kubectl apply -f of a multi-document manifest: created / unchanged / configured, and
# kubectl diff before an apply.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

NS=e2e-apply
manifest() { # manifest COLOR: the whole application, with the ConfigMap's color set to COLOR
  cat <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    team: e2e
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: $NS
  labels:
    app: web
data:
  color: $1
  size: large
---
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
  namespace: $NS
type: Opaque
data:
  password: czNjcjN0
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $NS
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $NS
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 8080
        env:
        - name: MODE
          value: production
EOF
}

F="$E2E_TMP/app.yaml"
manifest blue >"$F"

# --- first apply creates everything, in manifest order ---------------------------------
expect_ok "apply creates the manifest" k apply -f "$F"
expect_eq "apply prints one 'created' line per object" \
  "namespace/$NS created
configmap/app-config created
secret/app-secret created
service/web created
deployment.apps/web created" "$OUT"

expect_ok "namespace exists" k get namespace "$NS"
expect_ok "configmap exists" k get configmap app-config -n "$NS" -o jsonpath='{.data.color}'
expect_eq "configmap data as applied" "blue" "$OUT"
expect_ok "secret exists" k get secret app-secret -n "$NS" -o jsonpath='{.data.password}'
expect_eq "secret data as applied" "czNjcjN0" "$OUT"
expect_ok "service exists" k get service web -n "$NS" -o jsonpath='{.spec.ports[0].port}/{.spec.ports[0].targetPort}/{.spec.ports[0].protocol}'
expect_eq "service ports as applied (protocol defaulted)" "80/8080/TCP" "$OUT"
expect_ok "deployment exists" k get deployment web -n "$NS" -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].image}'
expect_eq "deployment spec as applied" "2 nginx:1.25" "$OUT"
expect_ok "last-applied-configuration annotation is recorded" \
  k get configmap app-config -n "$NS" -o jsonpath='{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}'
expect_eq "last-applied-configuration holds the applied data" "blue" "$(jq -r '.data.color' <<<"$OUT")"

rv_of() { k get "$1" "$2" -n "$NS" -o jsonpath='{.metadata.resourceVersion}'; }
cm_rv1=$(rv_of configmap app-config)
secret_rv1=$(rv_of secret app-secret)
svc_rv1=$(rv_of service web)
ns_rv1=$(k get namespace "$NS" -o jsonpath='{.metadata.resourceVersion}')

# --- same manifest again: nothing changes ----------------------------------------------
expect_ok "re-apply of the same manifest" k apply -f "$F"
expect_eq "re-apply prints 'unchanged' for every object" \
  "namespace/$NS unchanged
configmap/app-config unchanged
secret/app-secret unchanged
service/web unchanged
deployment.apps/web unchanged" "$OUT"
expect_eq "configmap resourceVersion untouched by the no-op apply" "$cm_rv1" "$(rv_of configmap app-config)"
expect_eq "secret resourceVersion untouched by the no-op apply" "$secret_rv1" "$(rv_of secret app-secret)"
expect_eq "service resourceVersion untouched by the no-op apply" "$svc_rv1" "$(rv_of service web)"
expect_eq "namespace resourceVersion untouched by the no-op apply" "$ns_rv1" \
  "$(k get namespace "$NS" -o jsonpath='{.metadata.resourceVersion}')"

# --- kubectl diff with no change: exit 0, no output ------------------------------------
run k diff -f "$F"
expect_eq "kubectl diff of the live manifest exits 0" "0" "$RC"
expect_eq "kubectl diff of the live manifest prints nothing" "" "$OUT"

# --- one field changes -----------------------------------------------------------------
before=$(k get configmap app-config -n "$NS" -o json)
manifest green >"$F"

run k diff -f "$F"
expect_eq "kubectl diff exits 1 when the manifest differs from the live state" "1" "$RC"
expect_match "kubectl diff shows the old value" "$OUT" '^-  color: blue$'
expect_match "kubectl diff shows the new value" "$OUT" '^\+  color: green$'
expect_match "kubectl diff names the changed object" "$OUT" 'ConfigMap\.e2e-apply\.app-config'
expect_no_match "kubectl diff shows no other object" "$OUT" '^(\+\+\+|---) .*(Secret|Service|Deployment|Namespace)\.'
expect_eq "kubectl diff (server dry-run) did not change the object" "blue" \
  "$(k get configmap app-config -n "$NS" -o jsonpath='{.data.color}')"

expect_ok "apply of the changed manifest" k apply -f "$F"
expect_eq "only the changed object is 'configured'" \
  "namespace/$NS unchanged
configmap/app-config configured
secret/app-secret unchanged
service/web unchanged
deployment.apps/web unchanged" "$OUT"

after=$(k get configmap app-config -n "$NS" -o json)
expect_eq "the changed field has its new value" "green" "$(jq -r '.data.color' <<<"$after")"
strip='del(.metadata.resourceVersion, .metadata.managedFields, .metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"], .data.color)'
expect_eq "nothing but that field (and resourceVersion/bookkeeping) changed" \
  "$(jq -S "$strip" <<<"$before")" "$(jq -S "$strip" <<<"$after")"
expect_eq "uid is kept across the update" "$(jq -r .metadata.uid <<<"$before")" "$(jq -r .metadata.uid <<<"$after")"
rv_before=$(jq -r .metadata.resourceVersion <<<"$before")
rv_after=$(jq -r .metadata.resourceVersion <<<"$after")
[[ "$rv_after" =~ ^[0-9]+$ && "$rv_before" =~ ^[0-9]+$ ]] || fail "resourceVersions are numeric" "before=$rv_before after=$rv_after"
((rv_after > rv_before)) || fail "resourceVersion grows on update" "before=$rv_before after=$rv_after"
ok "resourceVersion grows on update ($rv_before -> $rv_after)"
expect_eq "last-applied-configuration follows the new manifest" "green" \
  "$(jq -r '.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]' <<<"$after" | jq -r .data.color)"
expect_eq "secret untouched by the apply" "$secret_rv1" "$(rv_of secret app-secret)"
expect_eq "service untouched by the apply" "$svc_rv1" "$(rv_of service web)"

run k diff -f "$F"
expect_eq "kubectl diff exits 0 once the change is applied" "0" "$RC"
expect_eq "kubectl diff prints nothing once the change is applied" "" "$OUT"

# --- a field removed from the manifest is removed from the object -----------------------
sed -i '/^  size: large$/d' "$F"
expect_ok "apply of a manifest without the 'size' key" k apply -f "$F"
expect_contains "the configmap is configured" "$OUT" "configmap/app-config configured"
expect_eq "the key dropped from the manifest is pruned from the object" "null" \
  "$(k get configmap app-config -n "$NS" -o json | jq -c '.data.size')"

# --- a change to the deployment's template --------------------------------------------
sed -i 's/image: nginx:1.25/image: nginx:1.26/' "$F"
gen1=$(k get deployment web -n "$NS" -o jsonpath='{.metadata.generation}')
expect_ok "apply of a new image" k apply -f "$F"
expect_contains "the deployment is configured" "$OUT" "deployment.apps/web configured"
expect_ok "deployment read back" k get deployment web -n "$NS" -o json
expect_eq "the image is updated" "nginx:1.26" "$(jq -r '.spec.template.spec.containers[0].image' <<<"$OUT")"
expect_eq "the rest of the container is kept" '[{"containerPort":8080,"protocol":"TCP"}] [{"name":"MODE","value":"production"}]' \
  "$(jq -c '.spec.template.spec.containers[0].ports' <<<"$OUT") $(jq -c '.spec.template.spec.containers[0].env' <<<"$OUT")"
gen2=$(jq -r .metadata.generation <<<"$OUT")
((gen2 > gen1)) || fail "deployment generation grows on a spec change" "before=$gen1 after=$gen2"
ok "deployment generation grows on a spec change ($gen1 -> $gen2)"
