"""What a sweep worker runs: build one cell into a staging directory and hand it back, never registering it.

Imported in spawned processes (local executor) and in Ray tasks, so module scope stays light. A job is a plain
dict (picklable); the reply is a plain dict too: {"id", "staging", "entry", "duration_s"} or {"error", ...}.
Only the driver moves a staged build into place and writes the manifest.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tarfile
import time
import traceback
from pathlib import Path

_SESSIONS: dict = {}
_QUEUE = None


class QueueProgress:
    """Progress that forwards a job's latest note to the driver (at most one message per second)."""

    def __init__(self, job_key: str) -> None:
        self.job_key = job_key
        self._last = 0.0
        self._desc = ""

    def _send(self, message: str, force: bool = False) -> None:
        now = time.monotonic()
        if _QUEUE is None or (not force and now - self._last < 1.0):
            return
        self._last = now
        with contextlib.suppress(Exception):
            _QUEUE.put_nowait((self.job_key, message[:120]))

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None):
        self._desc = description
        self._send(description, force=True)
        yield self

    def advance(self, n: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        self._send(message)

    def warn(self, message: str) -> None:
        self._send(f"warning: {message}", force=True)


def set_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)


def import_plugins(plugins) -> None:
    import importlib

    for mod in plugins or []:
        importlib.import_module(mod)


def init_worker(threads: int, plugins: list, queue=None) -> None:
    """Process-pool initializer: divide the torch threads, import the sweep's plugins, keep the note queue."""
    global _QUEUE
    _QUEUE = queue
    import signal

    # Ctrl-C in a terminal reaches the whole process group: the driver reports it (one line, exit 130) and
    # cleans up; a worker just ends, silently (no KeyboardInterrupt traceback from an idle worker's queue read).
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))
    set_threads(threads)
    import_plugins(plugins)


def _session(job: dict, workspace_root: str):
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    key = (workspace_root, job["data"], job["encoder"], job["keep_overlap"], job["device"])
    if key not in _SESSIONS:
        _SESSIONS[key] = Session(workspace=Workspace(Path(workspace_root)), data_root=Path(job["data"]),
                                 encoder_spec=job["encoder"], keep_overlap=job["keep_overlap"], device=job["device"])
    sess = _SESSIONS[key]
    sess.progress = QueueProgress(job["key"])
    return sess


def stage_cell(job: dict, workspace_root: str | None = None) -> dict:
    """Build the job's cell into `<workspace>/tmp/<id>.<pid>/` through the service entry point; return where."""
    from rpcli.errors import RpError
    from rpcli.services.base import build_into_staging, plan_recipe
    from rpcli.services.sweep.cells import cell_recipe

    try:
        sess = _session(job, workspace_root or job["workspace"])
        recipe = cell_recipe(sess, job["kind"], job["what"], job["mode"], job["options"], job["parent_id"])
        st = build_into_staging(sess, plan_recipe(sess, recipe), recipe.builder)
        return {"id": st.plan.id, "staging": str(st.staging), "entry": st.entry, "duration_s": st.duration_s,
                "pid": os.getpid()}
    except RpError as exc:
        return {"error": str(exc), "exit_code": exc.exit_code}
    except Exception as exc:  # noqa: BLE001 - reported per cell by the driver; the sweep goes on
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(), "exit_code": 1}


# ----------------------------------------------------------------------------------------------------------------
# Ray: the node may not share the driver's disk, so files travel as tar bytes both ways
# ----------------------------------------------------------------------------------------------------------------


def tar_dir(path: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tf:
        for p in sorted(Path(path).rglob("*")):
            tf.add(p, arcname=p.relative_to(path).as_posix(), recursive=False)
    return buf.getvalue()


def untar(data: bytes, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        tf.extractall(dest, filter="data")


def _scratch_workspace(job: dict, parents: list, data_ref) -> tuple[str, dict]:
    """A node-local workspace holding the job's recorded ancestors (entries + files), when the driver's
    workspace is not readable here; its caches persist per node under the system temp directory."""
    import json
    import tempfile

    import ray

    from rpcli.workspace.hashing import sha256_text
    from rpcli.workspace.manifest import SCHEMA

    base = Path(tempfile.gettempdir()) / "rp-ray"
    root = base / f"ws-{os.getpid()}-{sha256_text(job['key'])[:12]}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (base / "cache").mkdir(parents=True, exist_ok=True)
    (root / "cache").symlink_to(base / "cache", target_is_directory=True)
    entries = {}
    for pid, entry, ref in parents:
        entries[pid] = entry
        untar(ray.get(ref), root / {"graph": "graphs", "profile": "profiles", "run": "runs"}[entry["kind"]] / pid)
    (root / "manifest.json").write_text(json.dumps({"schema": SCHEMA, "entries": entries}) + "\n")
    job = dict(job)
    if job.get("ship") or not Path(job["data"]).is_dir():
        data_dir = base / "data" / job["data_hash"][:16]
        if not data_dir.is_dir():
            tmp = data_dir.with_name(data_dir.name + f".{os.getpid()}.tmp")
            untar(ray.get(data_ref), tmp)
            os.replace(tmp, data_dir)
        job["data"] = str(data_dir)
    return str(root), job


def ray_stage_cell(job: dict, threads: int, plugins: list, parents: list, data_ref) -> dict:
    """A Ray task: build the cell and return its files as tar bytes. Uses the driver's workspace when this node
    can read it (same machine or a shared disk), else a scratch workspace filled from `parents`
    [(id, entry, ObjectRef of the tar)], and the dataset from `data_ref` when its path is absent here."""
    set_threads(threads)
    import_plugins(plugins)
    ws_root = job["workspace"]
    scratch = None
    shared = not job.get("ship") and Path(ws_root, "manifest.json").is_file() and Path(job["data"]).is_dir() and all(
        (Path(ws_root) / {"graph": "graphs", "profile": "profiles"}[e["kind"]] / pid).is_dir()
        for pid, e, _ in parents)
    if not shared:
        scratch, job = _scratch_workspace(job, parents, data_ref)
        ws_root = scratch
    try:
        rep = stage_cell(job, ws_root)
        if "staging" in rep:
            staging = Path(rep.pop("staging"))
            rep["tar"] = tar_dir(staging)
            shutil.rmtree(staging, ignore_errors=True)
            with contextlib.suppress(OSError):
                staging.parent.rmdir()
        rep["node"] = os.uname().nodename
        return rep
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
