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

connect_cluster_start() { KAFKA_CLUSTER_BROKERS=$(kafka_cluster_brokers) connect_spawn connect-cluster; }
connect_cluster_healthy() { connect_ready "$NOVA_CONNECT_CLUSTER_PORT"; }
