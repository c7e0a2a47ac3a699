#!/usr/bin/env bash
# Installs what is needed, builds Skiff and starts a single-node control plane on the
# embedded datastore. Usage: scripts/run-server.sh [skiff server flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKIFF_BUILD_TESTS=OFF -DSKIFF_BUILD_BENCH=OFF >/dev/null
cmake --build build --target skiff
DATA_DIR=${SKIFF_DATA_DIR:-/var/lib/skiff}
echo
echo "Starting skiff server (data dir $DATA_DIR). In another shell:"
echo "  export KUBECONFIG=$DATA_DIR/admin.kubeconfig"
echo "  kubectl get namespaces"
echo
exec build/skiff server --data-dir "$DATA_DIR" "$@"
