#!/usr/bin/env bash
# Catalogue, part B: networking.k8s.io (Ingress, IngressClass, NetworkPolicy),
# discovery.k8s.io (EndpointSlice), rbac.authorization.k8s.io (Role, ClusterRole and
# their bindings), storage.k8s.io (StorageClass), flowcontrol.apiserver.k8s.io (FlowSchema,
# PriorityLevelConfiguration), admissionregistration.k8s.io (webhook configurations) and
# authentication.k8s.io TokenReview, driven through the real kubectl: discovery, explain,
# the manifest corpus under tests/e2e/manifests, defaults, printed columns, immutable
# fields, the status subresource, and removed API versions.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

MANIFESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/manifests"
TOKEN_FILE="$E2E_TMP/tokens.csv"
printf '%s\n' 'token-alice-0123456789,alice,uid-alice,"dev,ops"' >"$TOKEN_FILE"
start_server --token-auth-file "$TOKEN_FILE"

NS=e2e-catalogue-b
k create namespace "$NS" >/dev/null
ok "namespace $NS created"

# --- discovery: kubectl api-resources ------------------------------------------------------------
expect_ok "api-resources" k api-resources
RESOURCES=$OUT
while IFS= read -r expected; do
  [[ -n "$expected" ]] || continue
  expect_eq "api-resources lists ${expected%% *}" "$expected" "$(row "${expected%% *}" "$RESOURCES")"
done <<'ROWS'
ingresses ing networking.k8s.io/v1 true Ingress
ingressclasses networking.k8s.io/v1 false IngressClass
networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy
endpointslices discovery.k8s.io/v1 true EndpointSlice
roles rbac.authorization.k8s.io/v1 true Role
clusterroles rbac.authorization.k8s.io/v1 false ClusterRole
rolebindings rbac.authorization.k8s.io/v1 true RoleBinding
clusterrolebindings rbac.authorization.k8s.io/v1 false ClusterRoleBinding
storageclasses sc storage.k8s.io/v1 false StorageClass
flowschemas flowcontrol.apiserver.k8s.io/v1 false FlowSchema
prioritylevelconfigurations flowcontrol.apiserver.k8s.io/v1 false PriorityLevelConfiguration
validatingwebhookconfigurations admissionregistration.k8s.io/v1 false ValidatingWebhookConfiguration
mutatingwebhookconfigurations admissionregistration.k8s.io/v1 false MutatingWebhookConfiguration
tokenreviews authentication.k8s.io/v1 false TokenReview
ROWS
expect_ok "api-resources -o wide" k api-resources -o wide
# kubectl 1.27 prints the verbs as "[create delete ...]", newer ones as "create,delete,...".
verbs_row() { row "$1" "$OUT" | sed 's/[][]//g; s/,/ /g'; }
expect_eq "ingresses verbs" "ingresses ing networking.k8s.io/v1 true Ingress create delete deletecollection get list patch update watch" \
  "$(verbs_row ingresses)"
expect_eq "tokenreviews verbs" "tokenreviews authentication.k8s.io/v1 false TokenReview create" "$(verbs_row tokenreviews)"

# --- kubectl explain down to nested fields --------------------------------------------------------
explain_has() { # RESOURCE.PATH FIELD TYPE
  expect_ok "explain $1" k explain "$1"
  expect_match "explain $1 shows $2 <$3>" "$OUT" "^[[:space:]]+$2[[:space:]]+<$3>"
}
explain_has ingress.spec.rules.http.paths.backend.service.port number integer
explain_has ingress.spec.rules.http.paths pathType string
explain_has ingressclass.spec.parameters scope string
explain_has networkpolicy.spec.ingress.from.ipBlock cidr string
explain_has endpointslice.endpoints.conditions serving boolean
explain_has clusterrole.aggregationRule.clusterRoleSelectors matchLabels 'map\[string\]string'
explain_has rolebinding.roleRef apiGroup string
explain_has storageclass.allowedTopologies.matchLabelExpressions values '\[\]string'
explain_has flowschema.spec.rules.subjects.serviceAccount namespace string
explain_has prioritylevelconfiguration.spec.limited.limitResponse.queuing handSize integer
explain_has validatingwebhookconfiguration.webhooks.clientConfig.service port integer
explain_has mutatingwebhookconfiguration.webhooks reinvocationPolicy string
explain_has tokenreview.status.user username string

# --- the manifest corpus -----------------------------------------------------------------------------
namespaced() { case "$1" in ingress | networkpolicy | endpointslice | role | rolebinding) return 0 ;; esac; return 1; }
# The kinds of this part; other tests own the rest of the corpus.
for kind in ingress ingressclass networkpolicy endpointslice role clusterrole rolebinding \
  clusterrolebinding storageclass flowschema prioritylevelconfiguration \
  validatingwebhookconfiguration mutatingwebhookconfiguration; do
  dir="$MANIFESTS/$kind/"
  ns_args=()
  namespaced "$kind" && ns_args=(-n "$NS")
  for f in "$dir"valid-*.yaml; do
    expect_ok "$kind/$(basename "$f") applies" k apply --validate=strict "${ns_args[@]}" -f "$f"
  done
  for f in "$dir"invalid-*.yaml; do
    expected=$(sed -n '1s/^# expect: //p' "$f")
    [[ -n "$expected" ]] || fail "$f lacks its '# expect:' line"
    expect_fail_contains "$kind/$(basename "$f") is rejected" "$expected" \
      k apply --validate=strict "${ns_args[@]}" -f "$f"
    expect_contains "$kind/$(basename "$f") is reported as Invalid" "$ERR" "is invalid:"
  done
done
for f in "$MANIFESTS"/removed/*.yaml; do
  expected=$(sed -n '1s/^# expect: //p' "$f")
  expect_fail_contains "removed version: $(basename "$f")" "$expected" k apply --validate=strict -f "$f"
done

# --- defaults ---------------------------------------------------------------------------------------------
cat >"$E2E_TMP/np-defaults.yaml" <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ingress-only}
spec:
  podSelector: {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: with-egress}
spec:
  podSelector: {}
  egress:
  - ports: [{port: 53}]
YAML
k apply -n "$NS" -f "$E2E_TMP/np-defaults.yaml" >/dev/null
ok "network policies without policyTypes created"
expect_eq "networkpolicy policyTypes default to Ingress" '["Ingress"]' \
  "$(k get networkpolicy ingress-only -n "$NS" -o json | jq -c '.spec.policyTypes')"
expect_eq "with egress rules policyTypes default to Ingress,Egress; port protocols to TCP" '[["Ingress","Egress"],"TCP"]' \
  "$(k get networkpolicy with-egress -n "$NS" -o json | jq -c '[.spec.policyTypes, .spec.egress[0].ports[0].protocol]')"
expect_eq "ingressclass parameters scope defaults to Cluster" "Cluster" \
  "$(k get ingressclass external-lb -o jsonpath='{.spec.parameters.scope}')"
expect_eq "rolebinding subject apiGroups default by kind" 'rbac.authorization.k8s.io rbac.authorization.k8s.io ' \
  "$(k get rolebinding read-secrets -n "$NS" -o jsonpath='{.subjects[0].apiGroup} {.subjects[1].apiGroup} {.subjects[2].apiGroup}')"
expect_eq "clusterrolebinding roleRef apiGroup defaults" "rbac.authorization.k8s.io" \
  "$(k get clusterrolebinding system:example:monitoring -o jsonpath='{.roleRef.apiGroup}')"
expect_eq "storageclass defaults reclaimPolicy Delete" "Delete" \
  "$(k get storageclass local-storage -o jsonpath='{.reclaimPolicy}')"
expect_eq "endpointslice port protocol defaults to TCP" "TCP" \
  "$(k get endpointslice example-fqdn -n "$NS" -o jsonpath='{.ports[0].protocol}')"
expect_eq "webhook defaults" '{"failurePolicy":"Fail","matchPolicy":"Equivalent","namespaceSelector":{},"objectSelector":{},"scope":"Namespaced","timeoutSeconds":5}' \
  "$(k get validatingwebhookconfiguration pod-policy.example.com -o json | jq -c '.webhooks[0] | {failurePolicy, matchPolicy, namespaceSelector, objectSelector, scope: .rules[0].scope, timeoutSeconds}')"
expect_eq "mutating webhook defaults" '{"failurePolicy":"Fail","port":8443,"scope":"*","timeoutSeconds":10,"reinvocationPolicy":"IfNeeded"}' \
  "$(k get mutatingwebhookconfiguration sidecar-injector.example.com -o json | jq -c '.webhooks[0] | {failurePolicy, port: .clientConfig.service.port, scope: .rules[0].scope, timeoutSeconds, reinvocationPolicy}')"
expect_eq "flowschema matchingPrecedence defaults to 1000" "1000" \
  "$(k get flowschema service-accounts -o jsonpath='{.spec.matchingPrecedence}')"
expect_eq "priority level defaults" '{"nominalConcurrencyShares":30,"lendablePercent":0}' \
  "$(k get prioritylevelconfiguration reject-example -o json | jq -c '.spec.limited | {nominalConcurrencyShares, lendablePercent}')"

# --- kubectl get columns ---------------------------------------------------------------------------------
get_header() { # DESC EXPECTED-HEADER ARGS...
  local desc=$1 want=$2
  shift 2
  expect_ok "get $desc" k get "$@"
  expect_eq "get $desc header" "$want" "$(header "$OUT")"
}
get_header ingress "NAME CLASS HOSTS ADDRESS PORTS AGE" ingress -n "$NS"
expect_match "ingress row: class, hosts, no address, port 80" "$OUT" '^minimal-ingress +nginx-example +\* +80 +[0-9]+s$'
expect_match "ingress row: wildcard hosts" "$OUT" '^ingress-wildcard-host +<none> +foo\.bar\.com,\*\.foo\.com +80 +[0-9]+s$'
expect_match "ingress row: TLS ports" "$OUT" '^tls-example-ingress +<none> +https-example\.foo\.com +80, 443 +[0-9]+s$'
get_header "ingress (short name)" "NAME CLASS HOSTS ADDRESS PORTS AGE" ing -n "$NS"
get_header ingressclass "NAME CONTROLLER PARAMETERS AGE" ingressclass
expect_match "ingressclass row" "$OUT" '^external-lb +example\.com/ingress-controller +IngressParameters\.k8s\.example\.com/external-lb +[0-9]+s$'
expect_match "ingressclass row without parameters" "$OUT" '^nginx-example +k8s\.io/ingress-nginx +<none> +[0-9]+s$'
get_header networkpolicy "NAME POD-SELECTOR AGE" netpol -n "$NS"
expect_match "networkpolicy row" "$OUT" '^test-network-policy +role=db +[0-9]+s$'
expect_match "networkpolicy row with empty selector" "$OUT" '^default-deny-ingress +<none> +[0-9]+s$'
get_header endpointslice "NAME ADDRESSTYPE PORTS ENDPOINTS AGE" endpointslices -n "$NS"
expect_match "endpointslice row" "$OUT" '^example-abc +IPv4 +80 +10\.1\.2\.3 +[0-9]+s$'
get_header role "NAME CREATED AT" roles -n "$NS"
expect_match "role row shows the creation time" "$OUT" '^pod-reader +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
get_header clusterrole "NAME CREATED AT" clusterroles
expect_match "clusterrole with a colon in its name" "$OUT" '^system:example:health-reader +[0-9]{4}-'
get_header rolebinding "NAME ROLE AGE" rolebindings -n "$NS"
expect_match "rolebinding row" "$OUT" '^read-pods +Role/pod-reader +[0-9]+s$'
get_header "rolebinding -o wide" "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS" rolebindings -n "$NS" -o wide
expect_match "rolebinding wide row" "$OUT" '^read-secrets +ClusterRole/secret-reader +[0-9]+s +dave +auditors +kube-system/default$'
get_header clusterrolebinding "NAME ROLE AGE" clusterrolebindings
get_header "clusterrolebinding -o wide" "NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS" clusterrolebindings -o wide
expect_match "clusterrolebinding wide row" "$OUT" '^system:example:monitoring +ClusterRole/monitoring +[0-9]+s +alice@example\.com +monitoring/prometheus$'
get_header storageclass "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE" sc
expect_match "storageclass row" "$OUT" '^standard +kubernetes\.io/aws-ebs +Retain +Immediate +true +[0-9]+s$'
expect_match "default storageclass is marked" "$OUT" '^local-storage \(default\) +kubernetes\.io/no-provisioner +Delete +WaitForFirstConsumer +false +[0-9]+s$'
get_header flowschema "NAME PRIORITYLEVEL MATCHINGPRECEDENCE DISTINGUISHERMETHOD AGE MISSINGPL" flowschemas
expect_match "flowschema row" "$OUT" '^health-for-strangers +exempt +1000 +<none> +[0-9]+s +\?$'
expect_match "flowschema row with a distinguisher" "$OUT" '^service-accounts +workload-low +1000 +ByNamespace +[0-9]+s +\?$'
get_header prioritylevelconfiguration "NAME TYPE NOMINALCONCURRENCYSHARES QUEUES HANDSIZE QUEUELENGTHLIMIT AGE" prioritylevelconfigurations
expect_match "priority level row" "$OUT" '^workload-low +Limited +100 +128 +6 +50 +[0-9]+s$'
expect_match "exempt priority level row" "$OUT" '^exempt +Exempt +<none> +<none> +<none> +<none> +[0-9]+s$'
expect_match "rejecting priority level row" "$OUT" '^reject-example +Limited +30 +<none> +<none> +<none> +[0-9]+s$'
get_header validatingwebhookconfiguration "NAME WEBHOOKS AGE" validatingwebhookconfigurations
expect_match "validating webhook row" "$OUT" '^pod-policy\.example\.com +1 +[0-9]+s$'
get_header mutatingwebhookconfiguration "NAME WEBHOOKS AGE" mutatingwebhookconfigurations
expect_match "mutating webhook row" "$OUT" '^sidecar-injector\.example\.com +1 +[0-9]+s$'

# None of these kinds is in the "all" category.
expect_ok "get all" k get all -n "$NS"
expect_not_contains "get all leaves ingresses out" "$OUT" "ingress.networking.k8s.io"
expect_not_contains "get all leaves network policies out" "$OUT" "networkpolicy"
expect_not_contains "get all leaves endpoint slices out" "$OUT" "endpointslice"

# --- immutable fields ---------------------------------------------------------------------------------------
expect_fail_contains "rolebinding roleRef cannot change" \
  'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef' \
  k patch rolebinding read-pods -n "$NS" --type=merge -p '{"roleRef":{"name":"other"}}'
expect_fail_contains "clusterrolebinding roleRef cannot change" \
  'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}: cannot change roleRef' \
  k patch clusterrolebinding read-secrets-global --type=merge -p '{"roleRef":{"name":"view"}}'
expect_ok "rolebinding subjects may change" k patch rolebinding read-pods -n "$NS" --type=merge \
  -p '{"subjects":[{"kind":"User","name":"bob","apiGroup":"rbac.authorization.k8s.io"}]}'
expect_fail_contains "endpointslice addressType is immutable" 'addressType: Invalid value: "IPv6": field is immutable' \
  k patch endpointslice example-abc -n "$NS" --type=merge -p '{"addressType":"IPv6","endpoints":[{"addresses":["fd00::1"]}]}'
expect_fail_contains "storageclass parameters cannot change" 'parameters: Forbidden: updates to parameters are forbidden.' \
  k patch storageclass standard --type=merge -p '{"parameters":{"type":"io1"}}'
expect_fail_contains "storageclass provisioner cannot change" 'provisioner: Forbidden: updates to provisioner are forbidden.' \
  k patch storageclass standard --type=merge -p '{"provisioner":"example.com/other"}'
expect_fail_contains "storageclass reclaimPolicy cannot change" 'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.' \
  k patch storageclass standard --type=merge -p '{"reclaimPolicy":"Delete"}'
expect_fail_contains "storageclass volumeBindingMode is immutable" 'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable' \
  k patch storageclass standard --type=merge -p '{"volumeBindingMode":"WaitForFirstConsumer"}'
expect_ok "storageclass allowVolumeExpansion may change" k patch storageclass standard --type=merge -p '{"allowVolumeExpansion":false}'
expect_fail_contains "ingressclass controller is immutable" 'spec.controller: Invalid value: "example.com/other": field is immutable' \
  k patch ingressclass external-lb --type=merge -p '{"spec":{"controller":"example.com/other"}}'

# --- ingress: status subresource and generation -------------------------------------------------------------
expect_eq "new ingress has generation 1" "1" "$(k get ingress minimal-ingress -n "$NS" -o jsonpath='{.metadata.generation}')"
expect_ok "ingress status is written through the status subresource" k patch ingress minimal-ingress -n "$NS" \
  --subresource=status --type=merge -p '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"},{"hostname":"lb.example.com"}]}}}'
expect_ok "get ingress after the status update" k get ingress minimal-ingress -n "$NS"
expect_match "ADDRESS shows the load balancer" "$OUT" '^minimal-ingress +nginx-example +\* +192\.0\.2\.10,lb\.example\.com +80 +[0-9]+s$'
expect_eq "a status update leaves the generation alone" "1" "$(k get ingress minimal-ingress -n "$NS" -o jsonpath='{.metadata.generation}')"
k patch ingress minimal-ingress -n "$NS" --type=merge -p '{"status":{"loadBalancer":{"ingress":[]}},"spec":{"ingressClassName":"other"}}' >/dev/null
ok "spec and status patched through the main resource"
expect_eq "the main resource cannot change status" "192.0.2.10" \
  "$(k get ingress minimal-ingress -n "$NS" -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"
expect_eq "a spec change bumps the generation" "2" "$(k get ingress minimal-ingress -n "$NS" -o jsonpath='{.metadata.generation}')"
expect_fail_contains "invalid status is rejected" 'status.loadBalancer.ingress[0].hostname: Invalid value: "10.0.0.1": must be a DNS name, not an IP address' \
  k patch ingress minimal-ingress -n "$NS" --subresource=status --type=merge -p '{"status":{"loadBalancer":{"ingress":[{"hostname":"10.0.0.1"}]}}}'

# --- TokenReview ---------------------------------------------------------------------------------------------
cat >"$E2E_TMP/tokenreview.yaml" <<YAML
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec:
  token: token-alice-0123456789
YAML
# kubectl validates kinds without a PATCH operation on the client, which first lists
# CustomResourceDefinitions; --validate=false keeps this check independent of that group.
expect_ok "create a TokenReview" k create --validate=false -f "$E2E_TMP/tokenreview.yaml" -o json
expect_eq "the token authenticates as alice" \
  '{"audiences":["https://kubernetes.default.svc.cluster.local"],"authenticated":true,"user":{"groups":["dev","ops","system:authenticated"],"uid":"uid-alice","username":"alice"}}' \
  "$(jq -cS '.status | {authenticated, user, audiences}' <<<"$OUT")"
sed -i 's/token-alice-0123456789/not-a-known-token/' "$E2E_TMP/tokenreview.yaml"
expect_ok "review an unknown token" k create --validate=false -f "$E2E_TMP/tokenreview.yaml" -o json
expect_eq "an unknown token does not authenticate" '{"authenticated":null,"user":{}}' \
  "$(jq -c '.status | {authenticated, user}' <<<"$OUT")"
expect_eq "a review is not stored" "null" "$(jq -c '.metadata.uid' <<<"$OUT")"
sed -i 's/^  token: .*/  token: ""/' "$E2E_TMP/tokenreview.yaml"
expect_fail_contains "a review needs a token" "token is required for TokenReview in authentication" \
  k create --validate=false -f "$E2E_TMP/tokenreview.yaml"
expect_fail_contains "token reviews cannot be listed" "(MethodNotAllowed)" k get tokenreviews

# The objects are still there after a restart.
restart_server
expect_eq "objects survive a restart" "pod-reader secret-reader standard" \
  "$(k get role pod-reader -n "$NS" -o name | cut -d/ -f2) $(k get clusterrole secret-reader -o name | cut -d/ -f2) $(k get sc standard -o name | cut -d/ -f2)"
