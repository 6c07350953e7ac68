"""`python tests/slow_rp.py MARKER STAGE rp-args...`: run rp with one pause injected, for interruption tests.

STAGE "build": the builder has written its staging directory (nothing moved or registered yet);
STAGE "lock": the manifest is about to be written under the workspace lock (the artifact directory is in place).
At that point the file MARKER is created and the process sleeps, so the test can send SIGINT or SIGKILL there.
Test-only: production code has no hook for this; the pause is patched in here.
"""

import sys
import time
from pathlib import Path

marker, stage, args = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]


def pause():
    marker.write_text("paused")
    time.sleep(120)


if stage == "build":
    import rpcli.services.base as base

    real = base.build_into_staging

    def slow(sess, plan, builder):
        def b(out):
            res = builder(out)
            pause()
            return res
        return real(sess, plan, b)

    base.build_into_staging = slow
elif stage == "lock":
    import rpcli.workspace.manifest as manifest

    real_register = manifest.register_entry
    real_write = manifest._write  # the one write transaction, under the workspace lock

    def slow_register(ws, entry):
        if entry.get("kind") != "graph":
            return real_register(ws, entry)

        def paused_write(ws_, apply):
            def slow_apply(conn):
                pause()
                apply(conn)
            real_write(ws_, slow_apply)

        manifest._write = paused_write
        try:
            real_register(ws, entry)
        finally:
            manifest._write = real_write

    manifest.register_entry = slow_register
    import rpcli.services.base as base

    base.register_entry = slow_register  # imported by name there

from rpcli.cli.main import app  # noqa: E402

sys.argv = ["rp", *args]
app()
