# shellcheck shell=bash
# Nova's own processes (the five projectors and the API) under Debian's supervisor: restarted
# when they exit (after a crash or kill -9, with supervisor's growing back-off while one keeps
# failing at start-up), logs under $NOVA_STATE/processes/, controlled through a unix socket
# only this user can open (no TCP port). Sourced by scripts/stack. With NOVA_PROJECTOR_INSTANCES=N
# (`scripts/stack processes --instances N`) each projector runs as N instances sharing its
# partitions (one consumer group): projector-redis, projector-redis-2, ..., instance i answering
# on its projector's port + 100 x (i - 1).

NOVA_PROJECTORS=(redis clickhouse elasticsearch neo4j milvus)

# Every process supervisord is to run, by name (NOVA_PROJECTOR_INSTANCES of each projector).
nova_processes() {
  local store i instances=${NOVA_PROJECTOR_INSTANCES:-1}
  [[ "$instances" =~ ^[1-9][0-9]*$ ]] || die "NOVA_PROJECTOR_INSTANCES must be a whole number from 1, not '$instances'"
  for store in "${NOVA_PROJECTORS[@]}"; do
    echo "projector-$store"
    for ((i = 2; i <= instances; i++)); do echo "projector-$store-$i"; done
  done
  echo api
}

processes_dir() { echo "$NOVA_STATE/processes"; }
processes_conf() { echo "$(processes_dir)/supervisord.conf"; }
supervisor_pid() {
  local pid
  pid=$(cat "$(processes_dir)/supervisord.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && echo "$pid"
}

# Where each process answers /healthz, /readyz and /metrics (.env.example's ports).
process_port() {
  if [[ "$1" =~ ^(projector-[a-z0-9]+)-([0-9]+)$ ]]; then
    echo $(($(process_port "${BASH_REMATCH[1]}") + 100 * (BASH_REMATCH[2] - 1)))
    return
  fi
  case $1 in
  api) echo "$NOVA_API_PORT" ;;
  projector-redis) echo "$NOVA_PROJECTOR_REDIS_PORT" ;;
  projector-clickhouse) echo "$NOVA_PROJECTOR_CLICKHOUSE_PORT" ;;
  projector-elasticsearch) echo "$NOVA_PROJECTOR_ELASTICSEARCH_PORT" ;;
  projector-neo4j) echo "$NOVA_PROJECTOR_NEO4J_PORT" ;;
  projector-milvus) echo "$NOVA_PROJECTOR_MILVUS_PORT" ;;
  esac
}

process_command() {
  case $1 in
  api) echo "api --port $(process_port api)" ;;
  projector-*)
    local store=${1#projector-}
    echo "projector run ${store%%-*} --metrics-port $(process_port "$1")"
    ;;
  esac
}

write_processes_conf() {
  local dir
  dir=$(processes_dir)
  mkdir -p "$dir"
  {
    cat <<CONF
[unix_http_server]
file=$dir/supervisor.sock
chmod=0700

[supervisord]
logfile=$dir/supervisord.log
pidfile=$dir/supervisord.pid
childlogdir=$dir

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$dir/supervisor.sock
CONF
    local name
    for name in $(nova_processes); do
      cat <<CONF

[program:$name]
command=bash -c 'set -a; source "$NOVA_STATE/stack.env"; set +a; exec node --import tsx "$NOVA_ROOT/scripts/nova.ts" $(process_command "$name")'
directory=$NOVA_ROOT
autorestart=true
startsecs=5
startretries=20
stopsignal=TERM
stopwaitsecs=30
stopasgroup=true
killasgroup=true
redirect_stderr=true
stdout_logfile=$dir/$name.log
stdout_logfile_maxbytes=20MB
stdout_logfile_backups=3
CONF
    done
  } >"$(processes_conf)"
}

supervisorctl_() { supervisorctl -c "$(processes_conf)" "$@"; }

cmd_processes_up() {
  command -v supervisord >/dev/null || apt_install supervisor
  nova_processes >/dev/null # refuses a bad count before anything changes
  # the Debian package starts a system-wide supervisord of its own: Nova's is per clone
  write_processes_conf
  if supervisor_pid >/dev/null; then
    supervisorctl_ update >/dev/null
    supervisorctl_ start all >/dev/null || true
  else
    log "starting Nova's processes under supervisord"
    supervisord -c "$(processes_conf)" || die "supervisord did not start (log: $(processes_dir)/supervisord.log)"
  fi
  local deadline=$((SECONDS + ${NOVA_PROCESSES_TIMEOUT:-120})) name pending
  while :; do
    pending=()
    for name in $(nova_processes); do
      curl -fsS -m 2 "http://127.0.0.1:$(process_port "$name")/healthz" >/dev/null 2>&1 || pending+=("$name")
    done
    [ ${#pending[@]} -eq 0 ] && break
    [ $SECONDS -gt $deadline ] && die "not answering /healthz after ${NOVA_PROCESSES_TIMEOUT:-120}s: ${pending[*]} (logs: $(processes_dir)/<name>.log)"
    sleep 1
  done
}

cmd_processes_down() {
  local pid
  pid=$(supervisor_pid) || return 0
  log "stopping Nova's processes (supervisord pid $pid)"
  supervisorctl_ stop all >/dev/null 2>&1 || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
}

# The processes the running supervisord was configured with (the last `processes` wrote them).
configured_processes() { sed -nE 's/^\[program:(.*)\]$/\1/p' "$(processes_conf)" 2>/dev/null; }

# The status table's rows for Nova's processes; readiness from each one's /readyz.
processes_status() {
  supervisor_pid >/dev/null || return 0
  local name pid ready
  for name in $(configured_processes); do
    pid=$(supervisorctl_ pid "$name" 2>/dev/null) || pid=-
    [ "$pid" = 0 ] && pid=-
    if [ "$pid" != - ] && curl -fsS -m 2 "http://127.0.0.1:$(process_port "$name")/readyz" >/dev/null 2>&1; then ready=yes; else ready=no; fi
    printf '%-22s %-28s %-22s %-8s %s\n' "${name#projector-}" "${name%%-*}" "127.0.0.1:$(process_port "$name")" "$pid" "$ready"
  done
}
