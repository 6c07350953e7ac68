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

    real_save = manifest.save_manifest

    def slow_save(ws, doc):
        if any(e.get("kind") == "graph" for e in doc["entries"].values()):
            pause()
        real_save(ws, doc)

    manifest.save_manifest = slow_save

from rpcli.cli.main import app  # noqa: E402

sys.argv = ["rp", *args]
app()
