# Shared helpers for the Skiff end-to-end tests.
#
# Each tests/e2e/*_test.sh script starts its own `skiff server` (fresh data dir, port chosen
# by the server, no node agent) and drives it with the real kubectl, plus curl where a raw
# HTTP exchange is the point of the check. ctest runs them as `e2e.<name>`; to run one by
# hand from the repository root:
#
#   SKIFF_BIN=build/skiff SKIFF_E2E_LIB=tests/e2e/lib.sh \
#     KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.33 bash tests/e2e/apply_test.sh
#
# Environment:
#   SKIFF_BIN        path of the skiff binary (required)
#   SKIFF_E2E_LIB    path of this file (the scripts source it)
#   KUBECTL          kubectl to drive the server with (default: kubectl)
#   SKIFF_E2E_KEEP=1 keep the temporary directory (data dir, server log) after the run
#   SKIFF_E2E_DATASTORE=etcd
#                    start_server runs the server on a private single-member etcd (started
#                    on first use from $ETCD_BIN, default /usr/bin/etcd, on free loopback
#                    ports, data under the temporary directory, stopped on exit) instead of
#                    the embedded SQLite store; restarts of the server keep the same etcd.
#
# Every check prints one line, "ok - <what>"; the first failing check prints
# "FAIL - <what>" with the evidence and the script exits non-zero, after printing the tail
# of the server log. Tools needed besides kubectl: bash, curl, jq, openssl, diff.

set -Eeuo pipefail

: "${KUBECTL:=kubectl}"
: "${SKIFF_BIN:?SKIFF_BIN must name the skiff binary}"
export KUBECTL SKIFF_BIN

for _e2e_tool in curl jq openssl diff base64; do
  command -v "$_e2e_tool" >/dev/null || { echo "FAIL - required tool '$_e2e_tool' not found" >&2; exit 1; }
done
command -v "$KUBECTL" >/dev/null || { echo "FAIL - kubectl '$KUBECTL' not found" >&2; exit 1; }
[[ -x "$SKIFF_BIN" ]] || { echo "FAIL - SKIFF_BIN '$SKIFF_BIN' is not an executable" >&2; exit 1; }

E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/skiff-e2e.XXXXXX")
E2E_DATA="$E2E_TMP/data"
E2E_LOG="$E2E_TMP/server.log"
E2E_START_TIMEOUT=${E2E_START_TIMEOUT:-30}
SERVER_PID=""
E2E_SERVER_FLAGS=()
E2E_DATASTORE=${SKIFF_E2E_DATASTORE:-sqlite}
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-/usr/bin/etcdctl}
declare -A ETCD_PIDS=() ETCD_ARGS=() ETCD_CLIENT=()
E2E_ETCD_ENDPOINT=""  # the private etcd of start_server in etcd mode
E2E_BG_PIDS=()
E2E_SERVER=""      # https://127.0.0.1:PORT, read from the admin kubeconfig
E2E_CA="$E2E_TMP/ca.crt"
E2E_CERT="$E2E_TMP/admin.crt"
E2E_KEY="$E2E_TMP/admin.key"
OUT="" ERR="" RC=0
mkdir -p "$E2E_DATA"

# ---------------------------------------------------------------------------------------
# Reporting

ok() { echo "ok - $*"; }

# fail MESSAGE...: report a failed check and end the test (must not be called in a subshell).
fail() {
  echo "FAIL - $1" >&2
  shift
  local extra
  for extra in "$@"; do printf '%s\n' "$extra" | sed 's/^/    /' >&2; done
  exit 1
}

_e2e_on_err() {
  local rc=$? line=$1 cmd=$2
  echo "FAIL - unexpected error (exit $rc) at ${BASH_SOURCE[1]:-?}:$line: $cmd" >&2
}
trap '_e2e_on_err "$LINENO" "$BASH_COMMAND"' ERR

_e2e_cleanup() {
  local rc=$?
  trap - ERR
  set +e
  local pid
  for pid in "${E2E_BG_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    local i
    for ((i = 0; i < 50; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  local name
  for name in "${!ETCD_PIDS[@]}"; do
    kill -KILL "${ETCD_PIDS[$name]}" 2>/dev/null
    wait "${ETCD_PIDS[$name]}" 2>/dev/null
  done
  # A sanitizer build reports what it finds in the server log (and at exit): that fails
  # the test even when every check passed.
  if ((rc == 0)) && grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E_LOG" "$E2E_TMP"/*.log 2>/dev/null; then
    echo "FAIL - a sanitizer reported an error in a server log" >&2
    grep -hE -A30 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E_LOG" "$E2E_TMP"/*.log 2>/dev/null | head -n 80 >&2
    rc=1
  fi
  if ((rc != 0)); then
    echo "---- last 60 lines of the server log ($E2E_LOG) ----" >&2
    tail -n 60 "$E2E_LOG" >&2 2>/dev/null
    echo "---- end of server log ----" >&2
  fi
  if [[ "${SKIFF_E2E_KEEP:-0}" == 1 ]]; then
    echo "kept $E2E_TMP" >&2
  else
    rm -rf "$E2E_TMP"
  fi
  exit "$rc"
}
trap _e2e_cleanup EXIT

# Remember a background process started by the test so it is stopped on exit.
track_bg() { E2E_BG_PIDS+=("$1"); }

# ---------------------------------------------------------------------------------------
# Running commands

k() { "$KUBECTL" "$@"; }

# run CMD...: run a command; set OUT (stdout), ERR (stderr) and RC (exit code). Never fails.
run() {
  local o="$E2E_TMP/.run.out" e="$E2E_TMP/.run.err"
  if "$@" >"$o" 2>"$e"; then RC=0; else RC=$?; fi
  OUT=$(cat "$o")
  ERR=$(cat "$e")
  return 0
}

_show_cmd() { printf '%q ' "$@"; }

# expect_ok DESC CMD...: CMD must succeed; its output is left in OUT/ERR.
expect_ok() {
  local desc=$1
  shift
  run "$@"
  ((RC == 0)) || fail "$desc: command failed (exit $RC): $(_show_cmd "$@")" "stdout: $OUT" "stderr: $ERR"
  ok "$desc"
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1" "expected: $2" "actual:   $3"
  ok "$1"
}

# expect_ne DESC UNEXPECTED ACTUAL
expect_ne() {
  [[ "$2" != "$3" ]] || fail "$1" "got the value it must differ from: $3"
  ok "$1"
}

# expect_contains DESC HAYSTACK NEEDLE (fixed string)
expect_contains() {
  [[ "$2" == *"$3"* ]] || fail "$1" "expected to contain: $3" "actual: $2"
  ok "$1"
}

# expect_not_contains DESC HAYSTACK NEEDLE (fixed string)
expect_not_contains() {
  [[ "$2" != *"$3"* ]] || fail "$1" "expected not to contain: $3" "actual: $2"
  ok "$1"
}

# expect_match DESC TEXT REGEX: some line of TEXT matches the extended regular expression.
expect_match() {
  grep -Eq -- "$3" <<<"$2" || fail "$1" "expected a line matching: $3" "actual: $2"
  ok "$1"
}

# expect_no_match DESC TEXT REGEX: no line of TEXT matches.
expect_no_match() {
  ! grep -Eq -- "$3" <<<"$2" || fail "$1" "expected no line matching: $3" "actual: $2"
  ok "$1"
}

# expect_fail_contains DESC NEEDLE CMD...: CMD must fail and stdout+stderr contain NEEDLE.
expect_fail_contains() {
  local desc=$1 needle=$2
  shift 2
  run "$@"
  ((RC != 0)) || fail "$desc: command succeeded but should have failed: $(_show_cmd "$@")" "stdout: $OUT" "stderr: $ERR"
  [[ "$OUT"$'\n'"$ERR" == *"$needle"* ]] ||
    fail "$desc: failure message lacks the expected text" "expected to contain: $needle" "stdout: $OUT" "stderr: $ERR"
  ok "$desc"
}

# wait_for DESC TIMEOUT_SECONDS CMD...: poll CMD (quietly) until it succeeds.
wait_for() {
  local desc=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  while true; do
    if "$@" >/dev/null 2>&1; then
      ok "$desc"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      run "$@"
      fail "$desc: not true after ${timeout}s: $(_show_cmd "$@")" "stdout: $OUT" "stderr: $ERR"
    fi
    _check_server_alive
    sleep 0.2
  done
}

# header LINE: the first line of a table with runs of blanks squeezed to one space.
header() { head -n 1 <<<"$1" | tr -s ' ' | sed 's/ $//'; }

# row NAME TEXT: the table line whose first column is NAME, blanks squeezed.
row() { awk -v n="$1" '$1 == n' <<<"$2" | tr -s ' ' | sed 's/ $//'; }

# kubectl_minor: the minor version of $KUBECTL (27 for 1.27.x).
kubectl_minor() {
  if [[ -z "${_E2E_KUBECTL_MINOR:-}" ]]; then
    _E2E_KUBECTL_MINOR=$("$KUBECTL" version --client -o json 2>/dev/null | jq -r '.clientVersion.minor' | tr -dc '0-9')
  fi
  echo "$_E2E_KUBECTL_MINOR"
}

# ---------------------------------------------------------------------------------------
# Server lifecycle

_check_server_alive() {
  if [[ -n "$SERVER_PID" ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
    local pid=$SERVER_PID rc
    SERVER_PID=""
    wait "$pid" 2>/dev/null && rc=0 || rc=$?
    fail "skiff server (pid $pid) exited unexpectedly with status $rc"
  fi
}

# start_server [FLAGS...]: start skiff on E2E_DATA and wait until it is ready. With
# SKIFF_E2E_DATASTORE=etcd the server is pointed at a private etcd (started on first use).
start_server() {
  if (($# > 0)); then E2E_SERVER_FLAGS=("$@"); fi
  local store_flags=()
  if [[ "$E2E_DATASTORE" == etcd ]]; then
    if [[ -z "$E2E_ETCD_ENDPOINT" ]]; then
      start_etcd_cluster e2e 1
      E2E_ETCD_ENDPOINT=${ETCD_CLIENT[e2e-1]}
    fi
    store_flags=(--datastore-endpoint "etcd://${E2E_ETCD_ENDPOINT#http://}")
  fi
  echo "==== $(date -u +%FT%TZ) starting: $SKIFF_BIN server --data-dir $E2E_DATA ${store_flags[*]:-} ${E2E_SERVER_FLAGS[*]:-}" >>"$E2E_LOG"
  "$SKIFF_BIN" server --data-dir "$E2E_DATA" --secure-port 0 --bind-address 127.0.0.1 --disable-agent \
    "${store_flags[@]}" "${E2E_SERVER_FLAGS[@]}" >>"$E2E_LOG" 2>&1 &
  SERVER_PID=$!
  export KUBECONFIG="$E2E_DATA/admin.kubeconfig"
  local deadline=$((SECONDS + E2E_START_TIMEOUT))
  while true; do
    _check_server_alive
    if [[ -s "$KUBECONFIG" ]] &&
      [[ "$("$KUBECTL" get --raw /readyz --request-timeout=2s 2>/dev/null)" == ok ]]; then
      break
    fi
    ((SECONDS < deadline)) || fail "skiff server not ready within ${E2E_START_TIMEOUT}s (admin.kubeconfig written and /readyz ok)"
    sleep 0.1
  done
  _load_credentials
  ok "server started (pid $SERVER_PID, $E2E_SERVER)"
}

# stop_server: SIGTERM, and the server must exit within 20 seconds.
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID"
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    fail "skiff server did not exit within 20s of SIGTERM"
  fi
  local status=0
  wait "$SERVER_PID" 2>/dev/null || status=$?
  SERVER_PID=""
  ((status == 0)) || fail "skiff server exited with status $status after SIGTERM"
  ok "server stopped"
}

# kill9_server: SIGKILL, no chance to flush anything that was not already durable.
kill9_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  ok "server killed with SIGKILL"
}

# restart_server: stop (if running) and start again on the same data dir and flags.
restart_server() {
  stop_server
  start_server
}

# Extract the server URL and the admin credentials from the kubeconfig, for curl.
_load_credentials() {
  local jp='{.clusters[0].cluster.server}'
  E2E_SERVER=$("$KUBECTL" config view --raw -o jsonpath="$jp")
  _kubeconfig_blob '{.clusters[0].cluster.certificate-authority-data}' '{.clusters[0].cluster.certificate-authority}' "$E2E_CA"
  _kubeconfig_blob '{.users[0].user.client-certificate-data}' '{.users[0].user.client-certificate}' "$E2E_CERT"
  _kubeconfig_blob '{.users[0].user.client-key-data}' '{.users[0].user.client-key}' "$E2E_KEY"
}

_kubeconfig_blob() {
  local data path
  data=$("$KUBECTL" config view --raw -o jsonpath="$1")
  if [[ -n "$data" ]]; then
    base64 -d <<<"$data" >"$3"
  else
    path=$("$KUBECTL" config view --raw -o jsonpath="$2")
    [[ -n "$path" ]] || fail "admin kubeconfig lacks $1"
    [[ "$path" == /* ]] || path="$E2E_DATA/$path"
    cp "$path" "$3"
  fi
}

# ---------------------------------------------------------------------------------------
# Raw HTTP (curl), authenticated as the admin unless said otherwise

# api METHOD PATH [BODY_FILE [CONTENT_TYPE]]: sets HTTP_CODE and BODY.
api() {
  local method=$1 path=$2 body=${3:-} ctype=${4:-application/json}
  local args=(-sS --cacert "$E2E_CA" --cert "$E2E_CERT" --key "$E2E_KEY" -X "$method"
    -o "$E2E_TMP/.api.body" -w '%{http_code}' --max-time 30)
  [[ -n "$body" ]] && args+=(-H "Content-Type: $ctype" --data-binary "@$body")
  HTTP_CODE=$(curl "${args[@]}" "$E2E_SERVER$path" 2>"$E2E_TMP/.api.err") || HTTP_CODE="curl-error: $(cat "$E2E_TMP/.api.err")"
  BODY=$(cat "$E2E_TMP/.api.body" 2>/dev/null || true)
}

# anon_api METHOD PATH: like api, without client credentials (the CA is still verified).
anon_api() {
  HTTP_CODE=$(curl -sS --cacert "$E2E_CA" -X "$1" -o "$E2E_TMP/.api.body" -w '%{http_code}' --max-time 30 \
    "$E2E_SERVER$2" 2>"$E2E_TMP/.api.err") || HTTP_CODE="curl-error: $(cat "$E2E_TMP/.api.err")"
  BODY=$(cat "$E2E_TMP/.api.body" 2>/dev/null || true)
}

# bulk_create_configmaps NAMESPACE PREFIX COUNT LABEL_KEY LABEL_VALUE RESULT_FILE [PARALLEL]
# POSTs COUNT ConfigMaps PREFIX-1..PREFIX-COUNT over a few keep-alive connections (curl
# --parallel). RESULT_FILE gets one line per request: "<http code> <name>" (000 when the
# request got no answer). Returns when every request has finished or failed.
bulk_create_configmaps() {
  local ns=$1 prefix=$2 count=$3 lk=$4 lv=$5 result=$6 par=${7:-16}
  local cfg="$E2E_TMP/.bulk-$prefix.curlrc" i name
  : >"$cfg"
  for ((i = 1; i <= count; i++)); do
    name="$prefix-$i"
    {
      printf 'url = "%s/api/v1/namespaces/%s/configmaps"\n' "$E2E_SERVER" "$ns"
      printf 'cacert = "%s"\ncert = "%s"\nkey = "%s"\n' "$E2E_CA" "$E2E_CERT" "$E2E_KEY"
      printf 'header = "Content-Type: application/json"\n'
      printf 'data-binary = "{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"ConfigMap\\",\\"metadata\\":{\\"name\\":\\"%s\\",\\"labels\\":{\\"%s\\":\\"%s\\"}},\\"data\\":{\\"index\\":\\"%d\\"}}"\n' "$name" "$lk" "$lv" "$i"
      printf 'output = "/dev/null"\n'
      printf 'write-out = "%%{http_code} %s\\n"\n' "$name"
      printf 'max-time = 60\n'
      if ((i < count)); then printf 'next\n'; fi
    } >>"$cfg"
  done
  curl -s --parallel --parallel-max "$par" -K "$cfg" >"$result" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------
# etcd (from $ETCD_BIN), on loopback, data and logs under E2E_TMP

# free_port: sets FREE_PORT to a TCP port on 127.0.0.1 that nothing listens on and that
# was not handed out before in this test.
_E2E_PORTS_GIVEN=" "
FREE_PORT=""
free_port() {
  local p
  while true; do
    # Below the kernel's ephemeral range (32768+), where the clients' own sockets and the
    # servers started with --secure-port 0 would otherwise collide with it.
    p=$((10000 + RANDOM % 22000))
    [[ "$_E2E_PORTS_GIVEN" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      _E2E_PORTS_GIVEN+="$p "
      FREE_PORT=$p
      return 0
    fi
  done
}

# start_etcd_cluster NAME SIZE: start SIZE members NAME-1..NAME-SIZE as one new cluster and
# wait until it is healthy. ETCD_CLIENT[NAME-i] is each member's client URL;
# etcd_endpoints NAME SIZE prints them comma-separated.
start_etcd_cluster() {
  local cluster=$1 size=$2 i initial="" member
  [[ -x "$ETCD_BIN" ]] || fail "etcd '$ETCD_BIN' is not an executable"
  local -A peer=()
  for ((i = 1; i <= size; i++)); do
    member=$cluster-$i
    free_port
    peer[$member]="http://127.0.0.1:$FREE_PORT"
    free_port
    ETCD_CLIENT[$member]="http://127.0.0.1:$FREE_PORT"
    initial+="${initial:+,}$member=${peer[$member]}"
  done
  for ((i = 1; i <= size; i++)); do
    member=$cluster-$i
    ETCD_ARGS[$member]="--name=$member --data-dir=$E2E_TMP/etcd-$member
      --listen-client-urls=${ETCD_CLIENT[$member]} --advertise-client-urls=${ETCD_CLIENT[$member]}
      --listen-peer-urls=${peer[$member]} --initial-advertise-peer-urls=${peer[$member]}
      --initial-cluster=$initial --initial-cluster-token=$cluster-$$ --initial-cluster-state=new
      --heartbeat-interval=50 --election-timeout=500 --logger=zap
      --log-outputs=$E2E_TMP/etcd-$member.log"
    _run_etcd "$member"
  done
  for ((i = 1; i <= size; i++)); do wait_etcd_healthy "$cluster-$i"; done
  ok "etcd cluster $cluster started ($size member(s): $(etcd_endpoints "$cluster" "$size"))"
}

_run_etcd() {
  # shellcheck disable=SC2086 # ETCD_ARGS holds one flag per word
  "$ETCD_BIN" ${ETCD_ARGS[$1]} >/dev/null 2>&1 &
  ETCD_PIDS[$1]=$!
}

etcd_endpoints() {
  local cluster=$1 size=$2 i out=""
  for ((i = 1; i <= size; i++)); do out+="${out:+,}${ETCD_CLIENT[$cluster-$i]}"; done
  echo "$out"
}

# wait_etcd_healthy MEMBER: the member answers a health check within 30 seconds.
wait_etcd_healthy() {
  local member=$1 deadline=$((SECONDS + 30))
  until ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "${ETCD_CLIENT[$member]}" --dial-timeout=1s \
    --command-timeout=2s endpoint health >/dev/null 2>&1; do
    kill -0 "${ETCD_PIDS[$member]}" 2>/dev/null ||
      fail "etcd member $member exited" "$(tail -n 20 "$E2E_TMP/etcd-$member.log" 2>/dev/null)"
    ((SECONDS < deadline)) || fail "etcd member $member not healthy within 30s"
    sleep 0.1
  done
}

# stop_etcd MEMBER [SIGNAL]: stop one member (SIGTERM by default) and wait for it to exit.
stop_etcd() {
  local member=$1 sig=${2:-TERM}
  kill "-$sig" "${ETCD_PIDS[$member]}" 2>/dev/null || true
  wait "${ETCD_PIDS[$member]}" 2>/dev/null || true
  unset "ETCD_PIDS[$member]"
  ok "etcd member $member stopped (SIG$sig)"
}

# restart_etcd MEMBER: start a stopped member again on its data dir and wait until healthy.
restart_etcd() {
  local member=$1
  ETCD_ARGS[$member]=${ETCD_ARGS[$member]/--initial-cluster-state=new/--initial-cluster-state=existing}
  _run_etcd "$member"
  wait_etcd_healthy "$member"
  ok "etcd member $member restarted"
}
