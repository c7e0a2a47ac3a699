#!/usr/bin/env bash
# Bad input gets the Status error kubectl users know from Kubernetes, and the server keeps
# answering afterwards.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

NS=e2e-err
k create namespace "$NS" >/dev/null
ok "namespace $NS created"

# --- not found / unknown resource ----------------------------------------------------------------
expect_fail_contains "get of a missing object" 'Error from server (NotFound): configmaps "missing" not found' \
  k get configmap missing -n "$NS"
expect_fail_contains "get of an unknown resource type" 'the server doesn'"'"'t have a resource type "frobnicators"' \
  k get frobnicators

# --- strict field validation ------------------------------------------------------------------------
cat >"$E2E_TMP/unknown-field.yaml" <<EOF
apiVersion: v1
kind: Service
metadata:
  name: strict
  namespace: $NS
spec:
  foo: bar
  ports:
  - port: 80
EOF
expect_fail_contains "unknown field under strict validation (create)" \
  'Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.foo"' \
  k create -f "$E2E_TMP/unknown-field.yaml"
expect_fail_contains "unknown field under strict validation (apply)" 'strict decoding error: unknown field "spec.foo"' \
  k apply -f "$E2E_TMP/unknown-field.yaml"
expect_fail_contains "nothing was created by the rejected requests" 'services "strict" not found' \
  k get service strict -n "$NS"
expect_ok "--validate=warn accepts the object" k create --validate=warn -f "$E2E_TMP/unknown-field.yaml"
expect_contains "--validate=warn prints the server's warning" "$ERR" 'Warning: unknown field "spec.foo"'
expect_eq "the unknown field is dropped" "null" "$(k get service strict -n "$NS" -o json | jq -c .spec.foo)"
k delete service strict -n "$NS" >/dev/null
expect_ok "--validate=false accepts the object" k create --validate=false -f "$E2E_TMP/unknown-field.yaml"
expect_eq "--validate=false prints no warning" "" "$ERR"

# --- invalid names, missing namespace -----------------------------------------------------------------
expect_fail_contains "invalid object name" \
  'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters' \
  k create configmap Bad_Name -n "$NS"
expect_fail_contains "invalid name is reported as Invalid" 'ConfigMap "Bad_Name" is invalid' k create configmap Bad_Name -n "$NS"
expect_fail_contains "object in a missing namespace" 'namespaces "nope" not found' \
  k create configmap lost -n nope --from-literal=a=b

# --- conflict on a stale resourceVersion ------------------------------------------------------------------
k create configmap stale -n "$NS" --from-literal=v=1 >/dev/null
k get configmap stale -n "$NS" -o yaml >"$E2E_TMP/stale.yaml"
k label configmap stale -n "$NS" touched=yes >/dev/null
ok "configmap changed after the copy was taken"
sed -i 's/^  v: "1"$/  v: "2"/' "$E2E_TMP/stale.yaml"
expect_fail_contains "replace of an old copy is a conflict" \
  'Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again' \
  k replace -f "$E2E_TMP/stale.yaml"
expect_eq "the conflicting replace changed nothing" "1 yes" \
  "$(k get configmap stale -n "$NS" -o jsonpath='{.data.v} {.metadata.labels.touched}')"

# --- already exists ---------------------------------------------------------------------------------------
cat >"$E2E_TMP/dup.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: dup
  namespace: $NS
data: {a: "1"}
EOF
k create -f "$E2E_TMP/dup.yaml" >/dev/null
expect_fail_contains "create -f of an existing object" 'Error from server (AlreadyExists): error when creating' \
  k create -f "$E2E_TMP/dup.yaml"
expect_contains "already exists names the object" "$ERR" 'configmaps "dup" already exists'
expect_fail_contains "create configmap of an existing name" 'configmaps "dup" already exists' \
  k create configmap dup -n "$NS"

# --- node ports ----------------------------------------------------------------------------------------------
nodeport_svc() { # nodeport_svc NAME PORT
  cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: $1
  namespace: $NS
spec:
  type: NodePort
  selector: {app: $1}
  ports:
  - port: 80
    nodePort: $2
EOF
}
nodeport_svc np-low 80 >"$E2E_TMP/np-low.yaml"
expect_fail_contains "NodePort out of range" \
  'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767' \
  k create -f "$E2E_TMP/np-low.yaml"
nodeport_svc np-a 30080 >"$E2E_TMP/np-a.yaml"
nodeport_svc np-b 30080 >"$E2E_TMP/np-b.yaml"
expect_ok "NodePort 30080 allocated" k create -f "$E2E_TMP/np-a.yaml"
expect_fail_contains "NodePort already allocated" \
  'spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated' \
  k create -f "$E2E_TMP/np-b.yaml"
expect_ok "a NodePort service without nodePort" k create service nodeport np-auto -n "$NS" --tcp=80:8080
expect_match "gets a port from the range" "$(k get svc np-auto -n "$NS" -o jsonpath='{.spec.ports[0].nodePort}')" \
  '^(3[0-1][0-9]{3}|32[0-6][0-9]{2}|327[0-5][0-9]|3276[0-7])$'
k delete service np-a -n "$NS" >/dev/null
expect_ok "a released NodePort can be allocated again" k create -f "$E2E_TMP/np-b.yaml"

# --- authentication ---------------------------------------------------------------------------------------------
anon_api GET /api/v1/namespaces
expect_eq "no credentials: 401" "401" "$HTTP_CODE"
expect_eq "401 body is a Status with reason Unauthorized" "Status Failure Unauthorized 401" \
  "$(jq -r '"\(.kind) \(.status) \(.reason) \(.code)"' <<<"$BODY" 2>/dev/null || echo "not JSON: $BODY")"
HTTP_CODE=$(curl -sS --cacert "$E2E_CA" -H 'Authorization: Bearer not-a-valid-token' -o /dev/null -w '%{http_code}' \
  "$E2E_SERVER/api/v1/namespaces")
expect_eq "a bogus bearer token: 401" "401" "$HTTP_CODE"

anon_api GET /healthz
expect_eq "/healthz answers anonymously" "200 ok" "$HTTP_CODE $BODY"
anon_api GET /readyz
expect_eq "/readyz answers anonymously" "200 ok" "$HTTP_CODE $BODY"
anon_api GET /livez
expect_eq "/livez answers anonymously" "200 ok" "$HTTP_CODE $BODY"
anon_api GET /version
expect_eq "/version answers anonymously" "200" "$HTTP_CODE"
expect_match "/version carries gitVersion" "$(jq -r .gitVersion <<<"$BODY" 2>/dev/null)" '^v1\.[0-9]+\.[0-9]+'

NOAUTH="$E2E_TMP/noauth.kubeconfig"
k config --kubeconfig="$NOAUTH" set-cluster skiff --server="$E2E_SERVER" --certificate-authority="$E2E_CA" --embed-certs=true >/dev/null
k config --kubeconfig="$NOAUTH" set-credentials nobody --token=not-a-valid-token >/dev/null
k config --kubeconfig="$NOAUTH" set-context skiff --cluster=skiff --user=nobody >/dev/null
k config --kubeconfig="$NOAUTH" use-context skiff >/dev/null
expect_fail_contains "kubectl with a kubeconfig lacking the client certificate" \
  'error: You must be logged in to the server (Unauthorized)' k --kubeconfig="$NOAUTH" get namespaces

# --- hostile bodies (as the admin) -----------------------------------------------------------------------------------
{
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"blob":"'
  head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' 'a'
  printf '"}}'
} >"$E2E_TMP/huge.json"
api POST "/api/v1/namespaces/$NS/configmaps" "$E2E_TMP/huge.json"
expect_eq "a 4 MiB body: 413" "413" "$HTTP_CODE"
expect_eq "413 body is a Status with reason RequestEntityTooLarge" "Status RequestEntityTooLarge 413" \
  "$(jq -r '"\(.kind) \(.reason) \(.code)"' <<<"$BODY" 2>/dev/null || echo "not JSON: ${BODY:0:200}")"
expect_fail_contains "the huge object was not stored" 'configmaps "huge" not found' k get configmap huge -n "$NS"

printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"' >"$E2E_TMP/malformed.json"
api POST "/api/v1/namespaces/$NS/configmaps" "$E2E_TMP/malformed.json"
expect_eq "malformed JSON: 400" "400" "$HTTP_CODE"
expect_eq "400 body is a Status with reason BadRequest" "Status Failure BadRequest 400" \
  "$(jq -r '"\(.kind) \(.status) \(.reason) \(.code)"' <<<"$BODY" 2>/dev/null || echo "not JSON: $BODY")"

printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"},"data":{"a":1}}' >"$E2E_TMP/badtype.json"
api POST "/api/v1/namespaces/$NS/configmaps" "$E2E_TMP/badtype.json"
expect_eq "a number where a string belongs: 400" "400" "$HTTP_CODE"

nested() { # nested DEPTH: a ConfigMap whose data value is DEPTH nested arrays
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":{"x":'
  head -c "$1" /dev/zero | tr '\0' '['
  head -c "$1" /dev/zero | tr '\0' ']'
  printf '}}'
}
nested 150 >"$E2E_TMP/deep150.json"
api POST "/api/v1/namespaces/$NS/configmaps" "$E2E_TMP/deep150.json"
expect_eq "JSON nested 150 levels: 400" "400" "$HTTP_CODE"
expect_eq "its body is a Status" "Status 400" "$(jq -r '"\(.kind) \(.code)"' <<<"$BODY" 2>/dev/null || echo "not JSON: ${BODY:0:200}")"
nested 100000 >"$E2E_TMP/deep100k.json"
api POST "/api/v1/namespaces/$NS/configmaps" "$E2E_TMP/deep100k.json"
expect_eq "JSON nested 100,000 levels: 400" "400" "$HTTP_CODE"

printf '{"metadata":{"labels":{"a":"b"}}' >"$E2E_TMP/badpatch.json"
api PATCH "/api/v1/namespaces/$NS/configmaps/dup" "$E2E_TMP/badpatch.json" "application/merge-patch+json"
expect_eq "malformed merge patch: 400" "400" "$HTTP_CODE"
printf '{"metadata":{"labels":{"a":"b"}}}' >"$E2E_TMP/patch.json"
api PATCH "/api/v1/namespaces/$NS/configmaps/dup" "$E2E_TMP/patch.json" "text/plain"
expect_eq "patch with an unsupported content type: 415" "415" "$HTTP_CODE"

# --- still alive -----------------------------------------------------------------------------------------------------
expect_eq "/readyz still ok" "ok" "$(k get --raw /readyz)"
expect_ok "kubectl still works" k create configmap after -n "$NS" --from-literal=still=alive
expect_eq "the new object is readable" "alive" "$(k get configmap after -n "$NS" -o jsonpath='{.data.still}')"
expect_eq "the earlier objects are intact" "1" "$(k get configmap dup -n "$NS" -o jsonpath='{.data.a}')"
