"""`python tests/slow_rp.py MARKER STAGE rp-args...`: run rp with one pause injected, for interruption tests.

STAGE "build": the builder has written its staging directory (nothing moved or registered yet);
STAGE "lock": the manifest is about to be written under the workspace lock (the artifact directory is in place).
STAGE "train": a torch optimizer has taken 3 steps (mid-training of a trainable profile or a router).
STAGE "llm": the LLM cache has received its first output (mid-generation of a text-gnn build).
STAGE "sweep": the sweep driver has registered its first artifact and is about to register the second.
At that point the file MARKER is created and the process sleeps, so the test can send SIGINT or SIGKILL there.
Test-only: production code has no hook for this; the pause is patched in here.
"""

import sys
import time
from pathlib import Path

marker = Path()


def main() -> None:
    global marker
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

    elif stage == "train":
        import torch

        real_step = torch.optim.AdamW.step
        steps = {"n": 0}

        def slow_step(self, *a, **k):
            out = real_step(self, *a, **k)
            steps["n"] += 1
            if steps["n"] == 3:
                pause()
            return out

        torch.optim.AdamW.step = slow_step
    elif stage == "llm":
        from rpcli.core.llm.base import LLMCache

        real_put = LLMCache.put

        def slow_put(self, key, output, meta=None):
            real_put(self, key, output, meta)
            pause()

        LLMCache.put = slow_put
    elif stage == "sweep":
        import rpcli.services.sweep.driver as sweep_mod

        real_register_staged = sweep_mod.register_staged
        registered = {"n": 0}

        def slow_register_staged(ws, staged, **kw):
            if registered["n"] == 1:
                pause()
            registered["n"] += 1
            return real_register_staged(ws, staged, **kw)

        sweep_mod.register_staged = slow_register_staged
    elif stage != "none":
        raise SystemExit(f"unknown stage {stage}")

    from rpcli.cli.main import app

    sys.argv = ["rp", *args]
    app()


if __name__ == "__main__":  # a sweep's spawned workers import this file as __mp_main__: they must not run it
    main()
