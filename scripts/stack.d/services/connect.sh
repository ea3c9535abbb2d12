# shellcheck shell=bash
# Kafka Connect (distributed worker) with Debezium's PostgreSQL connector and
# Apicurio's Avro converter in its plugin folder.
connect_needs="kafka"

connect_plugins_dir() { echo "$NOVA_CACHE/connect-plugins-debezium-$DEBEZIUM_VERSION-apicurio-$APICURIO_CONVERTER_VERSION"; }
connect_ports() { echo "$NOVA_CONNECT_PORT"; }
connect_address() { echo "127.0.0.1:$NOVA_CONNECT_PORT"; }
connect_version() { echo "$KAFKA_VERSION+debezium-$DEBEZIUM_VERSION"; }

connect_install() {
  kafka_install
  maven_layout connect "$(connect_plugins_dir)" -Ddebezium.version="$DEBEZIUM_VERSION" \
    -Dapicurio.converter.version="$APICURIO_CONVERTER_VERSION"
}

connect_start() {
  local home
  home=$(svc_home connect)
  mkdir -p "$home"
  CONNECT_PLUGIN_PATH="$(connect_plugins_dir)/plugins" render "$TEMPLATES/connect/worker.properties" "$home/conf/worker.properties"
  NOVA_JAVA_LOG_LEVEL=INFO render "$TEMPLATES/kafka/log4j2.properties" "$home/conf/log4j2.properties"
  spawn connect "" "$(require_java 17 connect)/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -cp "$(kafka_dir)/libs/*" \
    org.apache.kafka.connect.cli.ConnectDistributed "$home/conf/worker.properties"
}

# Healthy once the REST API answers and Debezium's connector class is loaded.
connect_healthy() {
  curl -fsS -m 3 "http://127.0.0.1:$NOVA_CONNECT_PORT/connector-plugins" 2>/dev/null |
    grep -q 'io.debezium.connector.postgresql.PostgresConnector'
}
