#!/usr/bin/env bash
# run.sh: the startup benchmark, then the API benchmark against one fresh Skiff server.
#
# Arguments are passed to api_bench (e.g. --clients 8 --watchers 200). Environment:
# BUILD (default build/), KEEP_DATA=1 keeps the server's data directory and log.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$root/build}
skiff=$build/skiff
api_bench=$build/bench/api_bench

for binary in "$skiff" "$api_bench"; do
  if [[ ! -x $binary ]]; then
    echo "run.sh: $binary is not built" >&2
    exit 1
  fi
done

SKIFF=$skiff "$root/bench/startup.sh"
echo

# A thousand watches are a thousand sockets on each side.
ulimit -n "$(ulimit -Hn)"

data_dir=$(mktemp -d)
server_pid=""
finish() {
  local status=$?
  if [[ -n $server_pid ]]; then
    if kill -0 "$server_pid" 2>/dev/null; then
      kill -TERM "$server_pid" 2>/dev/null || true
      wait "$server_pid" 2>/dev/null || true
    else
      echo "run.sh: the server had died; its log:" >&2
      tail -n 30 "$data_dir/server.log" >&2 || true
    fi
  fi
  if [[ ${KEEP_DATA:-0} == 1 ]]; then
    echo "run.sh: data directory and server log kept in $data_dir" >&2
  else
    rm -rf "$data_dir"
  fi
  exit "$status"
}
trap finish EXIT

"$skiff" server --data-dir "$data_dir" --secure-port 0 --bind-address 127.0.0.1 --disable-agent \
  >"$data_dir/server.log" 2>&1 &
server_pid=$!

kubeconfig=$data_dir/admin.kubeconfig
for ((i = 0; i < 3000; i++)); do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if [[ -s $kubeconfig ]]; then
    url=$(sed -n 's/^[[:space:]]*server:[[:space:]]*//p' "$kubeconfig" | head -n 1)
    if [[ $(curl -k -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/readyz" || true) == 200 ]]; then
      break
    fi
  fi
  sleep 0.01
done

status=0
"$api_bench" --kubeconfig "$kubeconfig" "$@" || status=$?

if kill -0 "$server_pid" 2>/dev/null; then
  awk '/^(VmRSS|VmHWM|Threads):/ { printf "server after the run: %s %s %s\n", $1, $2, $3 }' "/proc/$server_pid/status"
fi
exit "$status"
