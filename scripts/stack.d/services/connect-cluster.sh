# shellcheck shell=bash
# The cluster profile's Kafka Connect: a second distributed worker, on the three-broker
# kafka-cluster, with its own group and storage topics (replication factor 3), source producers
# with acks=all and idempotence, and the same plugin path as `connect` (Debezium, Apicurio's
# converter, Nova's transforms). Not part of a plain `up`: `scripts/stack up connect-cluster`.
connect_cluster_needs="kafka-cluster registry"

connect_cluster_ports() { echo "$NOVA_CONNECT_CLUSTER_PORT"; }
connect_cluster_address() { echo "127.0.0.1:$NOVA_CONNECT_CLUSTER_PORT"; }
connect_cluster_version() { connect_version; }
connect_cluster_install() { connect_install; }

connect_cluster_start() {
  local home
  home=$(svc_home connect-cluster)
  mkdir -p "$home"
  KAFKA_CLUSTER_BROKERS=$(kafka_cluster_brokers) CONNECT_PLUGIN_PATH="$(connect_plugins_dir)/plugins,$(connect_transforms_dir)" \
    render "$TEMPLATES/connect-cluster/worker.properties" "$home/conf/worker.properties"
  NOVA_JAVA_LOG_LEVEL=INFO render "$TEMPLATES/kafka/log4j2.properties" "$home/conf/log4j2.properties"
  spawn connect-cluster "" "$(require_java 17 connect)/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -cp "$(kafka_dir)/libs/*" \
    org.apache.kafka.connect.cli.ConnectDistributed "$home/conf/worker.properties"
}

# Healthy once the REST API answers and Debezium's connector class is loaded.
connect_cluster_healthy() {
  curl -fsS -m 3 "http://127.0.0.1:$NOVA_CONNECT_CLUSTER_PORT/connector-plugins" 2>/dev/null |
    grep -q 'io.debezium.connector.postgresql.PostgresConnector'
}
