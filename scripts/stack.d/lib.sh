# shellcheck shell=bash
# Shared helpers for scripts/stack: paths, env, process bookkeeping, waiting.
# Sourced, never executed. Every service file in services/ builds on these.

NOVA_ROOT=${NOVA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
STACK_D="$NOVA_ROOT/scripts/stack.d"
TEMPLATES="$STACK_D/templates"

# shellcheck source=/dev/null
source "$STACK_D/versions.env"

load_env() {
  set -a
  # shellcheck source=/dev/null
  source "$NOVA_ROOT/.env.example"
  # shellcheck source=/dev/null
  [ -f "$NOVA_ROOT/.env" ] && source "$NOVA_ROOT/.env"
  set +a
  NOVA_STATE=${NOVA_STATE_DIR:-$NOVA_ROOT/.nova}
  NOVA_CACHE=${NOVA_CACHE_DIR:-$HOME/.cache/nova}
  export NOVA_STATE NOVA_CACHE
  mkdir -p "$NOVA_STATE" "$NOVA_CACHE"
}

log() { printf '%s\n' "stack: $*" >&2; }
die() { printf '%s\n' "stack: error: $*" >&2; exit 1; }

# A service's hooks: services/<svc>.sh defines <svc>_<hook> (dashes in its name spelled as
# underscores): install, ports, start, healthy, version, address; optionally needs (a variable),
# post_start, and pid and stop for a service of several processes.
svc_hook() {
  local svc=$1 hook=$2
  shift 2
  "${svc//-/_}_$hook" "$@"
}
svc_has_hook() { declare -F "${1//-/_}_$2" >/dev/null; }
svc_needs() {
  local var="${1//-/_}_needs"
  echo "${!var:-}"
}
# The pid of a running service, or failure
service_pid() { if svc_has_hook "$1" pid; then svc_hook "$1" pid; else svc_pid "$1"; fi; }
service_stop() { if svc_has_hook "$1" stop; then svc_hook "$1" stop; else stop_pid "$1" "$2"; fi; }

# A service of COUNT processes, SVC-0 .. SVC-<COUNT-1> (a cluster profile): running while every
# one runs, its pid the first one's; and the numbers of those not running.
nodes_pid() {
  local n pid first=""
  for ((n = 0; n < $2; n++)); do
    pid=$(svc_pid "$1-$n") || return 1
    first=${first:-$pid}
  done
  echo "$first"
}
nodes_down() {
  local n
  for ((n = 0; n < $2; n++)); do svc_pid "$1-$n" >/dev/null || echo "$n"; done
}
# Stops every node of such a service at once (and waits for them all)
nodes_stop() {
  local n pid waits=()
  for ((n = $2 - 1; n >= 0; n--)); do
    if pid=$(svc_pid "$1-$n"); then
      stop_pid "$1-$n" "$pid" &
      waits+=($!)
    fi
  done
  for pid in "${waits[@]}"; do wait "$pid" || true; done
  return 0
}

# Per-service layout: $NOVA_STATE/<svc>/{data,conf,<svc>.log,pid}
svc_home() { echo "$NOVA_STATE/$1"; }
svc_log() { echo "$NOVA_STATE/$1/$1.log"; }
svc_pidfile() { echo "$NOVA_STATE/$1/pid"; }

# A process's start time (clock ticks since boot): with the pid it names one process
# for good, so a recycled pid is never mistaken for (or killed as) one of our servers.
proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# The pid we recorded, only while that very process is alive (a zombie awaiting its
# reaper counts as gone).
svc_pid() {
  local pidfile pid started
  pidfile=$(svc_pidfile "$1")
  [ -f "$pidfile" ] || return 1
  read -r pid started <"$pidfile" || true
  [ -n "$pid" ] && [ -n "$started" ] && [ "$(proc_start_time "$pid")" = "$started" ] || return 1
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  echo "$pid"
}

# Starts a server in the background, in its own session, as USER (root if empty),
# logging to its log file and recording its pid.
spawn() {
  local svc=$1 user=$2
  shift 2
  local log
  log=$(svc_log "$svc")
  mkdir -p "$(dirname "$log")"
  echo "=== stack: starting $svc at $(date -u +%FT%TZ) ===" >>"$log"
  [ -n "$user" ] && chown "$user" "$log"
  if [ -n "$user" ]; then
    setsid runuser -u "$user" -- "$@" >>"$log" 2>&1 </dev/null &
  else
    setsid "$@" >>"$log" 2>&1 </dev/null &
  fi
  local pid=$!
  # runuser forks the real server; record the child so `down` signals the server itself
  if [ -n "$user" ]; then
    local child=""
    for _ in $(seq 50); do
      child=$(pgrep -P "$pid" | head -n1) && [ -n "$child" ] && break
      sleep 0.1
    done
    [ -n "$child" ] && pid=$child
  fi
  echo "$pid $(proc_start_time "$pid")" >"$(svc_pidfile "$svc")"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Who holds a TCP port on loopback, for the "port already taken" error.
port_owner() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -oE 'users:\(\("[^"]+",pid=[0-9]+' | head -n1 |
    sed -E 's/users:\(\("([^"]+)",pid=([0-9]+)/\1 (pid \2)/'
}

# Creates the unprivileged user that runs the servers which refuse root.
ensure_user() {
  id -u "$1" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$1"
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ ! -f /var/lib/apt/periodic/nova-updated ] || ! apt-cache show "${missing[0]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null || die "apt-get update failed"
    mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/nova-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# Resolves a Maven pom under maven/<name> into DEST (a cache folder), once.
# Extra -D properties come from the arguments.
maven_layout() {
  local name=$1 dest=$2
  shift 2
  [ -f "$dest/.complete" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  log "resolving $name from Maven Central into $dest"
  rm -rf "$dest" && mkdir -p "$dest"
  mvn -q -B -f "$STACK_D/maven/$name/pom.xml" package -Dnova.out="$dest" "$@" >"$dest/.maven.log" 2>&1 ||
    die "$name: Maven could not resolve its artifacts (see $dest/.maven.log)"
  touch "$dest/.complete"
}

# Renders a template: ${VAR} references are replaced from the environment.
render() {
  local src=$1 dst=$2
  mkdir -p "$(dirname "$dst")"
  envsubst <"$src" >"$dst"
}

# A JDK home with at least the given major version, or nothing.
java_home_for() {
  local need=$1 candidate
  for candidate in ${NOVA_JAVA_HOME:-} /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -x "$candidate/bin/java" ] || continue
    local major
    major=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | sed -nE 's/ *java.specification.version = ([0-9]+).*/\1/p')
    if [ -n "$major" ] && [ "$major" -ge "$need" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

require_java() {
  java_home_for "$1" || die "$2 needs a Java $1+ JDK: none found under /usr/lib/jvm (set NOVA_JAVA_HOME)"
}

http_ok() { curl -fsS -m 3 -o /dev/null "$@" 2>/dev/null; }
