#!/usr/bin/env bash
# run.sh: the startup benchmark, then the API benchmark against one fresh Skiff server.
#
# Arguments are passed to api_bench (e.g. --clients 8 --watchers 200). Environment:
# BUILD (default build/), KEEP_DATA=1 keeps the server's data directory and log,
# ETCD_MEMBERS=N runs the server on a fresh N-member etcd cluster on loopback (from ETCD,
# default /usr/bin/etcd; data under the temporary directory) instead of the embedded SQLite
# store, and skips the startup benchmark (which measures the embedded default).
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

etcd_members=${ETCD_MEMBERS:-0}
etcd=${ETCD:-/usr/bin/etcd}
if ((etcd_members == 0)); then
  SKIFF=$skiff "$root/bench/startup.sh"
  echo
fi

# A thousand watches are a thousand sockets on each side.
ulimit -n "$(ulimit -Hn)"

data_dir=$(mktemp -d)
server_pid=""
etcd_pids=()
finish() {
  local status=$?
  local pid
  if [[ -n $server_pid ]]; then
    if kill -0 "$server_pid" 2>/dev/null; then
      kill -TERM "$server_pid" 2>/dev/null || true
      wait "$server_pid" 2>/dev/null || true
    else
      echo "run.sh: the server had died; its log:" >&2
      tail -n 30 "$data_dir/server.log" >&2 || true
    fi
  fi
  for pid in "${etcd_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${KEEP_DATA:-0} == 1 ]]; then
    echo "run.sh: data directory and server log kept in $data_dir" >&2
  else
    rm -rf "$data_dir"
  fi
  exit "$status"
}
trap finish EXIT

# A port on 127.0.0.1 nothing listens on (and not handed out before).
given=" "
free_port() {
  local p
  while true; do
    p=$((20000 + RANDOM % 40000))
    [[ $given == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      given+="$p "
      port=$p
      return 0
    fi
  done
}

store_flags=()
if ((etcd_members > 0)); then
  declare -a clients peers
  initial=""
  for ((i = 1; i <= etcd_members; i++)); do
    free_port
    clients[i]=127.0.0.1:$port
    free_port
    peers[i]=http://127.0.0.1:$port
    initial+="${initial:+,}m$i=${peers[i]}"
  done
  endpoints=""
  for ((i = 1; i <= etcd_members; i++)); do
    "$etcd" --name "m$i" --data-dir "$data_dir/etcd-m$i" \
      --listen-client-urls "http://${clients[i]}" --advertise-client-urls "http://${clients[i]}" \
      --listen-peer-urls "${peers[i]}" --initial-advertise-peer-urls "${peers[i]}" \
      --initial-cluster "$initial" --initial-cluster-state new --logger zap \
      --log-outputs "$data_dir/etcd-m$i.log" >/dev/null 2>&1 &
    etcd_pids+=($!)
    endpoints+="${endpoints:+,}${clients[i]}"
  done
  for ((i = 1; i <= etcd_members; i++)); do
    for ((t = 0; t < 300; t++)); do
      [[ $(curl -s --max-time 1 "http://${clients[i]}/health" || true) == *'"health":"true"'* ]] && break
      sleep 0.1
    done
  done
  store_flags=(--datastore-endpoint "etcd://$endpoints")
  echo "etcd: $etcd_members member(s) at $endpoints"
fi

"$skiff" server --data-dir "$data_dir" --secure-port 0 --bind-address 127.0.0.1 --disable-agent \
  "${store_flags[@]}" >"$data_dir/server.log" 2>&1 &
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

if kill -0 "$server_pid" 2>/dev/null; then
  awk '/^VmRSS:/ { printf "server before the run: %s %s %s\n", $1, $2, $3 }' "/proc/$server_pid/status"
fi

status=0
"$api_bench" --kubeconfig "$kubeconfig" "$@" || status=$?

if kill -0 "$server_pid" 2>/dev/null; then
  awk '/^(VmRSS|VmHWM|Threads):/ { printf "server after the run: %s %s %s\n", $1, $2, $3 }' "/proc/$server_pid/status"
fi
for ((i = 0; i < ${#etcd_pids[@]}; i++)); do
  if kill -0 "${etcd_pids[i]}" 2>/dev/null; then
    awk -v m="m$((i + 1))" '/^(VmRSS|VmHWM):/ { printf "etcd %s after the run: %s %s %s\n", m, $1, $2, $3 }' \
      "/proc/${etcd_pids[i]}/status"
  fi
done
exit "$status"
