# shellcheck shell=bash
# Apicurio Registry 3 (Quarkus fast-jar from Maven Central) on Java 21+, storing schemas in
# the stack's PostgreSQL (database `apicurio`) so ids survive restarts. Clients use the
# Confluent-compatible API at /apis/ccompat/v7; the Connect converter uses /apis/registry/v2.
registry_needs="postgres"
# Quarkus' management interface (health, metrics) cannot be switched off at run time, and
# would listen on 0.0.0.0:9000: it gets a loopback port of ours, NOVA_REGISTRY_MANAGEMENT_PORT.

registry_dir() { echo "$NOVA_CACHE/registry-$APICURIO_VERSION"; }

registry_ports() { echo "$NOVA_REGISTRY_PORT $NOVA_REGISTRY_MANAGEMENT_PORT"; }
registry_address() { echo "127.0.0.1:$NOVA_REGISTRY_PORT"; }

# The version of the app jar actually installed, read from its file name.
registry_version() {
  local jars=("$(registry_dir)"/app/apicurio-registry-app-*.jar)
  if [ -f "${jars[0]}" ]; then basename "${jars[0]}" .jar | sed 's/^apicurio-registry-app-//'; else echo -; fi
}

registry_install() {
  maven_layout registry "$(registry_dir)" -Dapicurio.version="$APICURIO_VERSION"
}

registry_start() {
  local home java_home
  home=$(svc_home registry)
  java_home=$(require_java 21 registry) || return 1
  mkdir -p "$home/tmp"
  render "$TEMPLATES/registry/application.properties" "$home/conf/application.properties" || return 1
  # A local registry mostly idles: small heap, serial GC and C1 only (about 190 MB RSS instead
  # of 255, and a faster start). The password goes by environment only, never argv or a file.
  APICURIO_DATASOURCE_PASSWORD=$NOVA_PG_PASSWORD spawn registry "" "$java_home/bin/java" \
    -Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError \
    -Djava.io.tmpdir="$home/tmp" \
    -Dquarkus.config.locations="file:$home/conf/application.properties" \
    -jar "$(registry_dir)/quarkus-run.jar"
}

# A real query through the API clients use: it reads the subjects from PostgreSQL.
registry_healthy() {
  http_ok "http://127.0.0.1:$NOVA_REGISTRY_PORT/apis/ccompat/v7/subjects"
}
