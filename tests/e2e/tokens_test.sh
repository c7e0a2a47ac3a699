#!/usr/bin/env bash
# Service account tokens: `kubectl create token` (serviceaccounts/token, TokenRequest) issues
# signed JWTs that the server accepts as bearer tokens while what they name exists, and
# TokenReview checks them against audiences.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

# jwt_part TOKEN N: the N-th (1-based) segment of a JWT, base64url-decoded.
jwt_part() {
  local seg
  seg=$(cut -d. -f"$2" <<<"$1" | tr '_-' '/+')
  while ((${#seg} % 4)); do seg+="="; done
  base64 -d <<<"$seg"
}

# as_token TOKEN KUBECTL-ARGS...: kubectl with only the bearer token as credentials.
as_token() {
  local token=$1
  shift
  "$KUBECTL" --kubeconfig=/dev/null --server="$E2E_SERVER" --certificate-authority="$E2E_CA" \
    --token="$token" "$@"
}

# --- kubectl create token ------------------------------------------------------------------------
wait_for "the default service account exists" 10 k get serviceaccount default
expect_ok "kubectl create token default" k create token default
TOKEN=$OUT
expect_match "the output is one JWT" "$TOKEN" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'
header=$(jwt_part "$TOKEN" 1)
claims=$(jwt_part "$TOKEN" 2)
expect_eq "signed with ES256" "ES256" "$(jq -r .alg <<<"$header")"
sa_uid=$(k get serviceaccount default -o jsonpath='{.metadata.uid}')
expect_eq "sub names the service account" "system:serviceaccount:default:default" "$(jq -r .sub <<<"$claims")"
expect_eq "iss is the cluster's issuer" "https://kubernetes.default.svc.cluster.local" "$(jq -r .iss <<<"$claims")"
expect_eq "aud defaults to the API audience" '["https://kubernetes.default.svc.cluster.local"]' "$(jq -c .aud <<<"$claims")"
expect_eq "lifetime defaults to one hour" "3600" "$(jq '.exp - .iat' <<<"$claims")"
expect_eq "kubernetes.io claim" "{\"namespace\":\"default\",\"serviceaccount\":{\"name\":\"default\",\"uid\":\"$sa_uid\"}}" \
  "$(jq -c '."kubernetes.io"' <<<"$claims")"
expect_match "jti is a UUID" "$(jq -r .jti <<<"$claims")" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'

# The signature verifies with the public half of DATA_DIR/tls/service-account.key, and the
# key id is Kubernetes': base64url(SHA-256(DER public key)).
openssl pkey -in "$E2E_DATA/tls/service-account.key" -pubout -out "$E2E_TMP/sa.pub" 2>/dev/null
kid=$(openssl pkey -pubin -in "$E2E_TMP/sa.pub" -outform DER | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
expect_eq "kid is the key's SHA-256" "$kid" "$(jq -r .kid <<<"$header")"
printf '%s' "$(cut -d. -f1,2 <<<"$TOKEN")" >"$E2E_TMP/signed"
sig_hex=$(jwt_part "$TOKEN" 3 | od -An -tx1 -v | tr -d ' \n')
printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${sig_hex:0:64}" "${sig_hex:64:64}" >"$E2E_TMP/sig.cnf"
openssl asn1parse -genconf "$E2E_TMP/sig.cnf" -out "$E2E_TMP/sig.der" >/dev/null
expect_ok "openssl verifies the ES256 signature" \
  openssl dgst -sha256 -verify "$E2E_TMP/sa.pub" -signature "$E2E_TMP/sig.der" "$E2E_TMP/signed"

# --- the token authenticates -------------------------------------------------------------------
expect_ok "auth whoami with the token" as_token "$TOKEN" auth whoami
expect_match "whoami: user name" "$OUT" '^Username +system:serviceaccount:default:default$'
expect_match "whoami: uid" "$OUT" "^UID +$sa_uid\$"
expect_match "whoami: groups" "$OUT" '^Groups +\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]$'
expect_match "whoami: credential id" "$OUT" "credential-id +\[JTI=$(jq -r .jti <<<"$claims")\]"
expect_ok "the token reads the API" as_token "$TOKEN" get configmap kube-root-ca.crt -o name
expect_eq "the read returns the object" "configmap/kube-root-ca.crt" "$OUT"
tampered="${TOKEN%.*}.$(cut -d. -f3 <<<"$TOKEN" | rev)"
expect_fail_contains "a tampered signature is refused" "Unauthorized" as_token "$tampered" get ns

# --- requests kubectl refuses with Kubernetes' messages ---------------------------------------
expect_fail_contains "lifetime below ten minutes" \
  'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes' \
  k create token default --duration=1m
expect_fail_contains "unknown service account" \
  'error: failed to create token: serviceaccounts "nobody" not found' k create token nobody
expect_ok "--duration=2h" k create token default --duration=2h
expect_eq "the lifetime asked for" "7200" "$(jwt_part "$OUT" 2 | jq '.exp - .iat')"

# --- audiences ---------------------------------------------------------------------------------
expect_ok "a token for another audience" k create token default --audience=vault
VAULT=$OUT
expect_eq "aud is the one asked for" '["vault"]' "$(jwt_part "$VAULT" 2 | jq -c .aud)"
expect_fail_contains "the API refuses a token not meant for it" "Unauthorized" as_token "$VAULT" get ns
review() { # review TOKEN AUDIENCES_JSON: POST a TokenReview, sets HTTP_CODE and BODY
  jq -n --arg t "$1" --argjson a "$2" \
    '{apiVersion:"authentication.k8s.io/v1",kind:"TokenReview",spec:{token:$t,audiences:$a}}' >"$E2E_TMP/review.json"
  api POST /apis/authentication.k8s.io/v1/tokenreviews "$E2E_TMP/review.json"
}
review "$VAULT" '["vault","other"]'
expect_eq "TokenReview answers 201" "201" "$HTTP_CODE"
expect_eq "TokenReview: authenticated for its audience" "true" "$(jq -r .status.authenticated <<<"$BODY")"
expect_eq "TokenReview: the audiences it is valid for" '["vault"]' "$(jq -c .status.audiences <<<"$BODY")"
expect_eq "TokenReview: the user" "system:serviceaccount:default:default" "$(jq -r .status.user.username <<<"$BODY")"
review "$VAULT" '[]'
expect_eq "TokenReview: not valid for the API audience" "null" "$(jq -r .status.authenticated <<<"$BODY")"
review "$TOKEN" '[]'
expect_eq "TokenReview: the default token is valid for the API" '["https://kubernetes.default.svc.cluster.local"]' \
  "$(jq -c .status.audiences <<<"$BODY")"

# --- bound tokens ------------------------------------------------------------------------------
k create secret generic bound-secret --from-literal=k=v >/dev/null
expect_ok "a token bound to a Secret" k create token default --bound-object-kind=Secret --bound-object-name=bound-secret
SECRET_TOKEN=$OUT
secret_uid=$(k get secret bound-secret -o jsonpath='{.metadata.uid}')
expect_eq "the secret is in the claims" "{\"name\":\"bound-secret\",\"uid\":\"$secret_uid\"}" \
  "$(jwt_part "$SECRET_TOKEN" 2 | jq -c '."kubernetes.io".secret')"
expect_ok "the bound token works while the secret exists" as_token "$SECRET_TOKEN" get ns default -o name
k delete secret bound-secret >/dev/null
wait_for "deleting the secret invalidates the token" 10 \
  bash -c '! "$0" --kubeconfig=/dev/null --server="$1" --certificate-authority="$2" --token="$3" get ns default' \
  "$KUBECTL" "$E2E_SERVER" "$E2E_CA" "$SECRET_TOKEN"

cat >"$E2E_TMP/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: bound-pod}
spec:
  containers: [{name: c, image: busybox}]
EOF
k create -f "$E2E_TMP/pod.yaml" >/dev/null
expect_ok "a token bound to a Pod" k create token default --bound-object-kind=Pod --bound-object-name=bound-pod
POD_TOKEN=$OUT
expect_ok "whoami with the pod's token" as_token "$POD_TOKEN" auth whoami
expect_match "whoami: the pod's name" "$OUT" 'authentication.kubernetes.io/pod-name +\[bound-pod\]'
k create serviceaccount robot >/dev/null
expect_fail_contains "a pod of another service account" \
  'cannot bind token for serviceaccount "robot" to pod running with serviceaccount "default"' \
  k create token robot --bound-object-kind=Pod --bound-object-name=bound-pod
expect_fail_contains "a missing pod" 'pods "no-such-pod" not found' \
  k create token default --bound-object-kind=Pod --bound-object-name=no-such-pod
cat >"$E2E_TMP/tr-cm.json" <<'EOF'
{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
 "spec":{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"kube-root-ca.crt"}}}
EOF
api POST /api/v1/namespaces/default/serviceaccounts/default/token "$E2E_TMP/tr-cm.json"
expect_eq "binding to a ConfigMap: 400" "400" "$HTTP_CODE"
expect_eq "binding to a ConfigMap: message" "cannot bind token to object of type /v1, Kind=ConfigMap" "$(jq -r .message <<<"$BODY")"
jq '.spec = {boundObjectRef:{kind:"Pod",apiVersion:"v1",name:"bound-pod",uid:"0000"}}' "$E2E_TMP/tr-cm.json" >"$E2E_TMP/tr-uid.json"
api POST /api/v1/namespaces/default/serviceaccounts/default/token "$E2E_TMP/tr-uid.json"
expect_eq "a stale uid in the reference: 409" "409" "$HTTP_CODE"
expect_contains "a stale uid: message" "$(jq -r .message <<<"$BODY")" \
  'the UID in the bound object reference (0000) does not match the UID in record'
jq '.metadata = {name:"other"}' "$E2E_TMP/tr-cm.json" | jq 'del(.spec)' >"$E2E_TMP/tr-name.json"
api POST /api/v1/namespaces/default/serviceaccounts/default/token "$E2E_TMP/tr-name.json"
expect_eq "a different name in the body: 422" "422" "$HTTP_CODE"
expect_eq "a different name: message" \
  'TokenRequest.authentication.k8s.io "default" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified' \
  "$(jq -r .message <<<"$BODY")"
api GET /api/v1/namespaces/default/serviceaccounts/default/token
expect_eq "GET on the token subresource: 405" "405" "$HTTP_CODE"
k delete pod bound-pod --grace-period=0 --force >/dev/null 2>&1
wait_for "deleting the pod invalidates its token" 10 \
  bash -c '! "$0" --kubeconfig=/dev/null --server="$1" --certificate-authority="$2" --token="$3" get ns default' \
  "$KUBECTL" "$E2E_SERVER" "$E2E_CA" "$POD_TOKEN"

# --- tokens outlive restarts, not their service account -----------------------------------------
restart_server
expect_ok "a token issued before the restart still works" as_token "$TOKEN" get ns default -o name
k create serviceaccount temp >/dev/null
expect_ok "a token for a new service account" k create token temp
TEMP_TOKEN=$OUT
expect_ok "it works" as_token "$TEMP_TOKEN" get ns default -o name
k delete serviceaccount temp >/dev/null
k create serviceaccount temp >/dev/null
wait_for "a recreated service account does not revive the old token" 10 \
  bash -c '! "$0" --kubeconfig=/dev/null --server="$1" --certificate-authority="$2" --token="$3" get ns default' \
  "$KUBECTL" "$E2E_SERVER" "$E2E_CA" "$TEMP_TOKEN"
review "$TEMP_TOKEN" '[]'
expect_contains "TokenReview says why" "$(jq -r .status.error <<<"$BODY")" "invalid bearer token"

echo "PASS tokens"
