#!/usr/bin/env bash
# A three-node JetStream cluster on loopback, as production runs it (the pinned nats-server,
# `sync_interval: always`), for benchmarks against a cluster (`myaccount bench signins --nats
# "$(deploy/scripts/nats-cluster.sh start)" --stream-replicas 3`). The fault suite starts its
# own. Usage: nats-cluster.sh start|stop [DIR] (default DIR: a directory under /tmp).
# `start` prints the client URLs, comma-separated, once every node is a member of the cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
action="${1:-start}"
dir="${2:-/tmp/myaccount-nats-cluster}"
base_port="${NATS_CLUSTER_BASE_PORT:-14222}"

stop() {
  for i in 0 1 2; do
    if [ -f "$dir/nats-$i/pid" ]; then
      kill "$(cat "$dir/nats-$i/pid")" 2>/dev/null || true
      rm -f "$dir/nats-$i/pid"
    fi
  done
}

case "$action" in
  stop)
    stop
    exit 0
    ;;
  start) ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac

binary=$(deploy/scripts/ensure-nats-server.sh)
stop
urls=()
for i in 0 1 2; do
  client=$((base_port + i))
  cluster=$((base_port + 100 + i))
  monitor=$((base_port + 200 + i))
  routes=()
  for j in 0 1 2; do
    [ "$j" = "$i" ] || routes+=("\"nats-route://127.0.0.1:$((base_port + 100 + j))\"")
  done
  node="$dir/nats-$i"
  mkdir -p "$node"
  cat >"$node/nats-server.conf" <<CONF
server_name: bench_$i
listen: 127.0.0.1:$client
http: 127.0.0.1:$monitor
jetstream {
  store_dir: "$node/jetstream"
  sync_interval: always
}
cluster {
  name: bench
  listen: 127.0.0.1:$cluster
  routes: [$(IFS=,; echo "${routes[*]}")]
}
CONF
  "$binary" -c "$node/nats-server.conf" >"$node/nats-server.log" 2>&1 &
  echo $! >"$node/pid"
  urls+=("nats://127.0.0.1:$client")
done
# Ready when every node is healthy: its JetStream current with the meta group.
for i in 0 1 2; do
  monitor=$((base_port + 200 + i))
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$monitor/healthz" >/dev/null 2>&1; then
      break
    fi
    sleep 0.2
  done
done
(IFS=,; echo "${urls[*]}")
