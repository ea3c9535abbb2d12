# shellcheck shell=bash
# Neo4j 5.26 LTS Community from Maven Central, a jar folder run by its server entry point
# (one JVM: the neo4j launcher script is not on Maven Central). Bolt only, auth on with
# the generated password.
neo4j_needs=""

neo4j_ports() { echo "$NOVA_NEO4J_BOLT_PORT"; }
neo4j_address() { echo "127.0.0.1:$NOVA_NEO4J_BOLT_PORT"; }

neo4j_cache() { echo "$NOVA_CACHE/neo4j-$NEO4J_VERSION"; }

# The version of the kernel jar actually resolved, not just the pin.
neo4j_version() {
  local jar
  for jar in "$(neo4j_cache)"/lib/neo4j-kernel-[0-9]*.jar; do
    [ -f "$jar" ] && basename "$jar" .jar | sed 's/^neo4j-kernel-//' && return 0
  done
  echo -
}

neo4j_install() {
  maven_layout neo4j "$(neo4j_cache)" -Dneo4j.version="$NEO4J_VERSION"
  # the health check speaks Bolt from Python's standard library
  [ -x /usr/bin/python3 ] || command -v python3 >/dev/null || apt_install python3-minimal
}

# What the neo4j launcher would add from its stock neo4j.conf (server.jvm.additional):
# without the --add-opens, the page cache and the tx log fall back to slow paths.
# A small initial heap (max 512m): idle RSS ~360 MB instead of ~650 MB with -Xms512m.
neo4j_jvm_opts() {
  local heap=${NOVA_NEO4J_HEAP:-512m}
  echo "-Xms128m -Xmx$heap -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+DisableExplicitGC" \
    "-XX:+UnlockExperimentalVMOptions -XX:+TrustFinalNonStaticFields" \
    "-Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true" \
    "-Dlog4j2.disable.jmx=true -Dfile.encoding=UTF-8" \
    "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED" \
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
}

neo4j_start() {
  local home java lib
  home=$(svc_home neo4j)
  lib="$(neo4j_cache)/lib"
  java=$(require_java 17 neo4j) || return 1
  mkdir -p "$home"/{conf,data,logs,run,import,plugins}
  NEO4J_STATE=$home NEO4J_PAGECACHE=${NOVA_NEO4J_PAGECACHE:-256m} render "$TEMPLATES/neo4j/neo4j.conf" "$home/conf/neo4j.conf"
  # The initial password only counts before the system database exists, so set it then.
  if [ ! -d "$home/data/databases/system" ]; then
    NEO4J_HOME=$home NEO4J_CONF=$home/conf "$java/bin/java" -Xmx256m -cp "$lib/*" org.neo4j.cli.AdminTool \
      dbms set-initial-password "$NOVA_NEO4J_PASSWORD" >>"$(svc_log neo4j)" 2>&1 || return 1
  fi
  # shellcheck disable=SC2046
  spawn neo4j "" "$java/bin/java" $(neo4j_jvm_opts) -cp "$lib/*" org.neo4j.server.CommunityEntryPoint \
    --home-dir="$home" --config-dir="$home/conf" --console-mode
}

# A real query over Bolt 5.0 (HELLO with the password, RUN "RETURN 1", PULL), in Python's
# standard library: it proves the port, the auth and the default database in ~50 ms.
neo4j_healthy() {
  local py=python3
  [ -x /usr/bin/python3 ] && py=/usr/bin/python3
  NEO4J_PW=$NOVA_NEO4J_PASSWORD "$py" - "$NOVA_NEO4J_BOLT_PORT" 2>/dev/null <<'PY'
import os, socket, struct, sys

def s(v):
    b = v.encode()
    if len(b) < 16: return bytes([0x80 + len(b)]) + b
    if len(b) < 256: return b"\xd0" + bytes([len(b)]) + b
    return b"\xd1" + struct.pack(">H", len(b)) + b

def m(d):
    return bytes([0xA0 + len(d)]) + b"".join(s(k) + v for k, v in d.items())

def send(sock, sig, *fields):
    body = bytes([0xB0 + len(fields), sig]) + b"".join(fields)
    sock.sendall(struct.pack(">H", len(body)) + body + b"\x00\x00")

def recv(f):
    msg = b""
    while True:
        n = struct.unpack(">H", f.read(2))[0]
        if n == 0 and msg: return msg
        msg += f.read(n)

sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
f = sock.makefile("rb")
sock.sendall(b"\x60\x60\xb0\x17" + b"\x00\x00\x00\x05" + b"\x00" * 12)
if f.read(4) != b"\x00\x00\x00\x05": sys.exit(1)
send(sock, 0x01, m({"user_agent": s("nova-stack/1"), "scheme": s("basic"),
                    "principal": s("neo4j"), "credentials": s(os.environ["NEO4J_PW"])}))
if recv(f)[1] != 0x70: sys.exit(1)                      # SUCCESS, else FAILURE (auth)
send(sock, 0x10, s("RETURN 1"), m({}), m({}))
send(sock, 0x3F, m({"n": b"\xff"}))
if recv(f)[1] != 0x70: sys.exit(1)                      # RUN: SUCCESS
if recv(f)[1:] != b"\x71\x91\x01": sys.exit(1)          # RECORD [1]
send(sock, 0x02)                                        # GOODBYE
PY
}
