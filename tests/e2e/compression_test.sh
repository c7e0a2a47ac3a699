#!/usr/bin/env bash
# Large answers go gzip-compressed to clients that accept gzip (as kube-apiserver compresses
# answers of 128 KiB or more); small ones and clients that do not ask get plain bodies.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

# fetch PATH [CURL-ARGS...]: GET as the admin; sets HEADERS and writes the raw body to $E2E_TMP/body.
fetch() {
  local path=$1
  shift
  curl -sS --cacert "$E2E_CA" --cert "$E2E_CERT" --key "$E2E_KEY" -D "$E2E_TMP/headers" \
    -o "$E2E_TMP/body" "$@" "$E2E_SERVER$path"
  HEADERS=$(tr -d '\r' <"$E2E_TMP/headers")
}

# --- documents -----------------------------------------------------------------------------
for doc in /openapi/v2 /openapi/v3/apis/apps/v1; do
  fetch "$doc"
  expect_no_match "$doc: plain without Accept-Encoding" "$HEADERS" '^Content-Encoding:'
  cp "$E2E_TMP/body" "$E2E_TMP/plain"
  fetch "$doc" -H 'Accept-Encoding: gzip'
  expect_match "$doc: gzip when accepted" "$HEADERS" '^Content-Encoding: gzip$'
  expect_match "$doc: Vary names Accept-Encoding" "$HEADERS" '^Vary: Accept-Encoding$'
  plain_size=$(stat -c %s "$E2E_TMP/plain")
  gz_size=$(stat -c %s "$E2E_TMP/body")
  ((gz_size * 4 < plain_size)) || fail "$doc: the compressed body ($gz_size bytes) is not much smaller than $plain_size"
  ok "$doc: $plain_size bytes, $gz_size compressed"
  expect_ok "$doc: the compressed body is the document" cmp <(gunzip -c "$E2E_TMP/body") "$E2E_TMP/plain"
  fetch "$doc" -H 'Accept-Encoding: gzip;q=0, identity'
  expect_no_match "$doc: gzip;q=0 is a refusal" "$HEADERS" '^Content-Encoding:'
done
fetch /api/v1 -H 'Accept-Encoding: gzip'
expect_no_match "a small document stays plain" "$HEADERS" '^Content-Encoding:'

# --- lists ---------------------------------------------------------------------------------
NS=e2e-gzip
k create namespace "$NS" >/dev/null
bulk_create_configmaps "$NS" cm 800 app gzip "$E2E_TMP/created"
expect_eq "800 configmaps created" "800" "$(grep -c '^201 ' "$E2E_TMP/created")"
fetch "/api/v1/namespaces/$NS/configmaps" -H 'Accept-Encoding: gzip'
expect_match "a large LIST is compressed" "$HEADERS" '^Content-Encoding: gzip$'
# (The namespace also gets its kube-root-ca.crt ConfigMap: count ours only.)
count_ours='[.items[] | select(.metadata.name | startswith("cm-"))] | length'
expect_eq "the compressed LIST holds every item" "800" "$(gunzip -c "$E2E_TMP/body" | jq "$count_ours")"
fetch "/api/v1/namespaces/$NS/configmaps?limit=10" -H 'Accept-Encoding: gzip'
expect_no_match "a small page stays plain" "$HEADERS" '^Content-Encoding:'
fetch "/api/v1/namespaces/$NS/configmaps"
expect_no_match "a client that does not ask gets plain JSON" "$HEADERS" '^Content-Encoding:'
expect_eq "the plain LIST holds every item" "800" "$(jq "$count_ours" "$E2E_TMP/body")"

# --- kubectl (its HTTP client asks for gzip and decompresses) ------------------------------
expect_ok "kubectl get over a compressed LIST" k get configmaps -n "$NS" -o name
expect_eq "kubectl sees every configmap" "800" "$(grep -c '^configmap/cm-' <<<"$OUT")"
expect_ok "kubectl get -v=8 shows the compressed answer" k get --raw /openapi/v2 -v=8
expect_match "the answer varied on Accept-Encoding" "$ERR" 'Vary: Accept-Encoding'
expect_ok "kubectl explain reads the compressed OpenAPI" k explain deployment.spec.strategy
expect_contains "explain shows the field" "$OUT" "rollingUpdate"
expect_ok "kubectl api-resources" k api-resources --cache-dir "$E2E_TMP/kube-cache"
expect_match "api-resources lists deployments" "$OUT" '^deployments +deploy +apps/v1 +true +Deployment$'

echo "PASS compression"
