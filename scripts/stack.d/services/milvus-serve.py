# Runs `milvus-lite server ...` (same arguments). Its server drains requests, flushes
# its memtables and releases the data dir LOCK only on KeyboardInterrupt, while
# `scripts/stack down` sends SIGTERM: turn the first SIGTERM into one.
import signal
import sys

from milvus_lite.cmdline import main


def _stop(*_):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the clean-up short
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _stop)
sys.exit(main())
