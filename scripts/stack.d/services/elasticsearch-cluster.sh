# shellcheck shell=bash
# The Elasticsearch cluster profile: three nodes of the same Elasticsearch as `elasticsearch`,
# each master-eligible and a data node with a data path of its own, a small heap each
# (at most NOVA_ELASTICSEARCH_CLUSTER_HEAP, default 384m), each a process of its own
# (elasticsearch-cluster-<n>), on loopback ports NOVA_ELASTICSEARCH_CLUSTER_PORT.. (+0..+2; transport
# on NOVA_ELASTICSEARCH_CLUSTER_TRANSPORT_PORT..). Projectors put one replica on their indices
# there (ELASTICSEARCH_INDEX_REPLICAS=1), so one node stopped loses nothing. Not part of a plain
# `up`: `scripts/stack up elasticsearch-cluster`; after a node died, the same command starts only that node.
elasticsearch_cluster_nodes=3
elasticsearch_cluster_needs=""

elasticsearch_cluster_node_port() { echo $((NOVA_ELASTICSEARCH_CLUSTER_PORT + $1)); }
elasticsearch_cluster_transport_port() { echo $((NOVA_ELASTICSEARCH_CLUSTER_TRANSPORT_PORT + $1)); }

# The ports of the nodes not running (a node running already keeps its ports)
elasticsearch_cluster_ports() {
  local n
  for n in $(nodes_down elasticsearch-cluster "$elasticsearch_cluster_nodes"); do
    echo "$(elasticsearch_cluster_node_port "$n") $(elasticsearch_cluster_transport_port "$n")"
  done
}
elasticsearch_cluster_urls() {
  local n urls=()
  for ((n = 0; n < elasticsearch_cluster_nodes; n++)); do urls+=("http://127.0.0.1:$(elasticsearch_cluster_node_port "$n")"); done
  (IFS=,; echo "${urls[*]}")
}
elasticsearch_cluster_address() { echo "127.0.0.1:$NOVA_ELASTICSEARCH_CLUSTER_PORT-$((NOVA_ELASTICSEARCH_CLUSTER_PORT + elasticsearch_cluster_nodes - 1))"; }
elasticsearch_cluster_version() { elasticsearch_version; }
elasticsearch_cluster_install() { elasticsearch_install; }

elasticsearch_cluster_pid() { nodes_pid elasticsearch-cluster "$elasticsearch_cluster_nodes"; }

elasticsearch_cluster_start() {
  local n dist formed="" bootstrap seeds=() masters=()
  for ((n = 0; n < elasticsearch_cluster_nodes; n++)); do
    seeds+=("\"127.0.0.1:$(elasticsearch_cluster_transport_port "$n")\"")
    masters+=("nova-es-$n")
    [ -d "$(svc_home "elasticsearch-cluster-$n")/data/_state" ] && formed=yes
  done
  # the bootstrap list only for a first formation: no node has cluster state yet
  bootstrap="cluster.initial_master_nodes: [$(IFS=,; echo "${masters[*]}")]"
  [ -n "$formed" ] && bootstrap="# formed already: no cluster.initial_master_nodes"
  # one runnable tree for the three nodes
  dist=$(es_runnable_home "$(svc_home elasticsearch-cluster)") || return 1
  for n in $(nodes_down elasticsearch-cluster "$elasticsearch_cluster_nodes"); do
    NODE_NAME=nova-es-$n NODE_HTTP_PORT=$(elasticsearch_cluster_node_port "$n") NODE_TRANSPORT_PORT=$(elasticsearch_cluster_transport_port "$n") \
      ES_CLUSTER_SEEDS=$(IFS=,; echo "${seeds[*]}") ES_CLUSTER_BOOTSTRAP=$bootstrap \
      es_spawn "elasticsearch-cluster-$n" "$(svc_home "elasticsearch-cluster-$n")" "${NOVA_ELASTICSEARCH_CLUSTER_HEAP:-384m}" "$dist" \
      "$TEMPLATES/elasticsearch-cluster/elasticsearch.yml"
  done
}

# All nodes at once: none waits for the cluster to move its shards off the one stopping before
elasticsearch_cluster_stop() { nodes_stop elasticsearch-cluster "$elasticsearch_cluster_nodes"; }

# Healthy once every node answers that the cluster has all three nodes and every shard assigned (green).
elasticsearch_cluster_healthy() {
  local n
  for ((n = 0; n < elasticsearch_cluster_nodes; n++)); do
    curl -fsS -m 5 "http://127.0.0.1:$(elasticsearch_cluster_node_port "$n")/_cluster/health?wait_for_status=green&wait_for_nodes=$elasticsearch_cluster_nodes&timeout=1s" 2>/dev/null |
      grep -q '"timed_out":false' || return 1
  done
}
