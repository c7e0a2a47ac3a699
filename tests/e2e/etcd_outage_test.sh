#!/usr/bin/env bash
# etcd goes away under a running server: API requests fail promptly with a 503
# ServiceUnavailable (or Timeout) Status instead of hanging, /readyz reports not ready, and
# once etcd is back the server recovers by itself; a watch opened before the outage
# carries on without losing or repeating events.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_etcd_cluster outage 1
start_server --datastore-endpoint "etcd://${ETCD_CLIENT[outage-1]#http://}" --compaction-interval 0

NS=e2e-outage
expect_ok "create a namespace" k create namespace "$NS"
expect_ok "create a configmap" k create configmap before -n "$NS" --from-literal=k=v

WATCH_OUT=$E2E_TMP/watch.out
k get configmaps -n "$NS" -w --output-watch-events -o custom-columns=EVENT:.type,NAME:.object.metadata.name \
  >"$WATCH_OUT" 2>&1 &
track_bg $!
wait_for "the watch lists the existing configmap" 20 grep -Eq '^ADDED +before' "$WATCH_OUT"

stop_etcd outage-1

# timed CMD...: run CMD like run(), and set ELAPSED to its duration in whole seconds.
timed() {
  local t0=$SECONDS
  run "$@"
  ELAPSED=$((SECONDS - t0))
}

timed k get configmap before -n "$NS"
((RC != 0)) || fail "a GET fails while etcd is down" "stdout: $OUT"
expect_match "the GET says the service is unavailable" "$ERR" '\((ServiceUnavailable|Timeout)\)'
((ELAPSED <= 15)) || fail "the GET fails within 15s" "took ${ELAPSED}s"
ok "the GET failed within 15s (${ELAPSED}s): $ERR"

cat >"$E2E_TMP/during.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: during, namespace: $NS}
data: {k: v}
EOF
timed k create -f "$E2E_TMP/during.yaml"
((RC != 0)) || fail "a create fails while etcd is down" "stdout: $OUT"
expect_match "the create says the service is unavailable" "$ERR" '\((ServiceUnavailable|Timeout)\)'
((ELAPSED <= 15)) || fail "the create fails within 15s" "took ${ELAPSED}s"
ok "the create failed within 15s (${ELAPSED}s)"

api GET /api/v1/namespaces/$NS/configmaps
expect_match "a LIST answers 503 or 504" "$HTTP_CODE" '^50[34]$'
expect_match "with a Status naming the reason" "$(jq -r '.kind + " " + .reason' <<<"$BODY")" \
  '^Status (ServiceUnavailable|Timeout)$'

timed k get --raw /readyz
((RC != 0)) || fail "/readyz is not ok while etcd is down" "stdout: $OUT"
((ELAPSED <= 15)) || fail "/readyz answers within 15s" "took ${ELAPSED}s"
ok "/readyz reports not ready (${ELAPSED}s)"
anon_api GET /livez
expect_eq "/livez stays ok: the process is alive" "200" "$HTTP_CODE"

restart_etcd outage-1
wait_for "/readyz is ok again once etcd is back" 30 k get --raw /readyz
expect_ok "reads work again" k get configmap before -n "$NS"
expect_ok "writes work again" k create configmap after -n "$NS" --from-literal=k=v
wait_for "the watch opened before the outage sees the new object" 20 grep -Eq '^ADDED +after' "$WATCH_OUT"
expect_eq "the watch saw each object exactly once" "1 1" \
  "$(grep -Ec '^ADDED +before' "$WATCH_OUT") $(grep -Ec '^ADDED +after' "$WATCH_OUT")"
expect_no_match "the failed create never appears" "$(cat "$WATCH_OUT")" '^ADDED +during'
expect_ok "the watch is still running" kill -0 "${E2E_BG_PIDS[0]}"

# --- the history the server needs is compacted while it cannot reach etcd ---------------------
# etcd goes down; the server is frozen so that it cannot reconnect; etcd comes back, gets
# writes the server never sees and is compacted past them. When the server runs again its
# store watch cannot resume: watchers are ended with 410 and the caches re-list.
old_rv=$(k get --raw "/api/v1/namespaces/$NS/configmaps" | jq -r .metadata.resourceVersion)
WATCH2=$E2E_TMP/watch2.out
k get configmaps -n "$NS" -w --output-watch-events -o custom-columns=EVENT:.type,NAME:.object.metadata.name \
  >"$WATCH2" 2>&1 &
watch2=$!
track_bg "$watch2"
wait_for "a second watch lists the configmaps" 20 grep -Eq '^ADDED +after' "$WATCH2"
stop_etcd outage-1
kill -STOP "$SERVER_PID"
restart_etcd outage-1
EP=${ETCD_CLIENT[outage-1]}
for i in 1 2 3; do
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"unseen-%s","namespace":"%s","uid":"unseen-uid-%s"},"data":{"k":"v"}}' \
    "$i" "$NS" "$i" | ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$EP" put "/registry/configmaps/$NS/unseen-$i" >/dev/null
done
rev=$(ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$EP" endpoint status -w json | jq -r '.[0].Status.header.revision')
ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$EP" compact "$rev" >/dev/null
ok "three writes the server did not see, then compaction to revision $rev"
kill -CONT "$SERVER_PID"
wait_for "the watches opened before are ended" 20 bash -c "! kill -0 $watch2 2>/dev/null"
expect_match "with an ERROR event" "$(cat "$WATCH2")" '^ERROR'
wait_for "the server re-synchronises by itself" 20 grep -q 're-synchronised' "$E2E_LOG"
wait_for "/readyz is ok after the re-list" 20 k get --raw /readyz
expect_eq "the writes made behind its back are served" "unseen-1 unseen-2 unseen-3" \
  "$(k get configmaps -n "$NS" -o name | sed -n 's|^configmap/||p' | grep unseen | tr '\n' ' ' | sed 's/ $//')"
api GET "/api/v1/namespaces/$NS/configmaps?watch=true&resourceVersion=$old_rv&timeoutSeconds=2"
expect_contains "a watch from before the re-list is told to re-list" "$BODY" '"code":410'
expect_ok "writes work after the re-list" k create configmap after-relist -n "$NS"
expect_eq "and are listed" "after-relist" "$(k get configmap after-relist -n "$NS" -o jsonpath='{.metadata.name}')"

# --- etcd hangs (accepts connections, never answers) -------------------------------------------
# Requests end at the etcd request deadline (5 s) with a Timeout Status, not later.
kill -STOP "${ETCD_PIDS[outage-1]}"
ok "etcd frozen with SIGSTOP"
timed k get configmap after-relist -n "$NS"
((RC != 0)) || fail "a GET fails while etcd hangs" "stdout: $OUT"
expect_match "the GET reports a timeout" "$ERR" '\((Timeout|ServiceUnavailable)\)'
((ELAPSED <= 10)) || fail "the GET fails within 10s" "took ${ELAPSED}s"
ok "the GET failed within 10s (${ELAPSED}s)"
cat >"$E2E_TMP/hung.yaml" <<EOF2
apiVersion: v1
kind: ConfigMap
metadata: {name: hung, namespace: $NS}
EOF2
timed k create -f "$E2E_TMP/hung.yaml"
((RC != 0)) || fail "a create fails while etcd hangs" "stdout: $OUT"
expect_match "the create reports a timeout" "$ERR" '\((Timeout|ServiceUnavailable)\)'
((ELAPSED <= 10)) || fail "the create fails within 10s" "took ${ELAPSED}s"
ok "the create failed within 10s (${ELAPSED}s)"
kill -CONT "${ETCD_PIDS[outage-1]}"
ok "etcd thawed"
wait_for "/readyz is ok again" 30 k get --raw /readyz
expect_ok "writes work again" k create configmap after-hang -n "$NS"
