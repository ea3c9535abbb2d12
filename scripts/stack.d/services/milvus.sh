# shellcheck shell=bash
# Milvus Lite (PyPI milvus-lite, its gRPC server mode) in a venv of our own: one port,
# on 127.0.0.1, data in its own dir. Chosen over PyPI `milvus` 2.3.x, which binds nine
# ports on every interface and hangs on SIGTERM.
milvus_needs=""

milvus_venv() { echo "$NOVA_CACHE/milvus-$MILVUS_LITE_VERSION"; }
milvus_pins() { echo "milvus-lite==$MILVUS_LITE_VERSION pymilvus==$PYMILVUS_VERSION"; }

milvus_ports() { echo "$NOVA_MILVUS_PORT"; }
milvus_address() { echo "127.0.0.1:$NOVA_MILVUS_PORT"; }

# From the installed package's metadata folder: no Python start-up.
milvus_version() {
  local meta
  for meta in "$(milvus_venv)"/lib/python3*/site-packages/milvus_lite-*.dist-info; do
    [ -d "$meta" ] && { meta=${meta##*/milvus_lite-} && echo "lite-${meta%.dist-info}"; return; }
  done
  echo -
}

# The marker holds the pins, so a changed pymilvus pin rebuilds the venv too.
milvus_install() {
  local venv marker
  venv=$(milvus_venv)
  marker="$venv/.complete"
  [ "$(cat "$marker" 2>/dev/null)" = "$(milvus_pins)" ] && return 0
  apt_install python3-venv
  log "installing $(milvus_pins) from PyPI into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || die "milvus: could not create a venv at $venv (is python3-venv installed?)"
  # shellcheck disable=SC2046
  "$venv/bin/pip" install -q --disable-pip-version-check $(milvus_pins) >"$venv/.pip.log" 2>&1 ||
    die "milvus: pip could not install $(milvus_pins) (see $venv/.pip.log)"
  milvus_pins >"$marker"
}

# --max-workers 1: milvus-lite's writes are not thread-safe; with its default 10 gRPC
# workers, concurrent upserts to one collection corrupted the WAL and rows were lost
# on restart. One worker serialises every call.
milvus_start() {
  local home
  home=$(svc_home milvus)
  mkdir -p "$home/data"
  spawn milvus "" "$(milvus_venv)/bin/python" -u "$STACK_D/services/milvus-serve.py" server \
    --data-dir "$home/data" --host 127.0.0.1 --port "$NOVA_MILVUS_PORT" --max-workers 1
}

# Python from the venv, with the server's port; short gRPC deadlines.
milvus_py() {
  MILVUS_PORT=$NOVA_MILVUS_PORT timeout "${MILVUS_PY_TIMEOUT:-3}" "$(milvus_venv)/bin/python" -c "$1"
}

# CheckHealth always says yes in milvus-lite; listing collections reads its catalogue.
milvus_healthy() {
  milvus_py '
import os, grpc
from pymilvus.grpc_gen import milvus_pb2 as m, milvus_pb2_grpc as g
stub = g.MilvusServiceStub(grpc.insecure_channel("127.0.0.1:" + os.environ["MILVUS_PORT"]))
ok = stub.CheckHealth(m.CheckHealthRequest(), timeout=2).isHealthy
ok = ok and stub.ShowCollections(m.ShowCollectionsRequest(), timeout=2).status.code == 0
raise SystemExit(0 if ok else 1)
' >/dev/null 2>&1
}

# Milvus keeps collections loaded across restarts; milvus-lite starts every indexed
# collection released, so search/query would fail until someone loads it. Load them all.
milvus_post_start() {
  MILVUS_PY_TIMEOUT=300 milvus_py '
import os, sys
from pymilvus import MilvusClient
c = MilvusClient(uri="http://127.0.0.1:" + os.environ["MILVUS_PORT"], timeout=240)
for db in c.list_databases():
    c.use_database(db)
    for name in c.list_collections():
        try:
            c.load_collection(name)
        except Exception as e:
            print(f"milvus: could not load {db}.{name}: {e}", file=sys.stderr)
' 2>&1 | tee -a "$(svc_log milvus)" >&2
  return "${PIPESTATUS[0]}"
}
