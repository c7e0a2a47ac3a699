#!/usr/bin/env bash
# Catalogue part A: PersistentVolume, PersistentVolumeClaim, PodTemplate,
# ReplicationController, DaemonSet, StatefulSet, ControllerRevision, Job, CronJob,
# PodDisruptionBudget and PriorityClass: discovery, explain, the manifest corpus under
# tests/e2e/manifests, table columns, `get all`, defaults, immutable fields, scale, and
# the pods/binding, pods/eviction and namespaces/finalize subresources.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

MANIFESTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/manifests"
[[ -d "$MANIFESTS" ]] || MANIFESTS="$(dirname "$SKIFF_E2E_LIB")/manifests"
NS=cat-a
AGE='[0-9]+(s|m|h|d)([0-9]+s|[0-9]+m)?'

start_server
k create namespace "$NS" >/dev/null
ok "namespace $NS created"

# --- discovery: kubectl api-resources --------------------------------------------------
expect_ok "api-resources" k api-resources
for want in \
  "persistentvolumeclaims pvc v1 true PersistentVolumeClaim" \
  "persistentvolumes pv v1 false PersistentVolume" \
  "podtemplates v1 true PodTemplate" \
  "replicationcontrollers rc v1 true ReplicationController" \
  "controllerrevisions apps/v1 true ControllerRevision" \
  "daemonsets ds apps/v1 true DaemonSet" \
  "statefulsets sts apps/v1 true StatefulSet" \
  "cronjobs cj batch/v1 true CronJob" \
  "jobs batch/v1 true Job" \
  "poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget" \
  "priorityclasses pc scheduling.k8s.io/v1 false PriorityClass"; do
  expect_eq "api-resources lists: $want" "$want" "$(row "${want%% *}" "$OUT")"
done
expect_ok "api-resources -o wide" k api-resources -o wide
# kubectl 1.27 prints verbs and categories as [a b], newer ones as a,b.
ALL_VERBS="(\\[create delete deletecollection get list patch update watch\\]|create,delete,deletecollection,get,list,patch,update,watch)"
for res in persistentvolumeclaims persistentvolumes podtemplates replicationcontrollers \
  controllerrevisions daemonsets statefulsets cronjobs jobs poddisruptionbudgets priorityclasses; do
  expect_match "$res verbs" "$(row "$res" "$OUT")" " $ALL_VERBS( |\$)"
done
for res in replicationcontrollers daemonsets statefulsets cronjobs jobs; do
  expect_match "$res is in the all category" "$(row "$res" "$OUT")" "$ALL_VERBS \\[?all\\]?\$"
done
for res in persistentvolumes persistentvolumeclaims podtemplates controllerrevisions \
  poddisruptionbudgets priorityclasses; do
  expect_match "$res is in no category" "$(row "$res" "$OUT")" "$ALL_VERBS\$"
done
api GET /api/v1
expect_eq "pods/binding is served" "create" \
  "$(jq -r '.resources[] | select(.name=="pods/binding") | .verbs | join(",")' <<<"$BODY")"
expect_eq "pods/eviction is served (policy/v1 Eviction)" "policy v1 Eviction" \
  "$(jq -r '.resources[] | select(.name=="pods/eviction") | "\(.group) \(.version) \(.kind)"' <<<"$BODY")"
expect_eq "namespaces/finalize is served" "update" \
  "$(jq -r '.resources[] | select(.name=="namespaces/finalize") | .verbs | join(",")' <<<"$BODY")"
expect_eq "replicationcontrollers/scale is served" "autoscaling v1 Scale" \
  "$(jq -r '.resources[] | select(.name=="replicationcontrollers/scale") | "\(.group) \(.version) \(.kind)"' <<<"$BODY")"

# --- kubectl explain, down to nested fields ---------------------------------------------
for field in \
  "persistentvolumes.spec.nfs.server:<string>" \
  "persistentvolumeclaims.spec.resources.requests:<map[string]" \
  "podtemplates.template.spec.containers.image:<string>" \
  "replicationcontrollers.spec.selector:<map[string]string>" \
  "daemonsets.spec.updateStrategy.rollingUpdate.maxSurge:maxSurge" \
  "statefulsets.spec.persistentVolumeClaimRetentionPolicy.whenScaled:<string>" \
  "controllerrevisions.revision:<integer>" \
  "jobs.spec.podFailurePolicy.rules.onExitCodes.values:<[]integer>" \
  "cronjobs.spec.jobTemplate.spec.template.spec.containers.name:<string>" \
  "poddisruptionbudgets.spec.unhealthyPodEvictionPolicy:<string>" \
  "priorityclasses.preemptionPolicy:<string>"; do
  path=${field%%:*} type=${field#*:}
  expect_ok "explain $path" k explain "$path"
  expect_contains "explain $path shows its type" "$OUT" "$type"
done

# --- the manifest corpus ----------------------------------------------------------------
# The kinds of this part; other tests own the rest of the corpus.
for kind in persistentvolume persistentvolumeclaim podtemplate replicationcontroller \
  daemonset statefulset controllerrevision job cronjob poddisruptionbudget priorityclass; do
  dir="$MANIFESTS/$kind/"
  for f in "$dir"valid-*.yaml; do
    expect_ok "$kind: $(basename "$f") applies" k apply --validate=strict -n "$NS" -f "$f"
  done
  for f in "$dir"invalid-*.yaml; do
    want=$(sed -n 's/^# expect: //p' "$f" | head -n 1)
    [[ -n "$want" ]] || fail "$f has no '# expect:' line"
    expect_fail_contains "$kind: $(basename "$f") is rejected" "$want" \
      k apply --validate=strict -n "$NS" -f "$f"
  done
done

# --- table columns ----------------------------------------------------------------------
check_header() { # RESOURCE EXPECTED_HEADER EXPECTED_WIDE_HEADER [get args...]
  local res=$1 want=$2 wide=$3
  shift 3
  expect_ok "get $res" k get "$res" "$@"
  expect_eq "$res header" "$want" "$(header "$OUT")"
  expect_ok "get $res -o wide" k get "$res" -o wide "$@"
  expect_eq "$res wide header" "$wide" "$(header "$OUT")"
}
check_header persistentvolumes \
  "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE" \
  "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE VOLUMEMODE"
expect_match "pv row" "$(row task-pv-volume "$(k get pv)")" \
  "^task-pv-volume 10Gi RWO Retain Pending manual <unset> $AGE\$"
check_header persistentvolumeclaims \
  "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE" \
  "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE VOLUMEMODE" -n "$NS"
expect_match "pvc row" "$(row myclaim "$(k get pvc -n "$NS" -o wide)")" \
  "^myclaim Pending slow <unset> $AGE Filesystem\$"
check_header podtemplates "NAME CONTAINERS IMAGES POD LABELS" "NAME CONTAINERS IMAGES POD LABELS" -n "$NS"
expect_eq "podtemplate row" "nginx-template nginx nginx:1.14.2 app=nginx" \
  "$(row nginx-template "$(k get podtemplates -n "$NS")")"
check_header replicationcontrollers "NAME DESIRED CURRENT READY AGE" \
  "NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR" -n "$NS"
expect_match "rc wide row" "$(row nginx "$(k get rc -n "$NS" -o wide)")" \
  "^nginx 3 0 0 $AGE nginx nginx app=nginx\$"
check_header daemonsets "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE" \
  "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR" -n "$NS"
expect_match "ds row" "$(row fluentd-elasticsearch "$(k get ds -n "$NS")")" \
  "^fluentd-elasticsearch 0 0 0 0 0 <none> $AGE\$"
check_header statefulsets "NAME READY AGE" "NAME READY AGE CONTAINERS IMAGES" -n "$NS"
expect_match "sts wide row" "$(row web "$(k get sts -n "$NS" -o wide)")" \
  "^web 0/3 $AGE nginx registry.k8s.io/nginx-slim:0.24\$"
check_header controllerrevisions "NAME CONTROLLER REVISION AGE" "NAME CONTROLLER REVISION AGE" -n "$NS"
expect_match "controllerrevision row" "$(row web-7b8c9d "$(k get controllerrevisions -n "$NS")")" \
  "^web-7b8c9d <none> 1 $AGE\$"
check_header jobs "NAME STATUS COMPLETIONS DURATION AGE" \
  "NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR" -n "$NS"
expect_match "job row" "$(row pi "$(k get jobs -n "$NS")")" "^pi Running 0/1 $AGE\$"
expect_match "indexed job row" "$(row indexed-job "$(k get jobs -n "$NS")")" "^indexed-job Running 0/5 $AGE\$"
check_header cronjobs "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE" \
  "NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE CONTAINERS IMAGES SELECTOR" -n "$NS"
expect_match "cronjob row" "$(row hello "$(k get cj -n "$NS")")" "^hello \\* \\* \\* \\* \\* <none> False 0 <none> $AGE\$"
expect_match "cronjob row with a time zone" "$(row nightly "$(k get cj -n "$NS")")" \
  "^nightly @daily Etc/UTC False 0 <none> $AGE\$"
check_header poddisruptionbudgets "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE" \
  "NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE" -n "$NS"
expect_match "pdb row" "$(row zk-pdb "$(k get pdb -n "$NS")")" "^zk-pdb 2 N/A 0 $AGE\$"
expect_match "pdb row (maxUnavailable)" "$(row zk-pdb-max "$(k get pdb -n "$NS")")" "^zk-pdb-max N/A 1 0 $AGE\$"
check_header priorityclasses "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY" \
  "NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY"

# --- built-in priority classes ------------------------------------------------------------
expect_ok "get priorityclasses" k get pc
expect_match "system-cluster-critical exists" "$(row system-cluster-critical "$OUT")" \
  "^system-cluster-critical 2000000000 false $AGE PreemptLowerPriority\$"
expect_match "system-node-critical exists" "$(row system-node-critical "$OUT")" \
  "^system-node-critical 2000001000 false $AGE PreemptLowerPriority\$"
expect_match "user class row" "$(row high-priority-nonpreempting "$OUT")" \
  "^high-priority-nonpreempting 1000000 false $AGE Never\$"
expect_fail_contains "priority class value is immutable" \
  'value: Forbidden: may not be changed in an update.' \
  k patch pc high-priority --type=merge -p '{"value":5}'
expect_ok "a global default class" k create priorityclass default-a --value=10 --global-default
expect_fail_contains "only one global default class" \
  'priorityclasses.scheduling.k8s.io "default-b" is forbidden: PriorityClass default-a is already marked as default. Only one default can exist' \
  k create priorityclass default-b --value=10 --global-default
expect_fail_contains "... also on update" "PriorityClass default-a is already marked as default" \
  k patch pc high-priority --type=merge -p '{"globalDefault":true}'
# Priority admission: pods get their priority from their class or the global default.
pod_with_class() { # NAME CLASS
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  ${2:+priorityClassName: $2}
  containers:
  - name: c
    image: busybox
YAML
}
pod_with_class prio-high high-priority-nonpreempting >"$E2E_TMP/prio-high.yaml"
expect_ok "pod naming a class" k apply -n "$NS" -f "$E2E_TMP/prio-high.yaml"
expect_eq "pod priority from its class" "1000000 Never" \
  "$(k get pod prio-high -n "$NS" -o jsonpath='{.spec.priority} {.spec.preemptionPolicy}')"
pod_with_class prio-default "" >"$E2E_TMP/prio-default.yaml"
expect_ok "pod naming no class" k apply -n "$NS" -f "$E2E_TMP/prio-default.yaml"
expect_eq "pod priority from the global default class" "default-a 10 PreemptLowerPriority" \
  "$(k get pod prio-default -n "$NS" -o jsonpath='{.spec.priorityClassName} {.spec.priority} {.spec.preemptionPolicy}')"
pod_with_class prio-missing nope >"$E2E_TMP/prio-missing.yaml"
expect_fail_contains "pod naming a missing class" \
  'pods "prio-missing" is forbidden: no PriorityClass with name nope was found' \
  k apply -n "$NS" -f "$E2E_TMP/prio-missing.yaml"
k delete pod prio-high prio-default -n "$NS" >/dev/null
k delete pc default-a >/dev/null
ok "priority pods and the default class deleted"
restart_server
expect_ok "built-in classes survive a restart" k get pc system-node-critical system-cluster-critical

# --- get all ------------------------------------------------------------------------------
expect_ok "get all" k get all -n "$NS"
for name in replicationcontroller/nginx daemonset.apps/fluentd-elasticsearch statefulset.apps/web \
  job.batch/pi cronjob.batch/hello; do
  expect_contains "get all shows $name" "$OUT" "$name"
done
expect_not_contains "get all leaves out pdbs" "$OUT" "poddisruptionbudget"

# --- defaults -----------------------------------------------------------------------------
expect_ok "get job pi" k get job pi -n "$NS" -o json
JOB=$OUT
UID_=$(jq -r .metadata.uid <<<"$JOB")
expect_eq "job defaults" "1 1 4 NonIndexed false false TerminatingOrFailed" \
  "$(jq -r '.spec | "\(.completions) \(.parallelism) \(.backoffLimit) \(.completionMode) \(.suspend) \(.manualSelector) \(.podReplacementPolicy)"' <<<"$JOB")"
expect_eq "job selector is generated" "{\"batch.kubernetes.io/controller-uid\":\"$UID_\"}" \
  "$(jq -c .spec.selector.matchLabels <<<"$JOB")"
expect_eq "job template labels" \
  "{\"batch.kubernetes.io/controller-uid\":\"$UID_\",\"batch.kubernetes.io/job-name\":\"pi\",\"controller-uid\":\"$UID_\",\"job-name\":\"pi\"}" \
  "$(jq -cS .spec.template.metadata.labels <<<"$JOB")"
expect_eq "job generation and status" "1 {}" "$(jq -c '"\(.metadata.generation) \(.status)"' -r <<<"$JOB")"
expect_eq "indexed job backoffLimit default" "6" "$(k get job indexed-job -n "$NS" -o jsonpath='{.spec.backoffLimit}')"
expect_eq "cronjob defaults" "Allow false 3 1" \
  "$(k get cj hello -n "$NS" -o jsonpath='{.spec.concurrencyPolicy} {.spec.suspend} {.spec.successfulJobsHistoryLimit} {.spec.failedJobsHistoryLimit}')"
expect_eq "cronjob job template gets no Job defaults" "" \
  "$(k get cj hello -n "$NS" -o jsonpath='{.spec.jobTemplate.spec.backoffLimit}')"
expect_eq "daemonset defaults" "RollingUpdate 1 0 10" \
  "$(k get ds fluentd-elasticsearch -n "$NS" -o jsonpath='{.spec.updateStrategy.type} {.spec.updateStrategy.rollingUpdate.maxUnavailable} {.spec.updateStrategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit}')"
expect_ok "get sts web" k get sts web -n "$NS" -o json
expect_eq "statefulset defaults" 'OrderedReady RollingUpdate 0 Retain Retain 10' \
  "$(jq -r '.spec | "\(.podManagementPolicy) \(.updateStrategy.type) \(.updateStrategy.rollingUpdate.partition) \(.persistentVolumeClaimRetentionPolicy.whenDeleted) \(.persistentVolumeClaimRetentionPolicy.whenScaled) \(.revisionHistoryLimit)"' <<<"$OUT")"
expect_eq "claim templates are full PersistentVolumeClaims" 'v1 PersistentVolumeClaim Filesystem Pending' \
  "$(jq -r '.spec.volumeClaimTemplates[0] | "\(.apiVersion) \(.kind) \(.spec.volumeMode) \(.status.phase)"' <<<"$OUT")"
expect_eq "statefulset status" '{"availableReplicas":0,"replicas":0}' "$(jq -cS .status <<<"$OUT")"
expect_eq "rc labels and selector from the template" 'app=nginx {"app":"nginx"}' \
  "$(k get rc nginx -n "$NS" -o jsonpath='{.metadata.labels.app}' | sed 's/^/app=/') $(k get rc nginx -n "$NS" -o json | jq -c .spec.selector)"
expect_eq "pv defaults" "Retain Filesystem Pending" \
  "$(k get pv task-pv-volume -o jsonpath='{.spec.persistentVolumeReclaimPolicy} {.spec.volumeMode} {.status.phase}')"
expect_eq "pdb status" '{"currentHealthy":0,"desiredHealthy":0,"disruptionsAllowed":0,"expectedPods":0}' \
  "$(k get pdb zk-pdb -n "$NS" -o json | jq -cS .status)"

# --- typed kubectl create commands (protobuf bodies with kubectl 1.32+) ---------------------
expect_ok "kubectl create cronjob" k create cronjob typed-cj -n "$NS" --image=busybox --schedule="*/10 * * * *"
expect_eq "typed cronjob stored" "*/10 * * * * OnFailure" \
  "$(k get cj typed-cj -n "$NS" -o jsonpath='{.spec.schedule} {.spec.jobTemplate.spec.template.spec.restartPolicy}')"
expect_ok "kubectl create job --from=cronjob" k create job typed-job -n "$NS" --from=cronjob/typed-cj
expect_eq "job from a cronjob gets a generated selector" "true" \
  "$(k get job typed-job -n "$NS" -o json | jq '.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"] == .metadata.uid')"
expect_ok "kubectl create pdb" k create pdb typed-pdb -n "$NS" --selector=app=typed --max-unavailable=25%
expect_match "typed pdb row" "$(row typed-pdb "$(k get pdb -n "$NS")")" "^typed-pdb N/A 25% 0 $AGE\$"
expect_ok "kubectl create priorityclass" k create priorityclass typed-pc --value=42 --description=typed \
  --preemption-policy=Never
expect_match "typed priorityclass row" "$(row typed-pc "$(k get pc)")" "^typed-pc 42 false $AGE Never\$"
expect_fail_contains "kubectl create cronjob with a bad schedule" \
  'spec.schedule: Invalid value: "0 0 32 * *": end of range (32) above maximum (31): 32' \
  k create cronjob bad-typed -n "$NS" --image=busybox --schedule="0 0 32 * *"

# --- immutable fields ---------------------------------------------------------------------
expect_fail_contains "statefulset volumeClaimTemplates cannot change" \
  "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" \
  k patch sts web -n "$NS" --type=json -p '[{"op":"replace","path":"/spec/serviceName","value":"other"}]'
expect_ok "statefulset template can change" k patch sts web -n "$NS" --type=json \
  -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.25"}]'
expect_eq "statefulset generation bumped" "2" "$(k get sts web -n "$NS" -o jsonpath='{.metadata.generation}')"
expect_fail_contains "daemonset selector is immutable" "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"name\":\"other\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable" \
  k patch ds fluentd-elasticsearch -n "$NS" --type=merge \
  -p '{"spec":{"selector":{"matchLabels":{"name":"other"}},"template":{"metadata":{"labels":{"name":"other"}}}}}'
expect_fail_contains "job template is immutable" "field is immutable" \
  k patch job pi -n "$NS" --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"perl:5.36"}]'
expect_contains "job template error names the field" "$ERR" "spec.template: Invalid value:"
expect_fail_contains "job completions are immutable" "spec.completions: Invalid value: 3: field is immutable" \
  k patch job pi -n "$NS" --type=merge -p '{"spec":{"completions":3}}'
cat >"$E2E_TMP/suspended.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: suspended
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: w
        image: busybox
YAML
expect_ok "create a suspended job" k apply -n "$NS" -f "$E2E_TMP/suspended.yaml"
expect_ok "a suspended job that never started may change its node selector" \
  k patch job suspended -n "$NS" --type=merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"disk":"ssd"}}}}}'
expect_fail_contains "... but not its containers" "field is immutable" \
  k patch job suspended -n "$NS" --type=json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"busybox:2"}]'
expect_fail_contains "an invalid schedule update is refused" \
  'spec.schedule: Invalid value: "*/0 * * * *": step of range should be a positive number: */0' \
  k patch cj hello -n "$NS" --type=merge -p '{"spec":{"schedule":"*/0 * * * *"}}'
expect_fail_contains "a pending claim cannot grow" \
  "spec: Forbidden: spec is immutable after creation except resources.requests for bound claims" \
  k patch pvc task-pv-claim -n "$NS" --type=merge -p '{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}'
expect_ok "mark the claim bound" k patch pvc task-pv-claim -n "$NS" --subresource=status --type=merge \
  -p '{"status":{"phase":"Bound","capacity":{"storage":"3Gi"}}}'
expect_ok "a bound claim can grow" k patch pvc task-pv-claim -n "$NS" --type=merge \
  -p '{"spec":{"resources":{"requests":{"storage":"5Gi"}}}}'
expect_fail_contains "a bound claim cannot shrink below its capacity" \
  "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity" \
  k patch pvc task-pv-claim -n "$NS" --type=merge -p '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'
expect_fail_contains "a bound claim keeps its access modes" "spec is immutable after creation" \
  k patch pvc task-pv-claim -n "$NS" --type=merge -p '{"spec":{"accessModes":["ReadWriteMany"]}}'
expect_fail_contains "a volume's source is immutable" \
  "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation" \
  k patch pv task-pv-volume --type=merge -p '{"spec":{"hostPath":{"path":"/mnt/other"}}}'
expect_ok "a volume's reclaim policy may change" k patch pv task-pv-volume --type=merge \
  -p '{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}'

# --- scale ------------------------------------------------------------------------------------
expect_ok "scale rc" k scale rc nginx -n "$NS" --replicas=5
expect_eq "rc scaled" "5" "$(k get rc nginx -n "$NS" -o jsonpath='{.spec.replicas}')"
api GET "/api/v1/namespaces/$NS/replicationcontrollers/nginx/scale"
expect_eq "rc scale selector" "200 5 app=nginx" "$HTTP_CODE $(jq -r '"\(.spec.replicas) \(.status.selector)"' <<<"$BODY")"
expect_ok "scale sts" k scale sts web -n "$NS" --replicas=1
expect_eq "sts scaled" "1" "$(k get sts web -n "$NS" -o jsonpath='{.spec.replicas}')"

# --- pods/binding -------------------------------------------------------------------------
k run bind-me -n "$NS" --image=nginx --restart=Never >/dev/null
ok "pod bind-me created"
cat >"$E2E_TMP/binding.json" <<JSON
{"apiVersion":"v1","kind":"Binding","metadata":{"name":"bind-me"},"target":{"apiVersion":"v1","kind":"Node","name":"node-1"}}
JSON
api POST "/api/v1/namespaces/$NS/pods/bind-me/binding" "$E2E_TMP/binding.json"
expect_eq "binding answers 201 Success" "201 Success" "$HTTP_CODE $(jq -r .status <<<"$BODY")"
expect_eq "binding set spec.nodeName" "node-1" "$(k get pod bind-me -n "$NS" -o jsonpath='{.spec.nodeName}')"
expect_eq "binding set PodScheduled" "True" \
  "$(k get pod bind-me -n "$NS" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}')"
api POST "/api/v1/namespaces/$NS/pods/bind-me/binding" "$E2E_TMP/binding.json"
expect_eq "a second binding is a conflict" "409 Conflict" "$HTTP_CODE $(jq -r .reason <<<"$BODY")"
expect_eq "conflict message" "Operation cannot be fulfilled on pods/binding \"bind-me\": pod bind-me is already assigned to node \"node-1\"" \
  "$(jq -r .message <<<"$BODY")"
api POST "/api/v1/namespaces/$NS/pods/nobody/binding" "$E2E_TMP/binding.json"
expect_eq "binding names the pod of the URL" "400" "$HTTP_CODE"

# kubectl drain evicts the pods bound to a node through pods/eviction.
cat >"$E2E_TMP/node.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: node-1
YAML
expect_ok "create node node-1" k apply -f "$E2E_TMP/node.yaml"
expect_ok "kubectl drain evicts the pod bound to node-1" k drain node-1 --force --timeout=30s
expect_contains "drain reports the eviction" "$OUT" "pod/bind-me evicted"
wait_for "bind-me is gone" 10 bash -c "! '$KUBECTL' get pod bind-me -n '$NS' >/dev/null 2>&1"

# --- pods/eviction ----------------------------------------------------------------------------
evict() { # POD
  printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"%s"}}' "$1" "$NS" \
    >"$E2E_TMP/eviction.json"
  api POST "/api/v1/namespaces/$NS/pods/$1/eviction" "$E2E_TMP/eviction.json"
}
k run zk-0 -n "$NS" --image=busybox --restart=Never --labels=app=zookeeper >/dev/null
k run loner -n "$NS" --image=busybox --restart=Never >/dev/null
ok "pods zk-0 and loner created"
evict loner
expect_eq "evicting a pod no budget covers deletes it" "201" "$HTTP_CODE"
wait_for "loner is gone" 10 bash -c "! '$KUBECTL' get pod loner -n '$NS' >/dev/null 2>&1"
expect_ok "zk-0 runs" k patch pod zk-0 -n "$NS" --subresource=status --type=merge \
  -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}'
evict zk-0
expect_eq "two budgets covering one pod are refused" \
  "500 This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." \
  "$HTTP_CODE $(jq -r .message <<<"$BODY")"
k delete pdb zk-pdb-max -n "$NS" >/dev/null
ok "budget zk-pdb-max deleted"
evict zk-0
expect_eq "a budget not yet observed blocks the eviction" "429 TooManyRequests" "$HTTP_CODE $(jq -r .reason <<<"$BODY")"
expect_eq "not-yet-observed cause" "The disruption budget zk-pdb is still being processed by the server." \
  "$(jq -r '.details.causes[0].message' <<<"$BODY")"
expect_ok "the budget allows no disruption" k patch pdb zk-pdb -n "$NS" --subresource=status --type=merge \
  -p '{"status":{"observedGeneration":1,"disruptionsAllowed":0,"currentHealthy":1,"desiredHealthy":2,"expectedPods":1}}'
evict zk-0
expect_eq "eviction refused with 429" "429" "$HTTP_CODE"
expect_eq "eviction refusal message" "Cannot evict pod as it would violate the pod's disruption budget." \
  "$(jq -r .message <<<"$BODY")"
expect_eq "eviction refusal cause" "DisruptionBudget: The disruption budget zk-pdb needs 2 healthy pods and has 1 currently" \
  "$(jq -r '.details.causes[0] | "\(.reason): \(.message)"' <<<"$BODY")"
expect_ok "zk-0 is still there" k get pod zk-0 -n "$NS"
expect_ok "the budget allows one disruption" k patch pdb zk-pdb -n "$NS" --subresource=status --type=merge \
  -p '{"status":{"disruptionsAllowed":1,"currentHealthy":3,"desiredHealthy":2,"expectedPods":3}}'
evict zk-0
expect_eq "eviction allowed" "201 Success" "$HTTP_CODE $(jq -r .status <<<"$BODY")"
wait_for "zk-0 is gone" 10 bash -c "! '$KUBECTL' get pod zk-0 -n '$NS' >/dev/null 2>&1"
expect_ok "get pdb" k get pdb zk-pdb -n "$NS" -o json
expect_eq "the budget records the disruption" "0 true" \
  "$(jq -r '"\(.status.disruptionsAllowed) \(.status.disruptedPods | has("zk-0"))"' <<<"$OUT")"
evict nobody
expect_eq "evicting a missing pod is 404" "404" "$HTTP_CODE"

# --- namespaces/finalize ------------------------------------------------------------------------
k create namespace fin-me >/dev/null
cat >"$E2E_TMP/finalize.json" <<'JSON'
{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fin-me","labels":{"ignored":"yes"}},"spec":{"finalizers":["example.com/keep"]}}
JSON
api PUT /api/v1/namespaces/fin-me/finalize "$E2E_TMP/finalize.json"
expect_eq "finalize answers 200" "200" "$HTTP_CODE"
expect_eq "finalize replaced spec.finalizers" '["example.com/keep"]' \
  "$(k get ns fin-me -o json | jq -c .spec.finalizers)"
expect_eq "finalize changed nothing else" "" "$(k get ns fin-me -o jsonpath='{.metadata.labels.ignored}')"
api GET /api/v1/namespaces/fin-me/finalize
expect_eq "finalize accepts only PUT" "405" "$HTTP_CODE"
