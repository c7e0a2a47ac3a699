#!/usr/bin/env bash
# startup.sh: how fast a fresh Skiff server becomes ready, and how much memory it then
# holds while idle.
#
# Each run starts `skiff server` on a fresh data directory (so the cluster PKI and the
# datastore are created from scratch), measures the time from process start to the first
# HTTP 200 from /readyz (polled every ~5 ms), waits IDLE_SECONDS and reads the server's
# VmRSS. Prints one row per run, then
#   BENCH startup ready_ms_median=… idle_rss_mib=…
# (idle_rss_mib is the median over the runs).
#
# Environment: SKIFF (default build/skiff), RUNS (5), IDLE_SECONDS (5),
# READY_TIMEOUT_SECONDS (30).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
skiff=${SKIFF:-$root/build/skiff}
runs=${RUNS:-5}
idle_seconds=${IDLE_SECONDS:-5}
ready_timeout=${READY_TIMEOUT_SECONDS:-30}

if [[ ! -x $skiff ]]; then
  echo "startup.sh: $skiff is not built" >&2
  exit 1
fi

# Microseconds since the epoch, without forking.
now_us() {
  local t=${EPOCHREALTIME/[.,]/}
  echo "$t"
}

server_pid=""
data_dir=""
stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  if [[ -n $data_dir ]]; then rm -rf "$data_dir"; fi
  data_dir=""
}
trap stop_server EXIT

# Waits for the server's kubeconfig (it carries the chosen port), then for /readyz = 200.
# Prints the server URL. Fails if the server exits or the deadline passes.
wait_ready() {
  local kubeconfig=$1 deadline_us=$(($(now_us) + ready_timeout * 1000000)) url=""
  while (($(now_us) < deadline_us)); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "startup.sh: server exited before becoming ready; its log:" >&2
      tail -n 20 "$data_dir/server.log" >&2 || true
      return 1
    fi
    if [[ -z $url && -s $kubeconfig ]]; then
      url=$(sed -n 's/^[[:space:]]*server:[[:space:]]*//p' "$kubeconfig" | head -n 1)
    fi
    if [[ -n $url ]] &&
      [[ $(curl -k -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/readyz" || true) == 200 ]]; then
      echo "$url"
      return 0
    fi
    sleep 0.005
  done
  echo "startup.sh: server not ready after ${ready_timeout}s; its log:" >&2
  tail -n 20 "$data_dir/server.log" >&2 || true
  return 1
}

ready_ms=()
rss_mib=()
printf '%-4s %10s %13s\n' run ready_ms idle_rss_mib
for ((run = 1; run <= runs; run++)); do
  data_dir=$(mktemp -d)
  start_us=$(now_us)
  "$skiff" server --data-dir "$data_dir" --secure-port 0 --bind-address 127.0.0.1 --disable-agent \
    >"$data_dir/server.log" 2>&1 &
  server_pid=$!
  wait_ready "$data_dir/admin.kubeconfig" >/dev/null
  end_us=$(now_us)
  ms=$(awk -v d=$((end_us - start_us)) 'BEGIN { printf "%.1f", d / 1000 }')
  sleep "$idle_seconds"
  rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
  mib=$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')
  printf '%-4s %10s %13s\n' "$run" "$ms" "$mib"
  ready_ms+=("$ms")
  rss_mib+=("$mib")
  stop_server
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "BENCH startup ready_ms_median=$(median "${ready_ms[@]}") idle_rss_mib=$(median "${rss_mib[@]}")"
