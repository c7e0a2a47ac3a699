#!/usr/bin/env bash
# An etcd that speaks only TLS and requires client certificates: the server reaches it with
# --datastore-endpoint https://... and --datastore-cafile/--datastore-certfile/
# --datastore-keyfile, and refuses to start without a client certificate.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

PKI=$E2E_TMP/etcd-pki
mkdir -p "$PKI"
cd "$PKI"
openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -subj "/CN=etcd-ca" -days 1 -out ca.crt 2>/dev/null
issue() { # NAME EXTENSIONS
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$2" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
issue server $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth'
issue client $'extendedKeyUsage=clientAuth'
cd - >/dev/null
ok "a CA, an etcd serving certificate and a client certificate"

free_port
CLIENT="https://127.0.0.1:$FREE_PORT"
free_port
PEER="http://127.0.0.1:$FREE_PORT"
ETCD_CLIENT[tls-1]=$CLIENT
ETCD_ARGS[tls-1]="--name=tls-1 --data-dir=$E2E_TMP/etcd-tls-1
  --listen-client-urls=$CLIENT --advertise-client-urls=$CLIENT
  --listen-peer-urls=$PEER --initial-advertise-peer-urls=$PEER --initial-cluster=tls-1=$PEER
  --cert-file=$PKI/server.crt --key-file=$PKI/server.key --trusted-ca-file=$PKI/ca.crt
  --client-cert-auth --logger=zap --log-outputs=$E2E_TMP/etcd-tls-1.log"
_run_etcd tls-1
deadline=$((SECONDS + 30))
until ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$CLIENT" --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
  --key "$PKI/client.key" --dial-timeout=1s endpoint health >/dev/null 2>&1; do
  kill -0 "${ETCD_PIDS[tls-1]}" 2>/dev/null || fail "etcd exited" "$(tail -n 20 "$E2E_TMP/etcd-tls-1.log")"
  ((SECONDS < deadline)) || fail "etcd with TLS not healthy within 30s"
  sleep 0.1
done
ok "etcd serves TLS only, with client certificates required"

# Without a client certificate etcd refuses the connection: the server must not start.
t0=$SECONDS
run "$SKIFF_BIN" server --data-dir "$E2E_TMP/no-cert" --secure-port 0 --bind-address 127.0.0.1 \
  --disable-agent --datastore-endpoint "$CLIENT" --datastore-cafile "$PKI/ca.crt"
((RC != 0)) || fail "a server without an etcd client certificate does not start"
((SECONDS - t0 <= 20)) || fail "it gives up within 20s" "took $((SECONDS - t0))s"
expect_contains "it says it cannot reach etcd" "$OUT$ERR" "ServiceUnavailable"

start_server --datastore-endpoint "$CLIENT" --datastore-cafile "$PKI/ca.crt" \
  --datastore-certfile "$PKI/client.crt" --datastore-keyfile "$PKI/client.key"
expect_ok "create a configmap" k create configmap over-tls --from-literal=k=v
expect_eq "read it back" "v" "$(k get configmap over-tls -o jsonpath='{.data.k}')"
expect_contains "it is stored in the TLS etcd" \
  "$(ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$CLIENT" --cacert "$PKI/ca.crt" --cert "$PKI/client.crt" \
    --key "$PKI/client.key" get /registry/configmaps/default/over-tls --print-value-only)" '"k":"v"'
restart_server
expect_eq "and survives a restart" "v" "$(k get configmap over-tls -o jsonpath='{.data.k}')"
