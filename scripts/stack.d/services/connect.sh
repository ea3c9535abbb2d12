# shellcheck shell=bash
# Kafka Connect (distributed worker) with Debezium's PostgreSQL connector and
# Apicurio's Avro converter in its plugin folder, plus Nova's own transforms
# (connectors/transforms/, compiled here) in a second one.
connect_needs="kafka"

connect_plugins_dir() { echo "$NOVA_CACHE/connect-plugins-debezium-$DEBEZIUM_VERSION-apicurio-$APICURIO_CONVERTER_VERSION"; }
connect_transforms_src() { echo "$NOVA_ROOT/connectors/transforms/src"; }
# Keyed by the sources' hash: an edited transform is rebuilt on the next install or up.
connect_transforms_dir() {
  local hash
  hash=$(cd "$(connect_transforms_src)" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
  echo "$NOVA_CACHE/nova-connect-transforms-$KAFKA_VERSION-$hash"
}
connect_ports() { echo "$NOVA_CONNECT_PORT"; }
connect_address() { echo "127.0.0.1:$NOVA_CONNECT_PORT"; }
connect_version() { echo "$KAFKA_VERSION+debezium-$DEBEZIUM_VERSION"; }

connect_install() {
  kafka_install
  maven_layout connect "$(connect_plugins_dir)" -Ddebezium.version="$DEBEZIUM_VERSION" \
    -Dapicurio.converter.version="$APICURIO_CONVERTER_VERSION"
  connect_transforms_build
}

# javac against the worker's own jars: no build tool, nothing to download.
connect_transforms_build() {
  local dest src classes jdk
  dest=$(connect_transforms_dir)
  src=$(connect_transforms_src)
  [ -f "$dest/nova-connect-transforms.jar" ] && return 0
  jdk=$(require_java 17 connect)
  [ -x "$jdk/bin/javac" ] || die "connect: $jdk is a JRE; connectors/transforms needs javac (a JDK 17+, or set NOVA_JAVA_HOME)"
  log "compiling connectors/transforms into $dest"
  classes=$(mktemp -d)
  # shellcheck disable=SC2046 # one argument per source file
  "$jdk/bin/javac" --release 17 -Xlint:all -Werror -cp "$(kafka_dir)/libs/*" \
    -d "$classes" $(find "$src" -name '*.java') || die "connect: connectors/transforms does not compile"
  cp -r "$src/META-INF" "$classes/"
  mkdir -p "$dest"
  "$jdk/bin/jar" --create --file "$dest/nova-connect-transforms.jar" -C "$classes" . ||
    die "connect: could not package connectors/transforms"
  rm -rf "$classes"
}

# Starts the Connect worker of service SVC from templates/SVC/worker.properties (rendered with
# the plugin path and the environment).
connect_spawn() {
  local svc=$1 home
  home=$(svc_home "$svc")
  mkdir -p "$home"
  CONNECT_PLUGIN_PATH="$(connect_plugins_dir)/plugins,$(connect_transforms_dir)" render "$TEMPLATES/$svc/worker.properties" "$home/conf/worker.properties"
  NOVA_JAVA_LOG_LEVEL=INFO render "$TEMPLATES/kafka/log4j2.properties" "$home/conf/log4j2.properties"
  spawn "$svc" "" "$(require_java 17 connect)/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC \
    -Dlog4j2.configurationFile="$home/conf/log4j2.properties" -cp "$(kafka_dir)/libs/*" \
    org.apache.kafka.connect.cli.ConnectDistributed "$home/conf/worker.properties"
}

# Ready once the REST API on PORT answers and Debezium's connector class is loaded.
connect_ready() {
  curl -fsS -m 3 "http://127.0.0.1:$1/connector-plugins" 2>/dev/null |
    grep -q 'io.debezium.connector.postgresql.PostgresConnector'
}

connect_start() { connect_spawn connect; }
connect_healthy() { connect_ready "$NOVA_CONNECT_PORT"; }
