# shellcheck shell=bash
# ClickHouse from apt: Debian's 18.16.1 is the only server binary any reachable
# registry ships (see shared/design/clickhouse-18.md for the SQL it accepts).
clickhouse_needs=""

clickhouse_ports() { echo "$NOVA_CLICKHOUSE_HTTP_PORT $NOVA_CLICKHOUSE_TCP_PORT"; }
clickhouse_address() { echo "127.0.0.1:$NOVA_CLICKHOUSE_HTTP_PORT"; }
clickhouse_version() { dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null | cut -d+ -f1; }
clickhouse_install() { apt_install clickhouse-server clickhouse-client; }

clickhouse_start() {
  local home
  home=$(svc_home clickhouse)
  mkdir -p "$home/data/tmp" "$home/data/user_files" "$home/data/format_schemas"
  render "$TEMPLATES/clickhouse/config.xml" "$home/conf/config.xml"
  CLICKHOUSE_PASSWORD_SHA256=$(printf '%s' "$NOVA_CLICKHOUSE_PASSWORD" | sha256sum | cut -d' ' -f1) \
    render "$TEMPLATES/clickhouse/users.xml" "$home/conf/users.xml"
  chmod 600 "$home/conf/users.xml"
  spawn clickhouse "" clickhouse-server --config-file="$home/conf/config.xml"
}

clickhouse_healthy() {
  [ "$(curl -fsS -m 3 -u "nova:$NOVA_CLICKHOUSE_PASSWORD" "http://127.0.0.1:$NOVA_CLICKHOUSE_HTTP_PORT/?query=SELECT%201" 2>/dev/null)" = 1 ]
}
