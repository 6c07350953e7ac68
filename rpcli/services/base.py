"""The verbs both front ends call. This module coordinates: it resolves inputs, asks the manifest whether an
artifact is up to date, runs a builder into a staging directory, and registers the result.

Builders are plain functions of (inputs, params, out_dir) in `rpcli.core`; they never touch the manifest, so
a scheduler could run them in another process or machine. Only this coordinating layer writes the manifest.
A failed or interrupted build leaves the workspace exactly as it was (its staging directory is removed and
nothing is registered).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rpcli.core.progress import NullProgress, Progress
from rpcli.errors import ConfigError
from rpcli.workspace.hashing import recipe_key, sha256_file
from rpcli.workspace.layout import Workspace
from rpcli.workspace.manifest import get_entry, init_workspace, load_manifest, lookup_entry, register_entry
from rpcli.workspace.provenance import provenance, utc_now


def check_device(device: str | None, flag: str = "--device") -> None:
    """Refuse a torch device this machine cannot use, before anything is built (imports torch only off the CPU)."""
    if device in (None, "", "cpu"):
        return
    import torch

    try:
        d = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ConfigError(f"{flag} {device!r} is not a torch device", hint="e.g. cpu, cuda, cuda:1, mps") from None
    if d.type == "cpu":
        return
    if d.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"{flag} {device!r}: CUDA is not available to this torch ({torch.__version__})",
                              hint="use --device cpu, or install a CUDA build of torch")
        if d.index is not None and d.index >= torch.cuda.device_count():
            raise ConfigError(f"{flag} {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return
    if d.type == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError(f"{flag} {device!r}: MPS is not available on this machine")
        return
    raise ConfigError(f"{flag} {device!r}: rp runs on cpu, cuda or mps")


@dataclass
class Session:
    """Everything a command needs: the workspace, the dataset, the encoder, the progress sink."""

    workspace: Workspace
    data_root: Path | None = None
    encoder_spec: str | None = None
    progress: Progress = field(default_factory=NullProgress)
    keep_overlap: bool = False
    device: str = "cpu"
    _dataset: object = None
    _encoder: object = None

    @property
    def dataset(self):
        if self._dataset is None:
            from rpcli.core.data import default_data_root, load_dataset

            root = self.data_root or default_data_root()
            self._dataset = load_dataset(root, keep_overlap=self.keep_overlap)
            if self._dataset.warnings:
                self.progress.note(f"the dataset has {len(self._dataset.warnings)} warning(s); "
                                   "`rp data check` lists them")
        return self._dataset

    @property
    def encoder(self):
        if self._encoder is None:
            from rpcli.core.encoder import resolve_encoder

            self._encoder = resolve_encoder(self.encoder_spec, self.workspace.emb_cache_dir, device=self.device)
        return self._encoder

    @property
    def dataset_loaded(self) -> bool:
        """Whether the dataset has been loaded (reading `dataset` loads it)."""
        return self._dataset is not None

    @property
    def encoder_loaded(self) -> bool:
        """Whether the encoder has been resolved (reading `encoder` resolves it)."""
        return self._encoder is not None

    def use_data(self, root) -> None:
        """Select the dataset at `root`; it is loaded on first use (a dataset loaded before is dropped)."""
        self.data_root = root
        self._dataset = None

    def data_record(self) -> dict:
        ds = self.dataset
        return {"root": str(ds.root), "hash": ds.data_hash, "keep_overlap": ds.keep_overlap}

    def encoder_record(self) -> dict:
        return {"id": self.encoder.id, **self.encoder.describe}


@dataclass
class BuildResult:
    entry: dict
    built: bool  # False when an up-to-date artifact was reused


def _outputs(ws: Workspace, dir_: Path) -> list[dict]:
    out = []
    for p in sorted(q for q in dir_.rglob("*") if q.is_file()):
        out.append({"path": p.relative_to(ws.root).as_posix(), "sha256": sha256_file(p), "bytes": p.stat().st_size})
    return out


def outputs_intact(ws: Workspace, entry: dict) -> bool:
    return all((ws.root / o["path"]).is_file() and (ws.root / o["path"]).stat().st_size == o["bytes"]
               for o in entry.get("outputs", []))


def parent_content_hashes(ws: Workspace, parents: list[str]) -> dict:
    from rpcli.workspace.hashing import canonical_json, sha256_text

    out = {}
    for pid in parents:
        e = lookup_entry(ws, pid)
        if e is None:
            raise ConfigError(f"parent artifact {pid} is not recorded in {ws.root}")
        out[pid] = sha256_text(canonical_json(sorted((o["path"], o["sha256"]) for o in e.get("outputs", []))))
    return out


@dataclass(frozen=True)
class ArtifactPlan:
    """What an artifact will be before it is built: its id and key, from the recipe alone."""

    id: str
    key: str
    kind: str
    params: dict
    parents: list
    uses_encoder: bool = True


@dataclass
class StagedBuild:
    """A build that finished in a staging directory and is not registered yet (see `register_staged`)."""

    plan: ArtifactPlan
    staging: Path
    result: dict
    duration_s: float
    entry: dict  # the manifest entry without "outputs" (filled in when the files are in place)


@dataclass
class Recipe:
    """Everything building one artifact takes, resolved and checked: its kind, recipe params (they enter the id),
    recorded parents, and `builder(out_dir) -> {"metrics", "info"}` that writes its files. The entry points return
    one (`graph_recipe`, `profile_recipe`, `run_recipe`); `build_recipe` reuses or builds it, and a sweep plans
    (`plan_recipe`), stages (`build_into_staging`) and registers (`register_staged`) it as separate steps."""

    kind: str
    params: dict
    parents: list
    builder: Callable[[Path], dict]
    uses_encoder: bool = True


def plan_recipe(sess: Session, recipe: Recipe) -> ArtifactPlan:
    """The id and key of a recipe (its parents must be recorded)."""
    return plan_artifact(sess, recipe.kind, recipe.params, recipe.parents, uses_encoder=recipe.uses_encoder)


def build_recipe(sess: Session, recipe: Recipe, *, force: bool = False) -> BuildResult:
    """Reuse the recipe's artifact when recorded and intact; otherwise build and register it."""
    return build_artifact(sess, recipe.kind, recipe.params, recipe.parents, recipe.builder, force=force,
                          uses_encoder=recipe.uses_encoder)


def plan_artifact(sess: Session, kind: str, params: dict, parents: list[str], *,
                  uses_encoder: bool = True) -> ArtifactPlan:
    """The id and key `build_artifact` gives this recipe (parents must be recorded: their content enters it)."""
    ws = sess.workspace
    inputs = {"data": sess.dataset.data_hash}
    if uses_encoder:
        inputs["encoder"] = sess.encoder.id
    if parents:
        # A parent rebuilt with different content (--force after a code change) makes its children stale.
        inputs["parents"] = parent_content_hashes(ws, parents)
    key = recipe_key(kind, params, parents, inputs)
    return ArtifactPlan(id=f"{kind}-{key[:10]}", key=key, kind=kind, params=params, parents=list(parents),
                        uses_encoder=uses_encoder)


def build_into_staging(sess: Session, plan: ArtifactPlan, builder) -> StagedBuild:
    """Run `builder(staging_dir)` in `workspace/tmp/<id>.<pid>/`; on any failure the directory is removed."""
    ws = sess.workspace
    staging = ws.tmp_dir / f"{plan.id}.{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    t0 = time.time()
    try:
        result = builder(staging) or {}
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    entry = {
        "id": plan.id, "kind": plan.kind, "key": plan.key, "params": plan.params, "parents": list(plan.parents),
        "data": sess.data_record(), "data_hash": sess.dataset.data_hash,
        "encoder": sess.encoder_record() if plan.uses_encoder else None,
        "inputs": [{"path": p, "sha256": h} for p, h in sess.dataset.files.items()],
        "metrics": result.get("metrics", {}), "info": result.get("info", {}),
        "provenance": provenance(), "created_at": utc_now(), "duration_s": round(time.time() - t0, 3),
        "status": "done",
    }
    return StagedBuild(plan=plan, staging=staging, result=result, duration_s=entry["duration_s"], entry=entry)


def register_staged(ws: Workspace, staged: StagedBuild, *, replace_existing: bool = False) -> dict:
    """Move a staged build into `workspace/<kind>s/<id>/` and record it under the workspace lock.

    An old copy (from --force or a damaged artifact) is replaced only now, on success. If registering fails the
    new files are removed again, so nothing unregistered stays in place."""
    artifact_id = staged.plan.id
    final_dir = ws.artifact_dir(artifact_id)
    init_workspace(ws)
    old = None
    try:
        if final_dir.exists():
            old = ws.tmp_dir / f"{artifact_id}.old.{os.getpid()}"
            os.replace(final_dir, old)
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.staging, final_dir)
        entry = {**staged.entry, "outputs": _outputs(ws, final_dir)}
        register_entry(ws, entry)
    except BaseException:
        shutil.rmtree(staged.staging, ignore_errors=True)
        if lookup_entry(ws, artifact_id) is None and final_dir.exists() and not replace_existing:
            shutil.rmtree(final_dir, ignore_errors=True)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return entry


def build_artifact(sess: Session, kind: str, params: dict, parents: list[str], builder, *, force: bool = False,
                   uses_encoder: bool = True) -> BuildResult:
    """Reuse the artifact of this recipe when it is recorded and intact; otherwise build and register it.

    `builder(out_dir: Path) -> dict` writes its files into `out_dir` and returns
    {"metrics": {...}, "info": {...}} (both optional). Composed of `plan_artifact`, `build_into_staging` and
    `register_staged`, which `rp sweep` calls as separate steps (services/sweep/driver.py).
    """
    ws = sess.workspace
    init_workspace(ws)
    plan = plan_artifact(sess, kind, params, parents, uses_encoder=uses_encoder)
    artifact_id = plan.id
    existing = lookup_entry(ws, artifact_id)
    if existing and not force:
        if existing.get("status") == "done" and outputs_intact(ws, existing):
            sess.progress.note(f"{artifact_id} is up to date (reused; use --force to rebuild)")
            return BuildResult(existing, built=False)
        sess.progress.warn(f"{artifact_id} is recorded but its files are missing or changed: rebuilding")
    try:
        staged = build_into_staging(sess, plan, builder)
        entry = register_staged(ws, staged, replace_existing=existing is not None)
    finally:
        try:
            ws.tmp_dir.rmdir()
        except OSError:
            pass
    return BuildResult(entry, built=True)


def artifact_dir(sess: Session, entry: dict) -> Path:
    return sess.workspace.artifact_dir(entry["id"])


def resolve(sess: Session, ref: str, kind: str) -> dict:
    if not ref or not ref.strip():  # an empty prefix would match every artifact of the kind
        raise ConfigError(f"an empty {kind} id", hint=f"list them with `rp ls {kind}s`")
    return get_entry(sess.workspace, ref, kind=kind)


def check_modes(entry: dict, mode: str, what: str) -> None:
    m = entry.get("params", {}).get("mode")
    if m is not None and m != mode:
        raise ConfigError(f"{what} {entry['id']} was built for mode {m!r}, not {mode!r}",
                          hint=f"build one with --mode {mode}, or pass --mode {m}")


def check_same_data(sess: Session, entry: dict) -> None:
    if entry.get("data_hash") and entry["data_hash"] != sess.dataset.data_hash:
        raise ConfigError(f"{entry['id']} was built from different data ({entry['data'].get('root')}, hash "
                          f"{entry['data_hash'][:10]}) than the dataset now selected ({sess.dataset.root}, hash "
                          f"{sess.dataset.data_hash[:10]})", hint="pass the same --data the artifact was built with")


def workspace_status(ws: Workspace) -> dict:
    """Root, schema, artifact counts per kind, artifact and embedding-cache bytes."""
    doc = load_manifest(ws)
    counts: dict = {}
    size = 0
    for e in doc["entries"].values():
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        size += sum(o.get("bytes", 0) for o in e.get("outputs", []))
    cache = sum(p.stat().st_size for p in ws.emb_cache_dir.rglob("*.npy")) if ws.emb_cache_dir.exists() else 0
    return {"root": str(ws.root), "exists": ws.exists(), "schema": doc["schema"], "counts": counts,
            "artifact_bytes": size, "embedding_cache_bytes": cache}
