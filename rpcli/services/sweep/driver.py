"""rp sweep: build a grid of graphs -> profiles -> runs, reusing what the manifest holds.

The driver (this module) plans every cell through the service entry points (so a cell gets exactly the id the
single command would), skips recorded artifacts, and hands the rest to an executor in dependency order (the
executors: rpcli.services.sweep.executors):

| executor | where a cell is built                              | how its files come back                         |
|----------|----------------------------------------------------|-------------------------------------------------|
| local    | a spawned process pool (`jobs` workers, torch      | the worker's staging dir in <workspace>/tmp     |
|          | threads divided among them)                        |                                                 |
| ray      | one Ray task per cell (a cluster or a local Ray)    | tar bytes of the staging dir                    |

Workers never write the manifest: the driver moves each staged build into place and registers it under the
workspace lock, so an interrupted or killed build registers nothing and a rerun resumes. After each artifact the
driver rewrites <workspace>/sweeps/<name>.json (read by `rp report`).
"""

from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from rpcli.core.progress import NullProgress
from rpcli.core.sweep.estimate import estimate_seconds
from rpcli.core.sweep.expand import Cell, expand
from rpcli.core.sweep.spec import SweepSpec, load_sweep
from rpcli.errors import ConfigError, RpError
from rpcli.services.base import ArtifactPlan, Session, StagedBuild, outputs_intact, plan_recipe, register_staged
from rpcli.services.sweep.executors import LocalExecutor, RayExecutor
from rpcli.workspace.hashing import sha256_text
from rpcli.workspace.lock import pid_alive  # one definition: a pid that no longer runs left its files behind
from rpcli.workspace.manifest import load_manifest
from rpcli.workspace.provenance import provenance, utc_now

EXECUTORS = ("local", "ray")


@dataclass(eq=False)
class CellState:
    cell: Cell
    parent: "CellState | None" = None
    id: str | None = None
    status: str = "to-build"  # reused | built | to-build | failed | skipped
    params: dict | None = None
    parents: list | None = None
    wall_s: float | None = None
    duration_s: float | None = None
    estimate_s: float | None = None
    estimate_basis: int = 0
    error: str | None = None
    note: str = ""
    started: float | None = None

    @property
    def kind(self) -> str:
        return self.cell.kind

    def row(self, dry_run: bool = False) -> dict:
        """One object of `--json` and of the sweep record."""
        c = self.cell
        params = self.params if self.params is not None else {
            {"graph": "kind", "profile": "method", "run": "router"}[c.kind]: c.what, "mode": c.mode,
            **(c.options or {})}
        out = {"id": self.id, "kind": c.kind, "status": self.status, "wall_s": self.wall_s,
               "duration_s": self.duration_s, "params": params,
               "parents": self.parents if self.parents is not None else
               ([self.parent.id] if self.parent is not None else []),
               "cell": c.coordinates(), "label": c.label()}
        if dry_run or self.estimate_s is not None:
            out["estimate_s"] = None if self.estimate_s is None else round(self.estimate_s, 1)
        if self.error:
            out["error"] = self.error
        return out


class SweepEvents:
    """What a front end hears about a sweep (all optional; the CLI draws Rich bars from these)."""

    def start(self, states: list[CellState]) -> None: ...

    def cell_started(self, st: CellState) -> None: ...

    def cell_note(self, st: CellState, message: str) -> None: ...

    def cell_finished(self, st: CellState) -> None: ...

    def message(self, text: str) -> None: ...


def import_plugins_of(path: str | Path) -> list:
    """The sweep file's `plugins:` (imported before validation, as they may register methods or routers)."""
    import yaml

    from rpcli.services.sweep.worker import import_plugins

    try:
        from rpcli.core import bounded_yaml

        doc = bounded_yaml.safe_load(bounded_yaml.read_text(path))
    except (OSError, yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return []  # load_sweep reports it with the line
    plugins = doc.get("plugins") if isinstance(doc, dict) else None
    if isinstance(plugins, list) and all(isinstance(p, str) for p in plugins):
        try:
            import_plugins(plugins)
        except ImportError as exc:
            raise ConfigError(f"{path}: plugins: cannot import {exc.name or exc}") from None
        return plugins
    return []


def load(path: str | Path) -> tuple[SweepSpec, list[Cell]]:
    """Validate a sweep file and expand it into cells (nothing is built or read from a workspace)."""
    from rpcli.services.sweep.cells import option_catalog

    import_plugins_of(path)
    catalog = option_catalog()
    spec = load_sweep(path, catalog)
    return spec, expand(spec, catalog)


# ----------------------------------------------------------------------------------------------------------------
# the driver
# ----------------------------------------------------------------------------------------------------------------

_STAGING_RE = re.compile(r"^(?:graph|profile|run)-[0-9a-f]+\.(?:old\.|recv\.)?(\d+)$")


def clean_stale_staging(ws) -> list[str]:
    """Remove staging directories left by processes that no longer run (a killed worker, a crashed sweep)."""
    removed = []
    if not ws.tmp_dir.is_dir():
        return removed
    for p in ws.tmp_dir.iterdir():
        m = _STAGING_RE.match(p.name)
        if m and not pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    try:
        ws.tmp_dir.rmdir()
    except OSError:
        pass
    return removed


def _git_commit() -> str | None:
    return provenance().get("git_commit")


@dataclass
class SweepOutcome:
    states: list
    record_path: Path | None
    wall_s: float
    failed: int = 0
    interrupted: bool = False

    def rows(self, dry_run: bool = False) -> list[dict]:
        return [st.row(dry_run) for st in self.states]

    def counts(self) -> dict:
        out: dict = {}
        for st in self.states:
            out[st.status] = out.get(st.status, 0) + 1
        return out


class SweepRunner:
    def __init__(self, sess: Session, spec: SweepSpec, cells: list[Cell], *, jobs: int = 1,
                 executor: str = "local", address: str | None = None, events: SweepEvents | None = None) -> None:
        if jobs < 1:
            raise ConfigError(f"--jobs must be at least 1 (got {jobs})")
        if executor not in EXECUTORS:
            raise ConfigError(f"unknown executor {executor!r}; choose local or ray")
        if address and executor != "ray":
            raise ConfigError("--address is for the ray executor", hint="add --executor ray")
        self.sess = sess
        self.spec = spec
        self.jobs = jobs
        self.executor_name = executor
        self.address = address
        self.events = events or SweepEvents()
        by_cell: dict = {}
        self.states: list[CellState] = []
        for c in cells:
            st = CellState(c, parent=by_cell.get(id(c.parent)) if c.parent is not None else None)
            by_cell[id(c)] = st
            self.states.append(st)
        self.started_at = utc_now()
        self.t0 = time.time()
        self.finished_at = None
        self._history = None

    # -- planning ---------------------------------------------------------------------------------------------

    def _plan(self, st: CellState, entries: dict) -> None:
        """Compute the cell's id (its parent must be recorded) and mark it reused when the manifest holds it."""
        c = st.cell
        parent_id = st.parent.id if st.parent is not None else None
        quiet = self.sess.progress
        self.sess.progress = NullProgress()
        try:
            from rpcli.services.sweep.cells import cell_recipe

            plan: ArtifactPlan = plan_recipe(self.sess, cell_recipe(self.sess, c.kind, c.what, c.mode, c.options,
                                                                     parent_id))
            st.id, st.params, st.parents = plan.id, plan.params, list(plan.parents)
        except RpError as exc:
            st.status, st.error = "failed", str(exc)
            return
        finally:
            self.sess.progress = quiet
        e = entries.get(st.id)
        if e is not None and e.get("status") == "done" and outputs_intact(self.sess.workspace, e):
            st.status = "reused"
            st.wall_s = 0.0
            st.duration_s = e.get("duration_s")

    def plan(self) -> None:
        """Plan every cell whose parent is recorded; the rest keep id None (to-build)."""
        entries = load_manifest(self.sess.workspace)["entries"]
        # planning runs no builder, so the recorded graphs it reads can be shared by every cell that plans on them
        self.sess.__dict__["_plan_graphs"] = {}
        try:
            for st in self.states:
                if st.parent is not None and st.parent.status in ("failed", "skipped"):
                    st.status = "skipped"
                    st.error = f"its parent {st.parent.cell.label()} failed"
                    continue
                if st.parent is None or st.parent.status == "reused":
                    self._plan(st, entries)
        finally:
            self.sess.__dict__.pop("_plan_graphs", None)
        for st in self.states:
            if st.status == "to-build":
                st.estimate_s, st.estimate_basis = estimate_seconds(st.cell, entries)

    # -- the record for rp report ----------------------------------------------------------------------------

    @property
    def record_path(self) -> Path:
        return self.sess.workspace.root / "sweeps" / f"{self.spec.name}.json"

    def write_record(self) -> None:
        from rpcli.workspace.manifest import write_atomic

        ds = self.sess.dataset
        if self._history is None:
            # Earlier invocations of the same sweep (a warm rerun must not hide the wall time of the cold one).
            self._history = []
            try:
                old = json.loads(self.record_path.read_text(encoding="utf-8"))
                self._history = list(old.get("history") or [])
                counts: dict = {}
                for a in old.get("artifacts") or []:
                    counts[a.get("status")] = counts.get(a.get("status"), 0) + 1
                self._history.append({k: old.get(k) for k in ("started", "finished", "wall_s", "commit", "jobs",
                                                              "executor", "yaml_sha256")} | {"counts": counts})
            except (OSError, ValueError, AttributeError):
                pass
        doc = {"name": self.spec.name, "file": str(self.spec.file),
               "yaml_sha256": sha256_text(self.spec.text), "started": self.started_at,
               "finished": self.finished_at, "wall_s": round(time.time() - self.t0, 3),
               "commit": _git_commit(), "jobs": self.jobs, "executor": self.executor_name,
               "data": {"root": str(ds.root), "hash": ds.data_hash},
               "artifacts": [st.row() for st in self.states], "history": self._history}
        write_atomic(self.record_path, json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")

    # -- running -----------------------------------------------------------------------------------------------

    def _job(self, st: CellState) -> dict:
        s = self.sess
        c = st.cell
        return {"key": sha256_text(c.key)[:16], "kind": c.kind, "what": c.what, "mode": c.mode,
                "options": c.options, "parent_id": st.parent.id if st.parent is not None else None,
                "workspace": str(s.workspace.root), "data": str(s.dataset.root), "data_hash": s.dataset.data_hash,
                "encoder": s.encoder_spec, "keep_overlap": s.keep_overlap, "device": s.device}

    def _make_executor(self):
        if self.executor_name == "ray":
            return RayExecutor(self.jobs, self.spec.plugins, self.address, Path(self.sess.dataset.root))
        return LocalExecutor(self.jobs, self.spec.plugins)

    def _register(self, st: CellState, rep: dict, ex) -> None:
        ws = self.sess.workspace
        staging = ex.receive(rep, ws)
        if rep["id"] != st.id:
            shutil.rmtree(staging, ignore_errors=True)
            raise RpError(f"the worker built {rep['id']} where the driver planned {st.id} for {st.cell.label()}",
                          hint="the worker read different data or code than the driver (a cluster node with "
                               "another dataset at the same path?)")
        entry = dict(rep["entry"])
        # The driver's view of the inputs (a remote node may have read a copy of the data at another path).
        entry["data"] = self.sess.data_record()
        plan = ArtifactPlan(id=st.id, key=entry["key"], kind=st.kind, params=entry["params"],
                            parents=entry["parents"], uses_encoder=entry.get("encoder") is not None)
        existing = load_manifest(ws)["entries"].get(st.id)
        register_staged(ws, StagedBuild(plan, staging, {}, rep["duration_s"], entry),
                        replace_existing=existing is not None)
        st.duration_s = rep["duration_s"]

    def run(self, dry_run: bool = False) -> SweepOutcome:
        ws = self.sess.workspace
        if not dry_run:
            clean_stale_staging(ws)
        self.plan()
        if dry_run:
            return SweepOutcome(self.states, None, round(time.time() - self.t0, 3))
        from rpcli.workspace.manifest import init_workspace

        init_workspace(ws)
        self.write_record()
        self.events.start(self.states)
        for st in self.states:
            if st.status in ("reused", "failed", "skipped"):
                self.events.cell_finished(st)
        ex = None
        inflight: dict = {}  # future -> CellState
        interrupted = False
        try:
            pending = [st for st in self.states if st.status == "to-build"]
            while pending or inflight:
                entries = None
                for st in list(pending):
                    p = st.parent
                    if p is not None and p.status in ("failed", "skipped"):
                        st.status, st.error = "skipped", f"its parent {p.cell.label()} did not build"
                        pending.remove(st)
                        self.events.cell_finished(st)
                        continue
                    if p is not None and p.status not in ("reused", "built"):
                        continue
                    if st.id is None:
                        entries = entries if entries is not None else load_manifest(ws)["entries"]
                        self._plan(st, entries)
                        if st.status != "to-build":
                            pending.remove(st)
                            self.events.cell_finished(st)
                            continue
                    if any(o.id == st.id for o in inflight.values()):
                        continue  # the same artifact is being built for another cell
                    e = load_manifest(ws)["entries"].get(st.id)
                    if e is not None and e.get("status") == "done" and outputs_intact(ws, e):
                        st.status, st.wall_s = "reused", 0.0
                        pending.remove(st)
                        self.events.cell_finished(st)
                        continue
                    if len(inflight) >= self.jobs:
                        break
                    if ex is None:
                        ex = self._make_executor()
                    st.started = time.time()
                    inflight[ex.submit(self._job(st), self)] = st
                    pending.remove(st)
                    self.events.cell_started(st)
                if not inflight:
                    if pending and not any(st.parent is None or st.parent.status in ("reused", "built")
                                           for st in pending):
                        for st in pending:
                            st.status = "skipped"
                        pending = []
                    continue
                done, _ = cf.wait(list(inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
                for key, msg in ex.notes():
                    for st in inflight.values():
                        if self._job_key(st) == key:
                            st.note = msg
                            self.events.cell_note(st, msg)
                broken = False
                for fut in done:
                    st = inflight.pop(fut)
                    st.wall_s = round(time.time() - (st.started or time.time()), 3)
                    try:
                        rep = fut.result()
                        if "error" in rep:
                            raise RpError(rep["error"])
                        self._register(st, rep, ex)
                        st.status = "built"
                    except BrokenProcessPool:
                        broken = True
                        st.status = "failed"
                        st.error = ("a worker process died while building it (killed, or out of memory); "
                                    "nothing was registered: rerun the sweep to resume")
                    except RpError as exc:
                        st.status, st.error = "failed", str(exc)
                    except Exception as exc:  # noqa: BLE001 - a Ray task error, a failed unpickle
                        st.status, st.error = "failed", f"{type(exc).__name__}: {exc}"
                    self.events.cell_finished(st)
                    self.write_record()
                if broken:
                    # Every cell in flight on the broken pool is lost with it; start a fresh pool for the rest.
                    for fut, st in list(inflight.items()):
                        inflight.pop(fut)
                        st.status = "failed"
                        st.error = "a worker process died while this cell was in flight; nothing was registered"
                        self.events.cell_finished(st)
                    ex.reset()
                    clean_stale_staging(ws)
                    self.write_record()
        except KeyboardInterrupt:
            interrupted = True
            for st in inflight.values():
                st.status, st.error = "to-build", "interrupted"
            raise
        finally:
            if ex is not None:
                ex.close(cancel=interrupted)
            clean_stale_staging(ws)
            if not interrupted:
                self.finished_at = utc_now()
            self.write_record()
        failed = sum(1 for st in self.states if st.status in ("failed", "skipped"))
        return SweepOutcome(self.states, self.record_path, round(time.time() - self.t0, 3), failed=failed)

    @staticmethod
    def _job_key(st: CellState) -> str:
        return sha256_text(st.cell.key)[:16]


def run_sweep(sess: Session, path: str | Path, *, jobs: int = 1, executor: str = "local", address: str | None = None,
              dry_run: bool = False, events: SweepEvents | None = None) -> SweepOutcome:
    spec, cells = load(path)
    runner = SweepRunner(sess, spec, cells, jobs=jobs, executor=executor, address=address, events=events)
    return runner.run(dry_run=dry_run)
