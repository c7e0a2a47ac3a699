#!/usr/bin/env bash
# --datastore-endpoint-events: core/v1 Events live in a second etcd, everything else in
# the first. Reads, lists, watches and resourceVersions of Events come from the events
# etcd, whose revisions have nothing to do with the main one's.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_etcd_cluster main 1
start_etcd_cluster events 1
MAIN=${ETCD_CLIENT[main-1]}
EVENTS=${ETCD_CLIENT[events-1]}
start_server --datastore-endpoint "etcd://${MAIN#http://}" --datastore-endpoint-events "etcd://${EVENTS#http://}"

ectl() { ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$1" "${@:2}"; }
revision_of() { ectl "$1" endpoint status -w json | jq -r '.[0].Status.header.revision'; }

NS=e2e-events
expect_ok "create a namespace" k create namespace "$NS"
# Many writes to the main etcd, so that its revisions are far ahead of the events etcd's.
for i in 1 2 3 4 5 6 7 8 9 10; do k create configmap "cm-$i" -n "$NS" >/dev/null; done
ok "ten configmaps created"

WATCH_OUT=$E2E_TMP/watch.out
k get events -n "$NS" -w --output-watch-events -o custom-columns=EVENT:.type,NAME:.object.metadata.name,REASON:.object.reason \
  >"$WATCH_OUT" 2>&1 &
track_bg $!
sleep 1

cat >"$E2E_TMP/event.yaml" <<EOF
apiVersion: v1
kind: Event
metadata: {name: hello.1, namespace: $NS}
involvedObject: {kind: ConfigMap, name: cm-1, namespace: $NS, apiVersion: v1}
reason: Tested
message: an event in the events etcd
type: Normal
EOF
expect_ok "create an Event" k create -f "$E2E_TMP/event.yaml" -o jsonpath='{.metadata.resourceVersion}'
event_rv=$OUT
expect_contains "the Event is in the events etcd" \
  "$(ectl "$EVENTS" get "/registry/events/$NS/hello.1" --print-value-only)" '"reason":"Tested"'
expect_eq "and not in the main etcd" "" \
  "$(ectl "$MAIN" get --prefix /registry/events/ --keys-only)"
expect_contains "configmaps are in the main etcd" \
  "$(ectl "$MAIN" get "/registry/configmaps/$NS/cm-1" --print-value-only)" '"name":"cm-1"'
expect_eq "the Event's resourceVersion is a revision of the events etcd" \
  "$(ectl "$EVENTS" get "/registry/events/$NS/hello.1" -w json | jq -r '.kvs[0].mod_revision')" "$event_rv"
main_rev=$(revision_of "$MAIN")
events_rev=$(revision_of "$EVENTS")
((main_rev > events_rev)) || fail "the two clusters' revisions differ" "main=$main_rev events=$events_rev"
ok "the two clusters count revisions apart (main $main_rev, events $events_rev)"

expect_eq "kubectl get events shows it" "Tested" \
  "$(k get events -n "$NS" -o jsonpath='{.items[*].reason}')"
list_rv=$(k get --raw "/api/v1/namespaces/$NS/events" | jq -r .metadata.resourceVersion)
expect_eq "an Event list carries the events etcd's revision" "$events_rev" "$list_rv"
cm_list_rv=$(k get --raw "/api/v1/namespaces/$NS/configmaps" | jq -r .metadata.resourceVersion)
((cm_list_rv >= main_rev)) || fail "a ConfigMap list carries the main etcd's revision" "list=$cm_list_rv main=$main_rev"
ok "a ConfigMap list carries the main etcd's revision ($cm_list_rv)"
wait_for "the events watch shows the Event" 20 grep -Eq '^ADDED +hello.1 +Tested' "$WATCH_OUT"

# A watch from the Event list's resourceVersion is served from the events cache.
api GET "/api/v1/namespaces/$NS/events?watch=true&resourceVersion=$list_rv&timeoutSeconds=3"
expect_eq "a watch from the events revision is accepted" "200" "$HTTP_CODE"
expect_not_contains "and is not told its revision is too old" "$BODY" '"code":410'

expect_ok "update the Event" k patch event hello.1 -n "$NS" --type=merge -p '{"message":"changed"}'
wait_for "the events watch shows the update" 20 grep -Eq '^MODIFIED +hello.1' "$WATCH_OUT"
expect_ok "delete the Event" k delete event hello.1 -n "$NS"
wait_for "the events watch shows the deletion" 20 grep -Eq '^DELETED +hello.1' "$WATCH_OUT"
expect_eq "it is gone from the events etcd" "" \
  "$(ectl "$EVENTS" get --prefix /registry/events/ --keys-only)"

restart_server
expect_ok "configmaps survive a restart" k get configmap cm-10 -n "$NS"
expect_ok "events are written after a restart" k create -f "$E2E_TMP/event.yaml"
expect_eq "and read back" "Tested" "$(k get event hello.1 -n "$NS" -o jsonpath='{.reason}')"
