#!/usr/bin/env bash
# The everyday kubectl commands: describe, label, annotate, patch, replace, edit, scale,
# delete, create *, expose, explain, api-resources, api-versions, version, auth whoami.
source "${SKIFF_E2E_LIB:-$(dirname "$0")/lib.sh}"

start_server

NS=e2e-cmd
# Deleted objects are reported as `kind "name" deleted`; newer kubectl add " from NS namespace".
deleted_re() { echo "^$1 \"$2\" deleted( from $NS namespace)?\$"; }

# `kubectl create deployment web --image=nginx:1.25` names its container after the image: nginx.
# --- create namespace / configmap / secrets / deployment ---------------------------------------
expect_ok "create namespace" k create namespace "$NS"
expect_eq "create namespace output" "namespace/$NS created" "$OUT"

printf 'line one\nline two\n' >"$E2E_TMP/app.properties"
expect_ok "create configmap --from-literal --from-file" \
  k create configmap cfg -n "$NS" --from-literal=color=blue --from-literal=size=large --from-file="$E2E_TMP/app.properties"
expect_eq "create configmap output" "configmap/cfg created" "$OUT"
expect_ok "read the configmap" k get cm cfg -n "$NS" -o json
expect_eq "literal keys" "blue large" "$(jq -r '.data.color + " " + .data.size' <<<"$OUT")"
expect_eq "file key holds the file content" '"line one\nline two\n"' "$(jq -c '.data["app.properties"]' <<<"$OUT")"

expect_ok "create secret generic" k create secret generic creds -n "$NS" --from-literal=password=s3cr3t
expect_eq "create secret generic output" "secret/creds created" "$OUT"
expect_ok "read the secret" k get secret creds -n "$NS" -o jsonpath='{.type} {.data.password}'
expect_eq "secret type and base64 data" "Opaque $(printf s3cr3t | base64)" "$OUT"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$E2E_TMP/tls.key" -out "$E2E_TMP/tls.crt" \
  -days 2 -subj "/CN=e2e.example.com" >/dev/null 2>&1
expect_ok "create secret tls" k create secret tls web-tls -n "$NS" --cert="$E2E_TMP/tls.crt" --key="$E2E_TMP/tls.key"
expect_eq "create secret tls output" "secret/web-tls created" "$OUT"
expect_ok "read the tls secret" k get secret web-tls -n "$NS" -o json
expect_eq "tls secret type" "kubernetes.io/tls" "$(jq -r .type <<<"$OUT")"
expect_eq "tls.crt holds the certificate" "$(base64 -w0 <"$E2E_TMP/tls.crt")" "$(jq -r '.data["tls.crt"]' <<<"$OUT")"
expect_eq "tls.key holds the key" "$(base64 -w0 <"$E2E_TMP/tls.key")" "$(jq -r '.data["tls.key"]' <<<"$OUT")"

expect_ok "create deployment --image" k create deployment web -n "$NS" --image=nginx:1.25
expect_eq "create deployment output" "deployment.apps/web created" "$OUT"
expect_ok "read the deployment" k get deploy web -n "$NS" -o json
expect_eq "deployment: 1 replica, selector app=web, image" "1 web nginx:1.25" \
  "$(jq -r '"\(.spec.replicas) \(.spec.selector.matchLabels.app) \(.spec.template.spec.containers[0].image)"' <<<"$OUT")"
expect_eq "deployment defaults: strategy and revisionHistoryLimit" "RollingUpdate 25% 25% 10 600" \
  "$(jq -r '"\(.spec.strategy.type) \(.spec.strategy.rollingUpdate.maxSurge) \(.spec.strategy.rollingUpdate.maxUnavailable) \(.spec.revisionHistoryLimit) \(.spec.progressDeadlineSeconds)"' <<<"$OUT")"

# --- expose -------------------------------------------------------------------------------------------
expect_ok "expose deployment --port=80" k expose deployment web -n "$NS" --port=80 --target-port=8080
expect_eq "expose output" "service/web exposed" "$OUT"
expect_ok "read the service" k get svc web -n "$NS" -o json
expect_match "the service gets a ClusterIP from 10.43.0.0/16" "$(jq -r .spec.clusterIP <<<"$OUT")" '^10\.43\.[0-9]{1,3}\.[0-9]{1,3}$'
expect_eq "clusterIPs mirrors clusterIP" "$(jq -r .spec.clusterIP <<<"$OUT")" "$(jq -r '.spec.clusterIPs[0]' <<<"$OUT")"
expect_eq "the service selects the deployment's pods" '{"app":"web"}' "$(jq -c .spec.selector <<<"$OUT")"
expect_eq "the service port" "80 8080 TCP ClusterIP" \
  "$(jq -r '"\(.spec.ports[0].port) \(.spec.ports[0].targetPort) \(.spec.ports[0].protocol) \(.spec.type)"' <<<"$OUT")"

# --- describe ------------------------------------------------------------------------------------------
expect_ok "describe configmap" k describe configmap cfg -n "$NS"
expect_match "describe cm: Name" "$OUT" '^Name: +cfg$'
expect_match "describe cm: Namespace" "$OUT" "^Namespace: +$NS\$"
expect_match "describe cm: Labels" "$OUT" '^Labels: +<none>$'
expect_match "describe cm: Data section" "$OUT" '^Data$'
expect_match "describe cm: a key" "$OUT" '^color:$'
expect_match "describe cm: its value" "$OUT" '^blue$'
expect_match "describe cm: Events" "$OUT" '^Events: +<none>$'

expect_ok "describe deployment" k describe deployment web -n "$NS"
expect_match "describe deploy: Name" "$OUT" '^Name: +web$'
expect_match "describe deploy: Selector" "$OUT" '^Selector: +app=web$'
expect_match "describe deploy: Replicas" "$OUT" '^Replicas: +1 desired \| [0-9]+ updated \| [0-9]+ total \| [0-9]+ available \| [0-9]+ unavailable$'
expect_match "describe deploy: StrategyType" "$OUT" '^StrategyType: +RollingUpdate$'
expect_match "describe deploy: RollingUpdateStrategy" "$OUT" '^RollingUpdateStrategy: +25% max unavailable, 25% max surge$'
expect_match "describe deploy: Pod Template" "$OUT" '^Pod Template:$'
expect_match "describe deploy: container image" "$OUT" '^ +Image: +nginx:1\.25$'

expect_ok "describe service" k describe service web -n "$NS"
expect_match "describe svc: Name" "$OUT" '^Name: +web$'
expect_match "describe svc: Selector" "$OUT" '^Selector: +app=web$'
expect_match "describe svc: Type" "$OUT" '^Type: +ClusterIP$'
expect_match "describe svc: IP" "$OUT" '^IP: +10\.43\.[0-9]+\.[0-9]+$'
expect_match "describe svc: Port" "$OUT" '^Port: +<unset> +80/TCP$'
expect_match "describe svc: TargetPort" "$OUT" '^TargetPort: +8080/TCP$'

expect_ok "describe namespace" k describe namespace "$NS"
expect_match "describe ns: Name" "$OUT" "^Name: +$NS\$"
expect_match "describe ns: Status" "$OUT" '^Status: +Active$'
expect_match "describe ns: no quota" "$OUT" '^No resource quota\.$'
expect_match "describe ns: no limit range" "$OUT" '^No LimitRange resource\.$'

# --- label / annotate ---------------------------------------------------------------------------------
expect_ok "label add" k label configmap cfg -n "$NS" tier=web
expect_eq "label output" "configmap/cfg labeled" "$OUT"
expect_eq "label is set" "web" "$(k get cm cfg -n "$NS" -o jsonpath='{.metadata.labels.tier}')"
expect_fail_contains "label overwrite without --overwrite is refused" \
  "'tier' already has a value (web), and --overwrite is false" k label configmap cfg -n "$NS" tier=db
expect_ok "label --overwrite" k label configmap cfg -n "$NS" tier=db --overwrite
expect_eq "label --overwrite output" "configmap/cfg labeled" "$OUT"
expect_eq "label is overwritten" "db" "$(k get cm cfg -n "$NS" -o jsonpath='{.metadata.labels.tier}')"
expect_ok "label remove" k label configmap cfg -n "$NS" tier-
expect_eq "label remove output" "configmap/cfg unlabeled" "$OUT"
expect_eq "label is gone" "{}" "$(k get cm cfg -n "$NS" -o json | jq -c '.metadata.labels // {}')"

expect_ok "annotate" k annotate configmap cfg -n "$NS" owner=team-a
# kubectl up to 1.27 (at least) prints "annotate", later versions "annotated".
expect_match "annotate output" "$OUT" '^configmap/cfg annotated?$'

expect_eq "annotation is set" "team-a" "$(k get cm cfg -n "$NS" -o jsonpath='{.metadata.annotations.owner}')"
expect_ok "annotate --overwrite" k annotate configmap cfg -n "$NS" owner=team-b --overwrite
expect_eq "annotation is overwritten" "team-b" "$(k get cm cfg -n "$NS" -o jsonpath='{.metadata.annotations.owner}')"
expect_ok "annotate remove" k annotate configmap cfg -n "$NS" owner-
expect_eq "annotation is gone" "null" "$(k get cm cfg -n "$NS" -o json | jq -c '.metadata.annotations.owner')"

# --- patch ---------------------------------------------------------------------------------------------
expect_ok "patch (strategic, the default) adds a container by merge key" \
  k patch deployment web -n "$NS" -p '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.36"}]}}}}'
expect_eq "strategic patch output" "deployment.apps/web patched" "$OUT"
expect_eq "strategic patch merged the containers list by name" "nginx=nginx:1.25 sidecar=busybox:1.36" \
  "$(k get deploy web -n "$NS" -o json | jq -r '[.spec.template.spec.containers[] | "\(.name)=\(.image)"] | sort | join(" ")')"
expect_ok "patch --type=strategic changes one container" \
  k patch deployment web -n "$NS" --type=strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}'
expect_eq "only the named container changed" "nginx=nginx:1.26 sidecar=busybox:1.36" \
  "$(k get deploy web -n "$NS" -o json | jq -r '[.spec.template.spec.containers[] | "\(.name)=\(.image)"] | sort | join(" ")')"
expect_ok "patch --type=strategic with \$patch: delete" \
  k patch deployment web -n "$NS" -p '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}'
expect_eq "the sidecar is removed" "nginx=nginx:1.26" \
  "$(k get deploy web -n "$NS" -o json | jq -r '[.spec.template.spec.containers[] | "\(.name)=\(.image)"] | sort | join(" ")')"

expect_ok "patch --type=merge" k patch configmap cfg -n "$NS" --type=merge -p '{"data":{"shape":"round","size":null}}'
expect_eq "merge patch output" "configmap/cfg patched" "$OUT"
expect_eq "merge patch added a key and removed one (null)" '{"shape":"round","size":null,"color":"blue"}' \
  "$(k get cm cfg -n "$NS" -o json | jq -c '{shape: .data.shape, size: .data.size, color: .data.color}')"
expect_ok "patch --type=merge with the same content" k patch configmap cfg -n "$NS" --type=merge -p '{"data":{"shape":"round"}}'
expect_eq "a patch that changes nothing says so" "configmap/cfg patched (no change)" "$OUT"

expect_ok "patch --type=json" k patch configmap cfg -n "$NS" --type=json \
  -p '[{"op":"replace","path":"/data/color","value":"red"},{"op":"add","path":"/data/weight","value":"9"},{"op":"remove","path":"/data/shape"}]'
expect_eq "json patch output" "configmap/cfg patched" "$OUT"
expect_eq "json patch applied every operation" '{"color":"red","weight":"9","shape":null}' \
  "$(k get cm cfg -n "$NS" -o json | jq -c '{color: .data.color, weight: .data.weight, shape: .data.shape}')"
expect_fail_contains "json patch test op failing is refused" "testing value /data/color failed: test failed" \
  k patch configmap cfg -n "$NS" --type=json -p '[{"op":"test","path":"/data/color","value":"green"}]'

# --- replace / edit --------------------------------------------------------------------------------------
k get configmap cfg -n "$NS" -o yaml >"$E2E_TMP/cfg.yaml"
sed -i 's/^  color: red$/  color: purple/' "$E2E_TMP/cfg.yaml"
expect_ok "replace -f" k replace -f "$E2E_TMP/cfg.yaml"
expect_eq "replace output" "configmap/cfg replaced" "$OUT"
expect_eq "replace changed the field" "purple" "$(k get cm cfg -n "$NS" -o jsonpath='{.data.color}')"

cat >"$E2E_TMP/editor.sh" <<'EOF'
#!/bin/sh
# Scripted editor: kubectl passes the file to edit as the last argument.
for f; do :; done
sed -i 's/^  color: purple$/  color: orange/' "$f"
EOF
chmod +x "$E2E_TMP/editor.sh"
expect_ok "edit with a scripted editor" env KUBE_EDITOR="$E2E_TMP/editor.sh" "$KUBECTL" edit configmap cfg -n "$NS"
expect_eq "edit output" "configmap/cfg edited" "$OUT"
expect_eq "edit changed the field" "orange" "$(k get cm cfg -n "$NS" -o jsonpath='{.data.color}')"

cat >"$E2E_TMP/noop-editor.sh" <<'EOF'
#!/bin/sh
exit 0
EOF
chmod +x "$E2E_TMP/noop-editor.sh"
expect_ok "edit without a change" env KUBE_EDITOR="$E2E_TMP/noop-editor.sh" "$KUBECTL" edit configmap cfg -n "$NS"
expect_eq "edit without a change says so" "Edit cancelled, no changes made." "$OUT$ERR"

# --- scale --------------------------------------------------------------------------------------------------
expect_ok "scale deploy --replicas=3" k scale deploy web -n "$NS" --replicas=3
expect_eq "scale output" "deployment.apps/web scaled" "$OUT"
expect_eq "spec.replicas is 3" "3" "$(k get deploy web -n "$NS" -o jsonpath='{.spec.replicas}')"
expect_ok "read the scale subresource" k get --raw "/apis/apps/v1/namespaces/$NS/deployments/web/scale"
expect_eq "the scale subresource reports 3 replicas" "Scale 3" "$(jq -r '"\(.kind) \(.spec.replicas)"' <<<"$OUT")"
expect_fail_contains "scale --current-replicas mismatch is refused" "Expected replicas to be 5, was 3" \
  k scale deploy web -n "$NS" --current-replicas=5 --replicas=1

# --- delete ----------------------------------------------------------------------------------------------------
for i in 1 2 3; do k create configmap "grp-a-$i" -n "$NS" --from-literal=k=v >/dev/null; done
for i in 1 2; do k create configmap "grp-b-$i" -n "$NS" --from-literal=k=v >/dev/null; done
k label configmap grp-a-1 grp-a-2 grp-a-3 -n "$NS" grp=a >/dev/null
k label configmap grp-b-1 grp-b-2 -n "$NS" grp=b >/dev/null
ok "configmaps for delete created and labelled"

expect_ok "delete one configmap (--wait)" k delete configmap grp-b-1 -n "$NS" --wait=true
expect_match "delete output" "$OUT" "$(deleted_re configmap grp-b-1)"
expect_fail_contains "the deleted configmap is gone" 'configmaps "grp-b-1" not found' k get configmap grp-b-1 -n "$NS"

expect_ok "delete --grace-period=0 --force" k delete configmap grp-b-2 -n "$NS" --grace-period=0 --force
expect_match "force delete output" "$OUT" "^configmap \"grp-b-2\" force deleted( from $NS namespace)?\$"
expect_fail_contains "the force-deleted configmap is gone" 'configmaps "grp-b-2" not found' k get configmap grp-b-2 -n "$NS"

expect_ok "delete -l grp=a" k delete configmap -n "$NS" -l grp=a
expect_eq "delete -l deletes each match" "3" "$(grep -Ec "$(deleted_re configmap 'grp-a-[123]')" <<<"$OUT")"
expect_eq "no labelled configmap left" "" "$(k get configmap -n "$NS" -l grp -o name)"
expect_ok "delete -l with no match" k delete configmap -n "$NS" -l grp=none
expect_eq "delete -l with no match says so" "No resources found" "$OUT$ERR"

expect_fail_contains "delete of a missing object" 'configmaps "nope" not found' k delete configmap nope -n "$NS"
expect_ok "delete --ignore-not-found" k delete configmap nope -n "$NS" --ignore-not-found
expect_eq "delete --ignore-not-found prints nothing" "" "$OUT$ERR"

k create namespace e2e-cmd-all >/dev/null
for i in 1 2 3 4; do k create configmap "all-$i" -n e2e-cmd-all --from-literal=k=v >/dev/null; done
k create configmap keep -n "$NS" --from-literal=k=v >/dev/null
expect_ok "delete --all in a namespace" k delete configmap --all -n e2e-cmd-all
expect_eq "delete --all deletes each" "4" "$(grep -Ec '^configmap "all-[1-4]" deleted' <<<"$OUT")"
expect_eq "no user configmap left in that namespace" "" \
  "$(k get configmap -n e2e-cmd-all -o name | grep -v '^configmap/kube-root-ca.crt$' || true)"
expect_ok "other namespaces are untouched by --all" k get configmap keep -n "$NS"

# --- explain ----------------------------------------------------------------------------------------------------
expect_ok "explain pod.spec.containers" k explain pod.spec.containers
expect_match "explain names the kind" "$OUT" '^KIND: +Pod$'
expect_match "explain names the version" "$OUT" '^VERSION: +v1$'
expect_match "explain names the field" "$OUT" '^(FIELD|RESOURCE): +containers <\[\](Object|Container)>$'
expect_match "explain has a description header" "$OUT" '^DESCRIPTION:$'
expect_match "explain describes the field" "$(sed -n '/^DESCRIPTION:$/{n;p;}' <<<"$OUT")" '^ +[A-Za-z].{10,}'
expect_match "explain lists the image field" "$OUT" '^ +image\s+<string>$'
expect_match "explain lists the name field as required" "$OUT" '^ +name\s+<string> -required-$'
expect_ok "explain deployment.spec.replicas" k explain deployment.spec.replicas
expect_match "explain a scalar field" "$OUT" '^FIELD: +replicas <integer>$'
expect_match "explain group of deployment" "$OUT" '^(GROUP: +apps|VERSION: +apps/v1)$'

# --- api-resources / api-versions ------------------------------------------------------------------------------
expect_ok "api-resources" k api-resources
expect_eq "api-resources header" "NAME SHORTNAMES APIVERSION NAMESPACED KIND" "$(header "$OUT")"
expect_eq "api-resources: pods" "pods po v1 true Pod" "$(row pods "$OUT")"
expect_eq "api-resources: services" "services svc v1 true Service" "$(row services "$OUT")"
expect_eq "api-resources: configmaps" "configmaps cm v1 true ConfigMap" "$(row configmaps "$OUT")"
expect_eq "api-resources: namespaces" "namespaces ns v1 false Namespace" "$(row namespaces "$OUT")"
expect_eq "api-resources: nodes" "nodes no v1 false Node" "$(row nodes "$OUT")"
expect_eq "api-resources: deployments" "deployments deploy apps/v1 true Deployment" "$(row deployments "$OUT")"
expect_eq "api-resources: replicasets" "replicasets rs apps/v1 true ReplicaSet" "$(row replicasets "$OUT")"
expect_eq "api-resources: leases" "leases coordination.k8s.io/v1 true Lease" "$(row leases "$OUT")"
expect_ok "api-resources --namespaced=false -o name" k api-resources --namespaced=false -o name
expect_contains "cluster-scoped resources include namespaces" "$OUT" "namespaces"
expect_not_contains "cluster-scoped resources exclude configmaps" "$OUT" "configmaps"
expect_ok "api-resources --api-group=apps" k api-resources --api-group=apps -o name
expect_contains "the apps group has deployments.apps" "$OUT" "deployments.apps"

expect_ok "api-versions" k api-versions
for gv in v1 apps/v1 coordination.k8s.io/v1 authorization.k8s.io/v1; do
  expect_match "api-versions lists $gv" "$OUT" "^${gv//./\\.}\$"
done

# --- version ----------------------------------------------------------------------------------------------------
expect_ok "version" k version
expect_match "version prints the server version" "$OUT" '^Server Version: (v1\.[0-9]+\.[0-9]+|version\.Info\{.*GitVersion:"v1\.[0-9]+\.[0-9]+)'
expect_ok "version -o json" k version -o json
expect_match "server gitVersion" "$(jq -r .serverVersion.gitVersion <<<"$OUT")" '^v1\.[0-9]+\.[0-9]+'
expect_eq "server major version" "1" "$(jq -r .serverVersion.major <<<"$OUT")"

# --- auth whoami / can-i -----------------------------------------------------------------------------------------
cn=$(openssl x509 -in "$E2E_CERT" -noout -subject -nameopt RFC2253 | sed -n 's/^subject=.*CN=\([^,]*\).*$/\1/p')
expect_ne "the admin certificate has a common name" "" "$cn"
expect_ok "auth whoami" k auth whoami
expect_eq "whoami header" "ATTRIBUTE VALUE" "$(header "$OUT")"
expect_eq "whoami: the admin user" "Username $cn" "$(row Username "$OUT")"
expect_match "whoami: groups include system:authenticated" "$(row Groups "$OUT")" '^Groups \[.*system:authenticated.*\]$'
expect_ok "auth can-i create pods" k auth can-i create pods -n "$NS"
expect_eq "the admin can create pods" "yes" "$OUT"
