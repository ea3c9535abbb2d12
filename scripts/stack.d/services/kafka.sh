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
    kafka_java "$home/conf" kafka.tools.StorageTool format --cluster-id="$(kafka_new_cluster_id)" -c "$home/conf/server.properties" \
      >>"$(svc_log kafka)" 2>&1 || return 1
  fi
  kafka_spawn kafka 512m
}

# A Kafka Uuid: 16 random bytes, URL-safe base64 without padding (it may start with "-", hence
# --cluster-id=...).
kafka_new_cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='; }

# Starts the Kafka node of service SVC from its rendered conf/, with HEAP.
kafka_spawn() {
  local svc=$1 heap=$2 home
  home=$(svc_home "$svc")
  spawn "$svc" "" "$(require_java 17 kafka)/bin/java" "-Xms$heap" "-Xmx$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -cp "$(kafka_dir)/libs/*" \
    kafka.Kafka "$home/conf/server.properties"
}

# One Kafka protocol request from bash, without a JVM (cheap enough to poll): REQUEST (printf
# escapes) to 127.0.0.1:PORT; prints the first BYTES of the reply as hex.
kafka_request() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "$2" >&3
    head -c "$3" <&3 | od -An -tx1 | tr -d " \n"' _ "$1" "$2" "$3" 2>/dev/null
}

# ApiVersions v0 (api key 18) to PORT, expecting correlation id 1 and error code 0 back.
kafka_answers() {
  local reply
  reply=$(kafka_request "$1" '\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x01\x00\x04nova' 10) || return 1
  [ "${reply:8:12}" = 000000010000 ]
}

kafka_healthy() { kafka_answers "$NOVA_KAFKA_PORT"; }
