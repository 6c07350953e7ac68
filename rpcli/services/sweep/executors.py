"""The sweep's executors (see the table in rpcli.services.sweep.driver): where a cell is built and how its staged files
come back to the driver, which registers them."""

from __future__ import annotations

import concurrent.futures as cf
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from rpcli.errors import ConfigError
from rpcli.workspace.manifest import load_manifest

if TYPE_CHECKING:
    from rpcli.services.sweep.driver import SweepRunner


class LocalExecutor:
    """A spawned process pool, created on the first submit (a fully recorded sweep starts no process)."""

    name = "local"

    def __init__(self, jobs: int, plugins: list) -> None:
        self.jobs = jobs
        self.plugins = plugins
        self.pool = None
        self.queue = None

    def _start(self):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.queue = ctx.Queue()
        threads = max(1, (os.cpu_count() or 1) // self.jobs)
        from rpcli.services.sweep.worker import init_worker

        self.pool = cf.ProcessPoolExecutor(self.jobs, mp_context=ctx, initializer=init_worker,
                                           initargs=(threads, self.plugins, self.queue))

    def submit(self, job: dict, runner: "SweepRunner") -> cf.Future:
        from rpcli.services.sweep.worker import stage_cell

        if self.pool is None:
            self._start()
        return self.pool.submit(stage_cell, job)

    def notes(self) -> list:
        out = []
        if self.queue is not None:
            import queue as _q

            while True:
                try:
                    out.append(self.queue.get_nowait())
                except (_q.Empty, OSError, ValueError):
                    break
        return out

    def receive(self, rep: dict, ws) -> Path:
        return Path(rep["staging"])

    def reset(self) -> None:
        """After a worker died: drop the broken pool; the next submit starts a fresh one."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = None

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self.pool = None
        if self.queue is not None:
            self.queue.close()
            self.queue = None


class RayExecutor:
    """One Ray task per cell, on the cluster at `address` or on a local Ray instance with `jobs` CPUs."""

    name = "ray"

    def __init__(self, jobs: int, plugins: list, address: str | None, data_root: Path) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("the ray executor needs the ray package",
                              hint="pip install 'ray>=2.9' (the package's ray extra)") from None
        self.ray = ray
        self.jobs = jobs
        self.plugins = plugins
        self.data_root = data_root
        self._refs: dict = {}
        self._data_ref = None
        self._owns = False
        # RP_RAY_SHIP_FILES=1: move every file as tar bytes even when the nodes share this disk (as on a cluster
        # without a shared file system; used by the tests on a local Ray instance).
        self.ship = os.environ.get("RP_RAY_SHIP_FILES") == "1"
        if not ray.is_initialized():
            kw = {"address": address} if address else {"num_cpus": jobs, "include_dashboard": False}
            try:
                ray.init(log_to_driver=False, configure_logging=False, **kw)
            except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError here
                where = f"the Ray cluster at {address}" if address else "a local Ray instance"
                raise ConfigError(f"cannot start or join {where}: {exc}",
                                  hint="start the cluster with `ray start --head` (see the README), or leave out "
                                       "--address to start a local Ray instance") from None
            self._owns = True
        self._task = ray.remote(num_cpus=1, max_retries=0)(_ray_entry)

    def _artifact_ref(self, ws, artifact_id: str):
        from rpcli.services.sweep.worker import tar_dir

        if artifact_id not in self._refs:
            self._refs[artifact_id] = self.ray.put(tar_dir(ws.artifact_dir(artifact_id)))
        return self._refs[artifact_id]

    def submit(self, job: dict, runner: "SweepRunner") -> cf.Future:
        from rpcli.services.sweep.worker import tar_dir

        ws = runner.sess.workspace
        entries = load_manifest(ws)["entries"]
        parents = [(job["parent_id"], entries[job["parent_id"]], self._artifact_ref(ws, job["parent_id"]))] \
            if job["parent_id"] else []
        if self._data_ref is None:
            self._data_ref = self.ray.put(tar_dir(self.data_root))
        threads = 1 if not self._owns else max(1, (os.cpu_count() or 1) // self.jobs)
        if self.ship:
            job = {**job, "ship": True}
        # Nested in lists, the ObjectRefs are fetched by the task only when the node lacks the files.
        return self._task.remote(job, threads, self.plugins, parents, [self._data_ref]).future()

    def notes(self) -> list:
        return []

    def receive(self, rep: dict, ws) -> Path:
        from rpcli.services.sweep.worker import untar

        dest = ws.tmp_dir / f"{rep['id']}.recv.{os.getpid()}"
        if dest.exists():
            shutil.rmtree(dest)
        untar(rep["tar"], dest)
        return dest

    def reset(self) -> None:
        pass

    def close(self, cancel: bool = False) -> None:
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()


def _ray_entry(job, threads, plugins, parents, data_ref):
    from rpcli.services.sweep.worker import ray_stage_cell

    return ray_stage_cell(job, threads, plugins, parents, data_ref[0])
