# shellcheck shell=bash
# Apache Kafka in KRaft mode (broker and controller in one JVM), jars from Maven Central.
kafka_needs=""

kafka_dir() { echo "$NOVA_CACHE/kafka-$KAFKA_VERSION"; }
kafka_ports() { echo "$NOVA_KAFKA_PORT $NOVA_KAFKA_CONTROLLER_PORT"; }
kafka_address() { echo "127.0.0.1:$NOVA_KAFKA_PORT"; }
kafka_version() { echo "$KAFKA_VERSION"; }

kafka_install() {
  require_java 17 kafka >/dev/null
  maven_layout kafka "$(kafka_dir)" -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION"
}

# Runs a Java main class from the Kafka jar folder, in the foreground.
kafka_java() {
  local conf=$1
  shift
  "$(require_java 17 kafka)/bin/java" -Dlog4j2.configurationFile="$conf/log4j2.properties" \
    -cp "$(kafka_dir)/libs/*" "$@"
}

kafka_start() {
  local home
  home=$(svc_home kafka)
  mkdir -p "$home/data"
  render "$TEMPLATES/kafka/server.properties" "$home/conf/server.properties"
  NOVA_JAVA_LOG_LEVEL=INFO render "$TEMPLATES/kafka/log4j2.properties" "$home/conf/log4j2.properties"
  if [ ! -f "$home/data/meta.properties" ]; then
    # a Kafka Uuid: 16 random bytes, URL-safe base64 without padding (it may start with
    # "-", hence --cluster-id=...)
    local cluster_id
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    kafka_java "$home/conf" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$home/conf/server.properties" \
      >>"$(svc_log kafka)" 2>&1 || return 1
  fi
  spawn kafka "" "$(require_java 17 kafka)/bin/java" -Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -cp "$(kafka_dir)/libs/*" \
    kafka.Kafka "$home/conf/server.properties"
}

# A real Kafka protocol round trip from bash: ApiVersions v0 (api key 18), expecting
# correlation id 1 and error code 0 back. No JVM start, so it is cheap enough to poll.
kafka_healthy() {
  local reply
  reply=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x04nova" >&3
    head -c 10 <&3 | od -An -tx1 | tr -d " \n"' _ "$NOVA_KAFKA_PORT" 2>/dev/null) || return 1
  [ "${reply:8:12}" = 000000010000 ]
}
