#!/usr/bin/env bash
# A highly available control plane: three skiff servers on one three-member etcd cluster.
# Every server serves every object; a watch on one sees writes made through another (all
# three compacting the same etcd every five seconds);
# Services created concurrently through different servers get distinct cluster IPs and
# node ports; losing a server or an etcd member changes nothing visible; a restarted
# member rejoins.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_etcd_cluster ha 3
ENDPOINTS=$(etcd_endpoints ha 3)
DATASTORE="etcd://$(sed 's|http://||g' <<<"$ENDPOINTS")"

declare -A PIDS=() KCFG=()

# start_ha_server NAME: a server with a data dir of its own on the shared etcd. Servers
# after the first get the first one's cluster CA (tls/ca.crt, tls/ca.key) and service account
# key (tls/service-account.key) copied into their data dir before their first start, so every
# server trusts the same client certificates and service account tokens.
start_ha_server() {
  local name=$1 dir=$E2E_TMP/$1
  mkdir -p "$dir/tls"
  chmod 700 "$dir/tls"
  if [[ "$name" != a ]]; then
    cp "$E2E_TMP/a/tls/ca.crt" "$E2E_TMP/a/tls/ca.key" "$E2E_TMP/a/tls/service-account.key" "$dir/tls/"
  fi
  "$SKIFF_BIN" server --data-dir "$dir" --secure-port 0 --bind-address 127.0.0.1 --disable-agent \
    --datastore-endpoint "$DATASTORE" --compaction-interval 5s >>"$E2E_TMP/server-$name.log" 2>&1 &
  PIDS[$name]=$!
  track_bg "${PIDS[$name]}"
  KCFG[$name]=$dir/admin.kubeconfig
  local deadline=$((SECONDS + E2E_START_TIMEOUT))
  until [[ -s "${KCFG[$name]}" ]] &&
    [[ "$("$KUBECTL" --kubeconfig "${KCFG[$name]}" get --raw /readyz --request-timeout=2s 2>/dev/null)" == ok ]]; do
    kill -0 "${PIDS[$name]}" 2>/dev/null ||
      fail "server $name exited" "$(tail -n 20 "$E2E_TMP/server-$name.log")"
    ((SECONDS < deadline)) || fail "server $name not ready within ${E2E_START_TIMEOUT}s"
    sleep 0.1
  done
  ok "server $name ready ($(grep -o 'port=[0-9]*' "$E2E_TMP/server-$name.log" | tail -n 1))"
}
ka() { "$KUBECTL" --kubeconfig "${KCFG[a]}" "$@"; }
kb() { "$KUBECTL" --kubeconfig "${KCFG[b]}" "$@"; }
kc() { "$KUBECTL" --kubeconfig "${KCFG[c]}" "$@"; }

start_ha_server a
start_ha_server b
start_ha_server c
expect_eq "the servers share one cluster CA" "$(cat "$E2E_TMP/a/tls/ca.crt")" "$(cat "$E2E_TMP/c/tls/ca.crt")"

wait_for "the default service account exists" 10 ka get serviceaccount default
expect_ok "a service account token from server a" ka create token default
SA_TOKEN=$OUT
server_c=$(kc config view --raw -o jsonpath='{.clusters[0].cluster.server}')
expect_ok "server c accepts it" "$KUBECTL" --kubeconfig=/dev/null --server="$server_c" \
  --certificate-authority="$E2E_TMP/c/tls/ca.crt" --token="$SA_TOKEN" get namespace default -o name

NS=e2e-ha
expect_ok "create a namespace through server a" ka create namespace "$NS"
expect_ok "create a configmap through server b" kb create configmap from-b -n "$NS" --from-literal=k=v
for s in a b c; do
  expect_eq "server $s serves the configmap written through b" "v" \
    "$("$KUBECTL" --kubeconfig "${KCFG[$s]}" get configmap from-b -n "$NS" -o jsonpath='{.data.k}')"
done
expect_eq "every server serves the same resourceVersion" \
  "$(ka get configmap from-b -n "$NS" -o jsonpath='{.metadata.resourceVersion}')" \
  "$(kc get configmap from-b -n "$NS" -o jsonpath='{.metadata.resourceVersion}')"
expect_eq "the kubernetes Service has the first service address" "10.43.0.1" \
  "$(kb get service kubernetes -n default -o jsonpath='{.spec.clusterIP}')"
expect_no_match "every server published its endpoint without error" \
  "$(cat "$E2E_TMP"/server-*.log)" 'not published'
expect_eq "the kubernetes Endpoints point at one of the servers" "1" \
  "$(kb get endpoints kubernetes -n default -o jsonpath='{.subsets[0].ports[0].port}' |
    grep -Fxc -f - <(grep -ho 'port=[0-9]*' "$E2E_TMP"/server-*.log | cut -d= -f2))"

# --- a watch on a sees writes made through c ----------------------------------------------
WATCH_OUT=$E2E_TMP/watch-a.out
ka get configmaps -n "$NS" -w --output-watch-events -o custom-columns=EVENT:.type,NAME:.object.metadata.name,V:.object.data.k \
  >"$WATCH_OUT" 2>&1 &
track_bg $!
wait_for "the watch on a lists the existing configmap" 20 grep -q 'from-b' "$WATCH_OUT"
expect_ok "create a configmap through c" kc create configmap from-c -n "$NS" --from-literal=k=one
wait_for "the watch on a shows ADDED from c" 20 grep -Eq '^ADDED +from-c +one' "$WATCH_OUT"
expect_ok "update it through b" kb patch configmap from-c -n "$NS" -p '{"data":{"k":"two"}}'
wait_for "the watch on a shows MODIFIED from b" 20 grep -Eq '^MODIFIED +from-c +two' "$WATCH_OUT"
expect_ok "delete it through c" kc delete configmap from-c -n "$NS"
wait_for "the watch on a shows DELETED from c" 20 grep -Eq '^DELETED +from-c' "$WATCH_OUT"

# --- concurrent Services through different servers ------------------------------------------
for s in a b c; do
  (
    for i in 1 2 3 4 5 6; do
      "$KUBECTL" --kubeconfig "${KCFG[$s]}" create service nodeport "svc-$s-$i" -n "$NS" --tcp=80:8080 \
        >/dev/null 2>>"$E2E_TMP/svc-$s.err" || echo "svc-$s-$i" >>"$E2E_TMP/svc-failed"
    done
  ) &
  svc_pids+=($!)
done
wait "${svc_pids[@]}"
[[ ! -s "$E2E_TMP/svc-failed" ]] || fail "every concurrent service create succeeds" \
  "$(cat "$E2E_TMP/svc-failed")" "$(cat "$E2E_TMP"/svc-*.err)"
ok "18 Services created concurrently through three servers"
SVCS=$(kc get services -n "$NS" -o json)
expect_eq "18 Services exist" "18" "$(jq '.items | length' <<<"$SVCS")"
expect_eq "their cluster IPs are distinct" "18" \
  "$(jq -r '.items[].spec.clusterIP' <<<"$SVCS" | sort -u | grep -c .)"
expect_eq "their node ports are distinct" "18" \
  "$(jq -r '.items[].spec.ports[].nodePort' <<<"$SVCS" | sort -u | grep -c .)"
jq -r '.items[].spec.ports[].nodePort' <<<"$SVCS" | while read -r p; do
  ((p >= 30000 && p <= 32767)) || { echo "$p"; exit 1; }
done || fail "node ports are in 30000-32767"
ok "node ports are in 30000-32767"
expect_fail_contains "a cluster IP taken through another server is refused" "provided IP is already allocated" \
  ka create service clusterip dup -n "$NS" --tcp=80 \
  --clusterip="$(jq -r '.items[] | select(.metadata.name=="svc-b-1") | .spec.clusterIP' <<<"$SVCS")"
# The allocation maps are stored in etcd, as Kubernetes stores them.
for key in /registry/ranges/serviceips /registry/ranges/servicenodeports; do
  expect_contains "etcd holds $key" \
    "$(ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$ENDPOINTS" get "$key" --print-value-only)" '"RangeAllocation"'
done

# --- losing a server ---------------------------------------------------------------------------
kill -KILL "${PIDS[b]}"
wait "${PIDS[b]}" 2>/dev/null || true
ok "server b killed with SIGKILL"
expect_ok "server a still serves" ka get configmap from-b -n "$NS"
expect_ok "server c still writes" kc create configmap after-b -n "$NS" --from-literal=k=v
expect_ok "server a reads it" ka get configmap after-b -n "$NS"

# --- losing an etcd member ------------------------------------------------------------------
# The first member is the one every server talks to first (and, started first, likely the
# leader): the servers must fail over to the others.
stop_etcd ha-1 KILL
# Killing the leader leaves the cluster without one for an election timeout; a write sent
# in that window may time out (as on Kubernetes), so the write is retried until it lands.
create_member_down() {
  kc create configmap member-down -n "$NS" --from-literal=k=down ||
    kc get configmap member-down -n "$NS"
}
wait_for "writes go on with one etcd member down" 30 create_member_down
wait_for "the watch on a shows it" 20 grep -Eq '^ADDED +member-down +down' "$WATCH_OUT"
expect_eq "reads go on with one etcd member down" "down" \
  "$(ka get configmap member-down -n "$NS" -o jsonpath='{.data.k}')"
expect_ok "a Service gets an address with one member down" ka create service clusterip one-down -n "$NS" --tcp=80
for s in a c; do
  expect_eq "server $s is ready with one member down" "ok" \
    "$("$KUBECTL" --kubeconfig "${KCFG[$s]}" get --raw /readyz)"
done

restart_etcd ha-1
got=$(ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "${ETCD_CLIENT[ha-1]}" get "/registry/configmaps/$NS/member-down" \
  --consistency=s --print-value-only | jq -r .data.k)
expect_eq "the restarted member has the write it missed" "down" "$got"
expect_ok "a write after the member rejoined" ka create configmap rejoined -n "$NS" --from-literal=k=v
expect_ok "server c reads it" kc get configmap rejoined -n "$NS"

# --- the lost server comes back ------------------------------------------------------------
start_ha_server b
expect_eq "the restarted server b serves what was written while it was down" "v" \
  "$(kb get configmap rejoined -n "$NS" -o jsonpath='{.data.k}')"
expect_eq "and the same list as a" "$(ka get configmaps -n "$NS" -o name | sort)" \
  "$(kb get configmaps -n "$NS" -o name | sort)"

# --- three servers compacted the same etcd all along ----------------------------------------
# The servers compact every five seconds: on a fast machine the test may get here sooner.
history_compacted() { # etcdctl fails on a compacted revision: read its words, not its status
  local out
  out=$(ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$ENDPOINTS" get /registry/ --prefix --keys-only --rev=2 2>&1 || true)
  [[ "$out" == *"required revision has been compacted"* ]]
}
wait_for "etcd history was compacted" 20 history_compacted
# (A compaction may fail while a member is down; the next interval tries again.)
expect_no_match "no server lost its store watch" "$(cat "$E2E_TMP"/server-*.log)" 'store watch on'
expect_eq "the watch on a is still open after all of it" "0" "$(grep -c '^ERROR' "$WATCH_OUT" || true)"
