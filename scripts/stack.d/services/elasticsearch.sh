# shellcheck shell=bash
# Elasticsearch 8.19 from Maven Central's integ-test zip (the only ES distribution any
# reachable registry ships; 9.x is not published that way). A minimal build: no rest-root
# module, so `GET /` fails and health is `GET /_cluster/health`. Runs as `nova-es`: it
# refuses root.
elasticsearch_needs=""
ES_USER=nova-es

elasticsearch_ports() { echo "$NOVA_ELASTICSEARCH_PORT $NOVA_ELASTICSEARCH_TRANSPORT_PORT"; }
elasticsearch_address() { echo "127.0.0.1:$NOVA_ELASTICSEARCH_PORT"; }

es_cache() { echo "$NOVA_CACHE/elasticsearch-$ELASTICSEARCH_VERSION"; }
es_dist() { echo "$(es_cache)/elasticsearch-$ELASTICSEARCH_VERSION"; }

# The version of the server jar actually unpacked, not just the pin.
elasticsearch_version() {
  local jar
  for jar in "$(es_dist)"/lib/elasticsearch-[0-9]*.jar; do
    [ -f "$jar" ] && basename "$jar" .jar | sed 's/^elasticsearch-//' && return 0
  done
  echo -
}

elasticsearch_install() {
  local cache dist
  cache=$(es_cache)
  dist=$(es_dist)
  [ -f "$dist/.unpacked" ] && return 0
  # the zip is deleted once unpacked: without either, resolve it again
  [ -f "$cache/elasticsearch.zip" ] || rm -f "$cache/.complete"
  maven_layout elasticsearch "$cache" -Delasticsearch.version="$ELASTICSEARCH_VERSION"
  command -v unzip >/dev/null || apt_install unzip
  rm -rf "$dist" "$cache/unpack"
  unzip -q "$cache/elasticsearch.zip" -d "$cache/unpack" || die "elasticsearch: could not unzip $cache/elasticsearch.zip"
  mv "$cache/unpack/elasticsearch-$ELASTICSEARCH_VERSION" "$dist"
  rm -rf "$cache/unpack" "$cache/elasticsearch.zip"
  touch "$dist/.unpacked"
}

# nova-es cannot reach the cache when it sits under root's 0700 home (the default
# ~/.cache/nova): then it runs a hard-linked (else copied) tree inside DIR (a state dir).
es_runnable_home() {
  local dist linked
  dist=$(es_dist)
  if runuser -u "$ES_USER" -- test -r "$dist/lib/elasticsearch-$ELASTICSEARCH_VERSION.jar"; then
    echo "$dist"
    return 0
  fi
  linked="$1/dist-$ELASTICSEARCH_VERSION"
  if [ ! -f "$linked/.unpacked" ]; then
    mkdir -p "$1"
    rm -rf "$1"/dist-*
    cp -al "$dist" "$linked" 2>/dev/null || { rm -rf "$linked" && cp -a "$dist" "$linked"; } || return 1
  fi
  echo "$linked"
}

# Starts node SVC (home HOME, heap HEAP) from the distribution DIST with YML rendered as its
# elasticsearch.yml (ES_STATE and whatever the caller exported fill it in).
es_spawn() {
  local svc=$1 home=$2 heap=$3 dist=$4 yml=$5 java cli pid
  java=$(require_java 17 "$svc") || return 1
  ensure_user "$ES_USER"
  mkdir -p "$home"/{conf,data,logs,tmp}
  ES_STATE=$home ES_HEAP=$heap render "$TEMPLATES/elasticsearch/jvm.options" "$home/conf/jvm.options"
  ES_STATE=$home render "$yml" "$home/conf/elasticsearch.yml"
  cp "$TEMPLATES/elasticsearch/log4j2.properties" "$home/conf/log4j2.properties"
  chown -R "$ES_USER:" "$home/conf" "$home/data" "$home/logs" "$home/tmp"
  # bin/elasticsearch execs a CLI JVM that starts the server JVM as its child and then
  # idles beside it (~80 MB RSS with these trimmed options)
  spawn "$svc" "$ES_USER" env ES_JAVA_HOME="$java" ES_PATH_CONF="$home/conf" ES_TMPDIR="$home/tmp" \
    CLI_JAVA_OPTS="-Xss512k -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -XX:ReservedCodeCacheSize=16m" \
    "$dist/bin/elasticsearch"
  # Record the server JVM itself (SIGTERM stops it cleanly, then the CLI exits too).
  # If it cannot be found, the CLI's pid stays: its SIGTERM also stops the server.
  read -r cli _ <"$(svc_pidfile "$svc")"
  for _ in $(seq 100); do
    pid=$(pgrep -P "$cli" -f 'org\.elasticsearch\.bootstrap\.Elasticsearch' | head -n1) && [ -n "$pid" ] && break
    [ -d "/proc/$cli" ] || break
    sleep 0.2
  done
  [ -n "$pid" ] && echo "$pid $(proc_start_time "$pid")" >"$(svc_pidfile "$svc")"
  return 0
}

elasticsearch_start() {
  local home dist
  home=$(svc_home elasticsearch)
  dist=$(es_runnable_home "$home") || return 1
  es_spawn elasticsearch "$home" "${NOVA_ELASTICSEARCH_HEAP:-512m}" "$dist" "$TEMPLATES/elasticsearch/elasticsearch.yml"
}

# Yellow is as good as it gets on one node for indices with replicas.
elasticsearch_healthy() {
  curl -fsS -m 3 "http://127.0.0.1:$NOVA_ELASTICSEARCH_PORT/_cluster/health" 2>/dev/null |
    grep -qE '"status":"(green|yellow)"'
}
