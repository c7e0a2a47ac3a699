#!/usr/bin/env bash
# Scheduled datastore snapshots: `skiff server --snapshot-schedule` writes
# skiff-snapshot-<node>-<unix time> files that restore, and keeps only the newest
# --snapshot-retention of this node's snapshots.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

NODE=$(hostname)
SNAPS=$E2E_TMP/snapshots
mkdir -p "$SNAPS"
# Older snapshots of this node (they are pruned by name, never read) and one of another node.
echo old >"$SNAPS/skiff-snapshot-$NODE-1000"
echo old >"$SNAPS/skiff-snapshot-$NODE-2000"
echo other >"$SNAPS/skiff-snapshot-othernode-500"

expect_fail_contains "a malformed schedule is refused" 'invalid cron minute field "61"' \
  "$SKIFF_BIN" server --data-dir "$E2E_TMP/bad" --secure-port 0 --bind-address 127.0.0.1 \
  --disable-agent --snapshot-schedule "61 * * * *"
expect_fail_contains "a retention below 1 is refused" "--snapshot-retention must be at least 1" \
  "$SKIFF_BIN" server --data-dir "$E2E_TMP/bad" --secure-port 0 --bind-address 127.0.0.1 \
  --disable-agent --snapshot-schedule "@hourly" --snapshot-retention 0

start_server --snapshot-schedule "* * * * *" --snapshot-retention 2 --snapshot-dir "$SNAPS"
expect_ok "create a configmap" k create configmap scheduled -n default --from-literal=a=b

new_snapshots() { find "$SNAPS" -maxdepth 1 -regextype egrep -regex ".*/skiff-snapshot-$NODE-[0-9]{10}" | sort; }
deadline=$((SECONDS + 75))
while [[ -z "$(new_snapshots)" ]]; do
  ((SECONDS < deadline)) || fail "no scheduled snapshot in $SNAPS" "$(ls -la "$SNAPS")"
  _check_server_alive
  sleep 0.5
done
SNAP=$(new_snapshots | tail -n 1)
ok "scheduled snapshot $SNAP"
wait_for "the oldest snapshot of this node is pruned" 10 test ! -e "$SNAPS/skiff-snapshot-$NODE-1000"
expect_eq "retention keeps the newest two of this node" \
  "$(printf '%s\n' "$SNAPS/skiff-snapshot-$NODE-2000" "$SNAP" | sort)" \
  "$(find "$SNAPS" -maxdepth 1 -name "skiff-snapshot-$NODE-*" | sort)"
[[ -e "$SNAPS/skiff-snapshot-othernode-500" ]] || fail "another node's snapshot was pruned"
ok "other nodes' snapshots are left alone"
expect_eq "no temporary files left" "" "$(find "$SNAPS" -name '.*')"

expect_ok "the scheduled snapshot restores" \
  "$SKIFF_BIN" datastore snapshot restore --data-dir "$E2E_TMP/restored" "$SNAP"
stop_server
E2E_DATA=$E2E_TMP/restored
start_server
expect_eq "the restored datastore has the configmap" "b" \
  "$(k get configmap scheduled -n default -o jsonpath='{.data.a}')"
