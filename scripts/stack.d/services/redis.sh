# shellcheck shell=bash
# Redis 7 from apt, with a generated password, persistence in its own data dir.
redis_needs=""

redis_ports() { echo "$NOVA_REDIS_PORT"; }
redis_address() { echo "127.0.0.1:$NOVA_REDIS_PORT"; }
redis_version() { redis-server --version 2>/dev/null | sed -nE 's/.* v=([0-9.]+).*/\1/p'; }
redis_install() { apt_install redis-server redis-tools; }

redis_start() {
  local home
  home=$(svc_home redis)
  mkdir -p "$home/data"
  render "$TEMPLATES/redis/redis.conf" "$home/conf/redis.conf"
  chmod 600 "$home/conf/redis.conf"
  spawn redis "" redis-server "$home/conf/redis.conf"
}

redis_healthy() {
  [ "$(REDISCLI_AUTH="$NOVA_REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$NOVA_REDIS_PORT" ping 2>/dev/null)" = PONG ]
}
