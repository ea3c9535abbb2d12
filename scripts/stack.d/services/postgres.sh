# shellcheck shell=bash
# PostgreSQL 15 from apt, in a cluster of our own (never the system one), with
# wal_level=logical for Debezium. Runs as the `postgres` user: it refuses root.
postgres_needs=""
PG_BIN=/usr/lib/postgresql/$POSTGRES_MAJOR/bin

postgres_ports() { echo "$NOVA_PG_PORT"; }
postgres_address() { echo "127.0.0.1:$NOVA_PG_PORT"; }
postgres_version() { "$PG_BIN/postgres" --version 2>/dev/null | awk '{print $3}' || echo -; }

postgres_install() {
  apt_install "postgresql-$POSTGRES_MAJOR" postgresql-client-common
}

pg_socket_dir() { echo "$(svc_home postgres)/run"; }

# psql as the superuser over the private unix socket (peer auth).
pg_admin() {
  runuser -u postgres -- "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_socket_dir)" -p "$NOVA_PG_PORT" -d postgres -At "$@"
}

postgres_start() {
  local home data
  home=$(svc_home postgres)
  data="$home/data"
  mkdir -p "$home" "$(pg_socket_dir)"
  chown postgres:postgres "$home" "$(pg_socket_dir)"
  if [ ! -f "$data/PG_VERSION" ]; then
    install -d -o postgres -g postgres -m 700 "$data"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >>"$(svc_log postgres)" 2>&1 || return 1
  fi
  PG_SOCKET_DIR=$(pg_socket_dir) render "$TEMPLATES/postgres/postgresql.conf" "$home/conf/postgresql.conf"
  cp "$TEMPLATES/postgres/pg_hba.conf" "$home/conf/pg_hba.conf"
  chown -R postgres:postgres "$home/conf"
  spawn postgres postgres "$PG_BIN/postgres" -D "$data" -c "config_file=$home/conf/postgresql.conf"
}

postgres_healthy() { [ "$(pg_admin -c 'SELECT 1' 2>/dev/null)" = 1 ]; }

# Roles and databases, idempotent: nova owns the app database and the registry's,
# debezium may only replicate and read.
postgres_post_start() {
  pg_admin -v nova_pw="$NOVA_PG_PASSWORD" -v dbz_pw="$NOVA_PG_REPLICATION_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE nova LOGIN CREATEDB PASSWORD %L', :'nova_pw') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nova') \gexec
SELECT format('ALTER ROLE nova PASSWORD %L', :'nova_pw') \gexec
SELECT format('CREATE ROLE debezium LOGIN REPLICATION PASSWORD %L', :'dbz_pw') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'debezium') \gexec
SELECT format('ALTER ROLE debezium PASSWORD %L', :'dbz_pw') \gexec
SELECT 'CREATE DATABASE nova OWNER nova' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'nova') \gexec
SELECT 'CREATE DATABASE apicurio OWNER nova' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'apicurio') \gexec
GRANT CONNECT ON DATABASE nova TO debezium;
SQL
}
