#!/usr/bin/env bash
# Datastore snapshots: `skiff datastore snapshot save` while kubectl writes holds exactly the
# writes up to its revision; `restore` into a fresh data dir brings them back with the same
# uids and resourceVersions and refuses a non-empty target or a damaged file; and a snapshot
# migrates SQLite -> etcd -> SQLite keeping objects, uids and resourceVersion order.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

command -v etcd >/dev/null || fail "the etcd binary is not on PATH (Debian package etcd-server)"

start_server
NS=e2e-snap
expect_ok "create namespace $NS" k create namespace "$NS"

# Every acknowledged write, one line each: "<name> <resourceVersion> <uid>".
WRITES=$E2E_TMP/writes
: >"$WRITES"
for i in $(seq 1 10); do
  out=$(k create configmap "pre-$i" -n "$NS" --from-literal=i="$i" \
    -o jsonpath='{.metadata.name} {.metadata.resourceVersion} {.metadata.uid}')
  echo "$out" >>"$WRITES"
done
ok "10 configmaps created before the load"

# The write load: creates a ConfigMap and patches one of pre-1..10 per round, through
# kubectl, until told to stop. Each acknowledged write is appended to WRITES.
STOP=$E2E_TMP/stop-load
(
  i=0
  while [[ ! -e $STOP ]]; do
    i=$((i + 1))
    if out=$("$KUBECTL" create configmap "load-$i" -n "$NS" --from-literal=i="$i" \
      -o jsonpath='{.metadata.name} {.metadata.resourceVersion} {.metadata.uid}' 2>/dev/null); then
      echo "$out" >>"$WRITES"
    fi
    # kubectl label -o prints its local copy (the old resourceVersion); patch prints the server's.
    if out=$("$KUBECTL" patch configmap "pre-$((i % 10 + 1))" -n "$NS" --type=merge \
      -p "{\"metadata\":{\"labels\":{\"round\":\"$i\"}}}" -o jsonpath='{.metadata.name} {.metadata.resourceVersion} {.metadata.uid}' 2>/dev/null); then
      echo "$out" >>"$WRITES"
    fi
  done
) &
LOAD_PID=$!
track_bg "$LOAD_PID"
count_writes() { wc -l <"$WRITES"; }
wait_for "the write load is running" 60 bash -c "(( \$(wc -l <'$WRITES') >= 20 ))"

expect_ok "snapshot save while kubectl writes" \
  "$SKIFF_BIN" datastore snapshot save --data-dir "$E2E_DATA" "$E2E_TMP/live.snap"
SNAP_REV=$(sed -n 's/.*: revision \([0-9][0-9]*\), .*/\1/p' <<<"$OUT")
[[ "$SNAP_REV" =~ ^[0-9]+$ ]] || fail "save did not report the snapshot revision" "$OUT"
expect_match "save reports file, revision and key count" "$OUT" \
  "^Snapshot saved to .*live\.snap: revision $SNAP_REV, [0-9]+ keys \(from sqlite .*state\.db\)$"
after_save=$(count_writes)
wait_for "the load goes on after the snapshot" 60 bash -c "(( \$(wc -l <'$WRITES') >= $after_save + 10 ))"
touch "$STOP"
wait "$LOAD_PID" || true
ok "write load stopped after $(count_writes) writes"

# What the snapshot must hold: per object, its last write at or below SNAP_REV.
expected_at() { # REV -> "name rv uid" lines of the objects as of REV, sorted by name
  awk -v rev="$1" '$2 + 0 <= rev + 0 { if (!($1 in best) || $2 + 0 > best[$1] + 0) { best[$1] = $2; uid[$1] = $3 } }
    END { for (n in best) print n, best[n], uid[n] }' "$WRITES" | sort
}
EXPECTED=$(expected_at "$SNAP_REV")
before=$(awk -v rev="$SNAP_REV" '$2 + 0 <= rev + 0' "$WRITES" | grep -c '^load-' || true)
later=$(awk -v rev="$SNAP_REV" '$2 + 0 > rev + 0' "$WRITES" | wc -l)
((before > 0)) || fail "no load write landed before the snapshot revision $SNAP_REV"
((later > 0)) || fail "no write landed after the snapshot revision $SNAP_REV"
ok "$before load creates before revision $SNAP_REV and $later writes after it"

live_objects() { # "name rv uid" of the test's ConfigMaps on the running server, sorted
  k get configmaps -n "$NS" -o json |
    jq -r '.items[] | select(.metadata.name | test("^(pre|load)-")) |
      "\(.metadata.name) \(.metadata.resourceVersion) \(.metadata.uid)"' | sort
}

# --- refusals: a non-empty target, damaged files -------------------------------------------
expect_fail_contains "restore refuses the data dir of a running server" \
  "is in use by another store" "$SKIFF_BIN" datastore snapshot restore --data-dir "$E2E_DATA" "$E2E_TMP/live.snap"
size=$(stat -c %s "$E2E_TMP/live.snap")
head -c $((size - 10)) "$E2E_TMP/live.snap" >"$E2E_TMP/cut.snap"
expect_fail_contains "restore rejects a truncated snapshot" "truncated" \
  "$SKIFF_BIN" datastore snapshot restore --data-dir "$E2E_TMP/cut-data" "$E2E_TMP/cut.snap"
[[ ! -e "$E2E_TMP/cut-data/db/state.db" ]] || fail "a rejected snapshot left a datastore behind"
ok "nothing written from the truncated snapshot"
cp "$E2E_TMP/live.snap" "$E2E_TMP/bad.snap"
printf 'X' | dd of="$E2E_TMP/bad.snap" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_fail_contains "restore rejects a corrupted snapshot" "checksum mismatch" \
  "$SKIFF_BIN" datastore snapshot restore --data-dir "$E2E_TMP/bad-data" "$E2E_TMP/bad.snap"
stop_server
expect_fail_contains "restore refuses a data dir whose datastore is not empty" \
  "is not empty (it is at revision" "$SKIFF_BIN" datastore snapshot restore --data-dir "$E2E_DATA" "$E2E_TMP/live.snap"

# --- restore into a fresh data dir -----------------------------------------------------------
RESTORED=$E2E_TMP/restored
expect_ok "restore into a new data dir" \
  "$SKIFF_BIN" datastore snapshot restore --data-dir "$RESTORED" "$E2E_TMP/live.snap"
expect_match "restore reports keys and revisions" "$OUT" \
  "^Snapshot .*live\.snap restored into sqlite .*: [0-9]+ keys; snapshot revision $SNAP_REV, datastore revision $SNAP_REV$"
E2E_DATA=$RESTORED
start_server
expect_eq "restored server holds exactly the writes up to the snapshot revision, same uids and resourceVersions" \
  "$EXPECTED" "$(live_objects)"
out=$(k create configmap after-restore -n "$NS" -o jsonpath='{.metadata.resourceVersion}')
((out > SNAP_REV)) || fail "a write after the restore got resourceVersion $out, not above $SNAP_REV"
ok "writes after the restore continue above revision $SNAP_REV"
k delete configmap after-restore -n "$NS" >/dev/null
stop_server

# --- migration: SQLite -> etcd -> SQLite -------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CLIENT_PORT=$(free_port)
PEER_PORT=$(free_port)
ETCD_URL=http://127.0.0.1:$CLIENT_PORT
etcd --name=e2e --data-dir="$E2E_TMP/etcd" \
  --listen-client-urls="$ETCD_URL" --advertise-client-urls="$ETCD_URL" \
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-cluster="e2e=http://127.0.0.1:$PEER_PORT" --initial-cluster-state=new \
  --logger=zap --log-outputs="$E2E_TMP/etcd.log" &
track_bg $!
wait_for "etcd is up on $ETCD_URL" 30 curl -sf "$ETCD_URL/health"

ENDPOINT=etcd://127.0.0.1:$CLIENT_PORT
expect_ok "restore the SQLite snapshot into etcd" \
  "$SKIFF_BIN" datastore snapshot restore --datastore-endpoint "$ENDPOINT" "$E2E_TMP/live.snap"
expect_contains "restore names the etcd target" "$OUT" "restored into etcd $ENDPOINT"
expect_fail_contains "restore refuses an etcd that is not empty" "not empty" \
  "$SKIFF_BIN" datastore snapshot restore --datastore-endpoint "$ENDPOINT" "$E2E_TMP/live.snap"
expect_ok "save a snapshot of etcd" \
  "$SKIFF_BIN" datastore snapshot save --datastore-endpoint "$ENDPOINT" "$E2E_TMP/etcd.snap"
expect_contains "save names the etcd source" "$OUT" "(from etcd $ENDPOINT)"
MIGRATED=$E2E_TMP/migrated
expect_ok "restore the etcd snapshot into a new data dir" \
  "$SKIFF_BIN" datastore snapshot restore --data-dir "$MIGRATED" "$E2E_TMP/etcd.snap"
E2E_DATA=$MIGRATED
start_server
MIGRATED_OBJECTS=$(live_objects)
expect_eq "same objects and uids after SQLite -> etcd -> SQLite" \
  "$(awk '{print $1, $3}' <<<"$EXPECTED")" "$(awk '{print $1, $3}' <<<"$MIGRATED_OBJECTS")"
expect_eq "same resourceVersion order after SQLite -> etcd -> SQLite" \
  "$(sort -k2,2n <<<"$EXPECTED" | awk '{print $1}')" \
  "$(sort -k2,2n <<<"$MIGRATED_OBJECTS" | awk '{print $1}')"
uid=$(k get namespace "$NS" -o jsonpath='{.metadata.uid}')
[[ -n "$uid" ]] || fail "namespace $NS is missing after the migration"
ok "namespace $NS migrated"
