#!/usr/bin/env bash
# CustomResourceDefinitions: a definition makes its resources served through the same
# request path as built-in kinds (discovery, OpenAPI/explain, get/apply/patch/delete,
# schema validation, defaulting, pruning, printer columns, status and scale
# subresources, finalizers, several versions), and deleting it deletes its resources.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

MANIFESTS="$(dirname "${BASH_SOURCE[0]}")/manifests/customresourcedefinition"
AGE='[0-9]+(s|m|h|d)([0-9]+s|[0-9]+m)?'

expect_ok "api-resources" k api-resources --no-headers
expect_match "crds in api-resources" "$OUT" \
  '^customresourcedefinitions +crd,crds +apiextensions.k8s.io/v1 +false +CustomResourceDefinition$'

# --- definitions: valid ones apply, invalid ones are rejected ------------------------------
for f in "$MANIFESTS"/valid-*.yaml; do
  expect_ok "$(basename "$f") applies" k apply --validate=strict -f "$f"
done
for f in "$MANIFESTS"/invalid-*.yaml; do
  want=$(sed -n 's/^# expect: //p' "$f")
  expect_fail_contains "$(basename "$f") is rejected" "$want" k apply --validate=strict -f "$f"
done
expect_ok "get crd" k get crd
expect_eq "crd header" "NAME CREATED AT" "$(header "$OUT")"
expect_match "apps.foo.bar listed" "$OUT" '^apps.foo.bar +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'

expect_ok "Established within seconds" k wait --for=condition=Established crd/apps.foo.bar --timeout=5s
expect_ok "read the definition" k get crd apps.foo.bar -o json
crd=$OUT
expect_eq "NamesAccepted" "True NoConflicts" \
  "$(jq -r '.status.conditions[] | select(.type=="NamesAccepted") | .status + " " + .reason' <<<"$crd")"
expect_eq "acceptedNames" "apps App" "$(jq -r '.status.acceptedNames.plural + " " + .status.acceptedNames.kind' <<<"$crd")"
expect_eq "storedVersions" '["v1"]' "$(jq -c .status.storedVersions <<<"$crd")"
expect_eq "cleanup finalizer" '["customresourcecleanup.apiextensions.k8s.io"]' "$(jq -c .metadata.finalizers <<<"$crd")"
expect_eq "listKind defaulted" "AppList" "$(jq -r .spec.names.listKind <<<"$crd")"

expect_ok "api-resources after the definition" k api-resources --no-headers
expect_match "apps in api-resources" "$OUT" '^apps +ap +foo.bar/v1 +true +App$'
expect_ok "discovery of foo.bar/v1" k get --raw /apis/foo.bar/v1
expect_eq "apps resources" "apps,apps/scale,apps/status" "$(jq -r '[.resources[].name] | sort | join(",")' <<<"$OUT")"

# --- the example: an App named demo ----------------------------------------------------------
cat >"$E2E_TMP/demo.yaml" <<'EOF'
apiVersion: foo.bar/v1
kind: App
metadata:
  name: demo
spec:
  port: 3333
  path: /app
EOF
expect_ok "create App demo" k apply --validate=strict -f "$E2E_TMP/demo.yaml"
expect_ok "raw GET" k get --raw /apis/foo.bar/v1/namespaces/default/apps/demo
expect_eq "raw object" "App foo.bar/v1 demo 3333 /app" \
  "$(jq -r '[.kind, .apiVersion, .metadata.name, (.spec.port|tostring), .spec.path] | join(" ")' <<<"$OUT")"
expect_eq "generation 1" "1" "$(jq -r .metadata.generation <<<"$OUT")"
expect_ok "get apps.foo.bar -o yaml" k get apps.foo.bar -o yaml
expect_contains "yaml has the port" "$OUT" "port: 3333"
expect_contains "yaml has the path" "$OUT" "path: /app"
expect_ok "get apps" k get apps.foo.bar
expect_eq "printer columns header" "NAME PORT PATH AGE" "$(header "$OUT")"
expect_match "printer columns row" "$OUT" "^demo +3333 +/app +$AGE\$"
expect_ok "get by short name" k get ap demo -o name
expect_eq "short name resolves" "app.foo.bar/demo" "$OUT"
expect_ok "get all" k get all
expect_contains "category all" "$OUT" "app.foo.bar/demo"
expect_ok "explain a custom resource field" k explain apps.spec.port
expect_contains "explain shows the schema's description" "$OUT" "TCP port the application listens on."
expect_ok "explain the custom resource" k explain apps.spec
expect_contains "explain lists fields" "$OUT" "path"

# --- validation, defaulting, pruning -----------------------------------------------------------
bad_app() { # bad_app NAME SPEC-YAML
  printf 'apiVersion: foo.bar/v1\nkind: App\nmetadata:\n  name: %s\nspec:\n%s\n' "$1" "$2" >"$E2E_TMP/$1.yaml"
}
bad_app bad-type '  port: "http"'
expect_fail_contains "type error with the field path" \
  'The App "bad-type" is invalid: spec.port: Invalid value: "string": spec.port in body must be of type integer: "string"' \
  k apply -f "$E2E_TMP/bad-type.yaml"
bad_app bad-max '  port: 70000'
expect_fail_contains "maximum" 'spec.port: Invalid value: 70000: spec.port in body should be less than or equal to 65535' \
  k apply -f "$E2E_TMP/bad-max.yaml"
bad_app bad-required '  path: /x'
expect_fail_contains "required" 'spec.port: Required value' k apply -f "$E2E_TMP/bad-required.yaml"
bad_app bad-enum $'  port: 80\n  mode: turbo'
expect_fail_contains "enum" 'spec.mode: Unsupported value: "turbo": supported values: "fast", "safe"' \
  k apply -f "$E2E_TMP/bad-enum.yaml"
bad_app bad-pattern $'  port: 80\n  path: app'
expect_fail_contains "pattern" "spec.path: Invalid value: \"app\": spec.path in body should match '^/'" \
  k apply -f "$E2E_TMP/bad-pattern.yaml"
bad_app bad-unknown $'  port: 80\n  colour: red'
expect_fail_contains "unknown field rejected with --validate=strict" 'unknown field "spec.colour"' \
  k apply --validate=strict -f "$E2E_TMP/bad-unknown.yaml"
expect_ok "unknown field pruned otherwise" k apply --validate=false -f "$E2E_TMP/bad-unknown.yaml"
expect_ok "read the pruned object" k get app bad-unknown -o json
expect_eq "unknown field dropped, default applied" '{"path":"/","port":80}' "$(jq -cS .spec <<<"$OUT")"

# --- patch, status and scale subresources -------------------------------------------------------
expect_ok "merge patch" k patch app demo --type=merge -p '{"spec":{"port":4444}}'
expect_eq "patched" "4444" "$(k get app demo -o jsonpath='{.spec.port}')"
expect_eq "generation bumped" "2" "$(k get app demo -o jsonpath='{.metadata.generation}')"
expect_ok "status through the main resource is ignored" \
  k patch app demo --type=merge -p '{"status":{"replicas":9}}'
expect_eq "no status" "" "$(k get app demo -o jsonpath='{.status.replicas}')"
expect_ok "status subresource" k patch app demo --subresource=status --type=merge \
  -p '{"status":{"replicas":2,"selector":"app=demo"}}'
expect_eq "status written" "2" "$(k get app demo -o jsonpath='{.status.replicas}')"
expect_ok "kubectl scale" k scale app demo --replicas=3
expect_eq "spec.replicas scaled" "3" "$(k get app demo -o jsonpath='{.spec.replicas}')"
expect_ok "scale subresource" k get --raw /apis/foo.bar/v1/namespaces/default/apps/demo/scale
expect_eq "scale object" "Scale 3 2 app=demo" \
  "$(jq -r '[.kind, (.spec.replicas|tostring), (.status.replicas|tostring), .status.selector] | join(" ")' <<<"$OUT")"

# --- finalizers ----------------------------------------------------------------------------------
cat >"$E2E_TMP/held.yaml" <<'EOF'
apiVersion: foo.bar/v1
kind: App
metadata:
  name: held
  finalizers: [example.com/hold]
spec:
  port: 8080
EOF
expect_ok "create a held App" k apply -f "$E2E_TMP/held.yaml"
expect_ok "delete it without waiting" k delete app held --wait=false
expect_ok "still there" k get app held -o json
expect_match "deletionTimestamp set" "$(jq -r '.metadata.deletionTimestamp // ""' <<<"$OUT")" '^[0-9]{4}-'
expect_ok "remove the finalizer" k patch app held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
expect_fail_contains "gone once the finalizer is removed" 'apps.foo.bar "held" not found' k get app held

# --- several versions ------------------------------------------------------------------------------
expect_ok "CronTab established" k wait --for=condition=Established crd/crontabs.stable.example.com --timeout=5s
cat >"$E2E_TMP/ct.yaml" <<'EOF'
apiVersion: stable.example.com/v1beta1
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
EOF
expect_ok "create through v1beta1" k apply -f "$E2E_TMP/ct.yaml"
expect_ok "read through v1" k get --raw /apis/stable.example.com/v1/namespaces/default/crontabs/my-new-cron-object
expect_eq "v1 view" "stable.example.com/v1 my-awesome-cron-image" "$(jq -r '.apiVersion + " " + .spec.image' <<<"$OUT")"
expect_ok "get crontabs.v1beta1" k get crontabs.v1beta1.stable.example.com my-new-cron-object -o jsonpath='{.apiVersion}'
expect_eq "v1beta1 view" "stable.example.com/v1beta1" "$OUT"

# --- a name conflict ---------------------------------------------------------------------------
cat >"$E2E_TMP/conflict.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: apps2.foo.bar
spec:
  group: foo.bar
  scope: Namespaced
  names: {plural: apps2, kind: App}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
expect_ok "create a conflicting definition" k apply -f "$E2E_TMP/conflict.yaml"
wait_for "NamesAccepted=False" 5 bash -c \
  "'$KUBECTL' get crd apps2.foo.bar -o json | jq -e '.status.conditions[] | select(.type==\"NamesAccepted\" and .status==\"False\")'"
expect_ok "read it" k get crd apps2.foo.bar -o json
expect_eq "conflict reason and message" 'KindConflict "App" is already in use' \
  "$(jq -r '.status.conditions[] | select(.type=="NamesAccepted") | .reason + " " + .message' <<<"$OUT")"
expect_eq "not established" "False NotAccepted" \
  "$(jq -r '.status.conditions[] | select(.type=="Established") | .status + " " + .reason' <<<"$OUT")"
expect_ok "delete it" k delete crd apps2.foo.bar --timeout=20s

# --- a restart keeps serving -------------------------------------------------------------------
restart_server
expect_ok "custom resource served after restart" k get app demo -o jsonpath='{.spec.port}'
expect_eq "port after restart" "4444" "$OUT"

# --- deleting a definition deletes its resources, after their finalizers ------------------------
cat >"$E2E_TMP/keeper.yaml" <<'EOF'
apiVersion: foo.bar/v1
kind: App
metadata:
  name: keeper
  finalizers: [example.com/hold]
spec:
  port: 9090
EOF
expect_ok "an App with a finalizer" k apply -f "$E2E_TMP/keeper.yaml"
expect_ok "delete the definition without waiting" k delete crd apps.foo.bar --wait=false
wait_for "Terminating condition" 10 bash -c \
  "'$KUBECTL' get crd apps.foo.bar -o json | jq -e '.status.conditions[] | select(.type==\"Terminating\" and .status==\"True\" and .reason==\"InstanceDeletionInProgress\")'"
wait_for "demo deleted first" 10 bash -c "! '$KUBECTL' get app demo"
expect_ok "the held App is terminating" k get app keeper -o jsonpath='{.metadata.deletionTimestamp}'
expect_ne "deletionTimestamp set" "" "$OUT"
sed 's/name: keeper/name: late/' "$E2E_TMP/keeper.yaml" >"$E2E_TMP/late.yaml"
expect_fail_contains "no creates while the definition terminates" \
  "create not allowed while custom resource definition is terminating" k create -f "$E2E_TMP/late.yaml"
expect_ok "the definition waits for the finalizer" k get crd apps.foo.bar
expect_ok "release the held App" k patch app keeper --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
wait_for "definition gone" 20 bash -c "! '$KUBECTL' get crd apps.foo.bar"
expect_fail_contains "definition not found" 'customresourcedefinitions.apiextensions.k8s.io "apps.foo.bar" not found' \
  k get crd apps.foo.bar
run k get --raw /apis/foo.bar/v1/namespaces/default/apps
((RC != 0)) && [[ "$ERR" == *"NotFound"* ]] || fail "apps are no longer served" "stdout: $OUT" "stderr: $ERR"
ok "apps are no longer served"
expect_ok "definition re-created" k apply -f "$MANIFESTS/valid-apps.yaml"
expect_ok "Established again" k wait --for=condition=Established crd/apps.foo.bar --timeout=5s
expect_ok "no App survived" k get apps.foo.bar -A -o name
expect_eq "empty" "" "$OUT"
