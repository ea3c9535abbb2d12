# shellcheck shell=bash
# The Redis Cluster profile: three masters and three replicas of the same Redis 7 as `redis`,
# on loopback ports NOVA_REDIS_CLUSTER_PORT.. (+0..+5; their cluster bus on
# NOVA_REDIS_CLUSTER_BUS_PORT..), each a process of its own (redis-cluster-<n>), created once with
# `redis-cli --cluster create`. Not part of a plain `up`: `scripts/stack up redis-cluster`.
redis_cluster_nodes=6
redis_cluster_needs=""

redis_cluster_node_port() { echo $((NOVA_REDIS_CLUSTER_PORT + $1)); }
redis_cluster_cli() { REDISCLI_AUTH="$NOVA_REDIS_PASSWORD" redis-cli -h 127.0.0.1 "$@"; }

# The ports of the nodes not running (a node running already keeps its port)
redis_cluster_ports() {
  local n
  for n in $(nodes_down redis-cluster "$redis_cluster_nodes"); do echo "$(redis_cluster_node_port "$n") $((NOVA_REDIS_CLUSTER_BUS_PORT + n))"; done
}
redis_cluster_address() { echo "127.0.0.1:$NOVA_REDIS_CLUSTER_PORT-$((NOVA_REDIS_CLUSTER_PORT + redis_cluster_nodes - 1))"; }
redis_cluster_version() { redis_version; }
redis_cluster_install() { redis_install; }

redis_cluster_pid() { nodes_pid redis-cluster "$redis_cluster_nodes"; }

redis_cluster_start() {
  local n home
  for n in $(nodes_down redis-cluster "$redis_cluster_nodes"); do
    home=$(svc_home "redis-cluster-$n")
    mkdir -p "$home/data"
    NODE_PORT=$(redis_cluster_node_port "$n") NODE_BUS_PORT=$((NOVA_REDIS_CLUSTER_BUS_PORT + n)) NODE_HOME=$home \
      render "$TEMPLATES/redis-cluster/node.conf" "$home/conf/redis.conf"
    chmod 600 "$home/conf/redis.conf"
    spawn "redis-cluster-$n" "" redis-server "$home/conf/redis.conf"
  done
}

redis_cluster_stop() {
  local n pid
  for ((n = redis_cluster_nodes - 1; n >= 0; n--)); do
    pid=$(svc_pid "redis-cluster-$n") && stop_pid "redis-cluster-$n" "$pid"
  done
  return 0
}

# Healthy once the cluster says ok (every slot served); the first start creates it once every node answers.
redis_cluster_healthy() {
  local n
  for ((n = 0; n < redis_cluster_nodes; n++)); do
    [ "$(redis_cluster_cli -p "$(redis_cluster_node_port "$n")" ping 2>/dev/null)" = PONG ] || return 1
  done
  redis_cluster_cli -p "$NOVA_REDIS_CLUSTER_PORT" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && return 0
  # created once: a node that knows no other is a fresh cluster
  if [ "$(redis_cluster_cli -p "$NOVA_REDIS_CLUSTER_PORT" cluster info 2>/dev/null | sed -nE 's/^cluster_known_nodes:([0-9]+).*/\1/p')" = 1 ]; then
    local addresses=()
    for ((n = 0; n < redis_cluster_nodes; n++)); do addresses+=("127.0.0.1:$(redis_cluster_node_port "$n")"); done
    log "creating the Redis Cluster over ${addresses[*]}"
    redis_cluster_cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >>"$(svc_log redis-cluster-0)" 2>&1 || return 1
  fi
  return 1
}
