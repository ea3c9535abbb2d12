# shellcheck shell=bash
# The Kafka cluster profile: three KRaft nodes of the same Kafka as `kafka`, each broker and
# controller in one JVM (process.roles=broker,controller), a static 3-voter controller quorum,
# each node a process of its own (kafka-cluster-<n>, its own data dir, log and pid), on loopback
# ports NOVA_KAFKA_CLUSTER_PORT.. (+0..+2; controllers on NOVA_KAFKA_CLUSTER_CONTROLLER_PORT..).
# Topics default to replication factor 3 with min.insync.replicas 2. Every node is formatted with
# one cluster id, generated once and kept in the first node's home. Not part of a plain `up`:
# `scripts/stack up kafka-cluster`; after a node died, the same command starts only that node.
kafka_cluster_nodes=3
kafka_cluster_needs=""

kafka_cluster_node_port() { echo $((NOVA_KAFKA_CLUSTER_PORT + $1)); }
kafka_cluster_controller_port() { echo $((NOVA_KAFKA_CLUSTER_CONTROLLER_PORT + $1)); }
# node n has node.id n+1
kafka_cluster_voters() {
  local n voters=()
  for ((n = 0; n < kafka_cluster_nodes; n++)); do voters+=("$((n + 1))@127.0.0.1:$(kafka_cluster_controller_port "$n")"); done
  (IFS=,; echo "${voters[*]}")
}
kafka_cluster_brokers() {
  local n brokers=()
  for ((n = 0; n < kafka_cluster_nodes; n++)); do brokers+=("127.0.0.1:$(kafka_cluster_node_port "$n")"); done
  (IFS=,; echo "${brokers[*]}")
}

# The ports of the nodes not running (a node running already keeps its ports)
kafka_cluster_ports() {
  local n
  for n in $(nodes_down kafka-cluster "$kafka_cluster_nodes"); do echo "$(kafka_cluster_node_port "$n") $(kafka_cluster_controller_port "$n")"; done
}
kafka_cluster_address() { echo "127.0.0.1:$NOVA_KAFKA_CLUSTER_PORT-$((NOVA_KAFKA_CLUSTER_PORT + kafka_cluster_nodes - 1))"; }
kafka_cluster_version() { kafka_version; }
kafka_cluster_install() { kafka_install; }

kafka_cluster_pid() { nodes_pid kafka-cluster "$kafka_cluster_nodes"; }

# The cluster id every node is formatted with: made once, kept in the first node's home.
kafka_cluster_id() {
  local file
  file="$(svc_home kafka-cluster-0)/cluster-id"
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")"
    kafka_new_cluster_id >"$file"
  fi
  cat "$file"
}

kafka_cluster_start() {
  local n home cluster_id formats=()
  cluster_id=$(kafka_cluster_id)
  for n in $(nodes_down kafka-cluster "$kafka_cluster_nodes"); do
    home=$(svc_home "kafka-cluster-$n")
    mkdir -p "$home/data"
    NODE_ID=$((n + 1)) NODE_PORT=$(kafka_cluster_node_port "$n") NODE_CONTROLLER_PORT=$(kafka_cluster_controller_port "$n") \
      NODE_HOME=$home KAFKA_CLUSTER_VOTERS=$(kafka_cluster_voters) \
      render "$TEMPLATES/kafka-cluster/server.properties" "$home/conf/server.properties"
    NOVA_JAVA_LOG_LEVEL=INFO render "$TEMPLATES/kafka/log4j2.properties" "$home/conf/log4j2.properties"
    if [ ! -f "$home/data/meta.properties" ]; then
      # the formats in parallel: one JVM start each
      kafka_java "$home/conf" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$home/conf/server.properties" \
        >>"$(svc_log "kafka-cluster-$n")" 2>&1 &
      formats+=($!)
    fi
  done
  local pid
  for pid in "${formats[@]}"; do wait "$pid" || return 1; done
  for n in $(nodes_down kafka-cluster "$kafka_cluster_nodes"); do kafka_spawn "kafka-cluster-$n" 384m; done
}

# All nodes at once: each broker's controlled shutdown needs a controller quorum, which one by
# one the last node would no longer have.
kafka_cluster_stop() { nodes_stop kafka-cluster "$kafka_cluster_nodes"; }

# The metadata quorum's leader by DescribeQuorum v0 (api key 55) to a broker, which forwards it
# to the active controller: the LeaderId of __cluster_metadata partition 0, or failure.
kafka_cluster_quorum_leader() {
  local reply
  reply=$(kafka_request "$1" '\x00\x00\x00\x2b\x00\x37\x00\x00\x00\x00\x00\x01\x00\x04nova\x00\x02\x13__cluster_metadata\x02\x00\x00\x00\x00\x00\x00\x00' 42) || return 1
  # correlation id 1, no error at the top or for the partition, then the leader id (-1: none)
  [ "${#reply}" = 84 ] && [ "${reply:8:8}" = 00000001 ] && [ "${reply:18:4}" = 0000 ] && [ "${reply:72:4}" = 0000 ] || return 1
  local leader=$((16#${reply:76:8}))
  [ "$leader" -ge 1 ] && [ "$leader" -le "$kafka_cluster_nodes" ] && echo "$leader"
}

# Healthy once every node answers ApiVersions and the controller quorum has a leader.
kafka_cluster_healthy() {
  local n
  for ((n = 0; n < kafka_cluster_nodes; n++)); do
    kafka_answers "$(kafka_cluster_node_port "$n")" || return 1
  done
  kafka_cluster_quorum_leader "$NOVA_KAFKA_CLUSTER_PORT" >/dev/null
}
