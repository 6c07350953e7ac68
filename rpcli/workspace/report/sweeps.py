"""Sweep records for rp report: <workspace>/sweeps/<name>.json, checked, and its completeness against the manifest
(stdlib only)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rpcli.errors import ArtifactNotFoundError, DataFileError


def safe_name(name: str) -> bool:
    """A sweep name is a file name under <workspace>/sweeps/, never a path."""
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name or ""))


def sweep_path(ws_root: Path, name: str) -> Path:
    base = name[:-5] if name.endswith(".json") else name
    return Path(ws_root) / "sweeps" / f"{base}.json"


def load_sweep(ws_root: Path, name: str) -> dict:
    """The sweep record ``<workspace>/sweeps/<name>.json``, checked for the fields the report reads.

    Raises:
        ArtifactNotFoundError: no such file (the message names it and lists the recorded sweeps).
        DataFileError: the file is not JSON or a field has the wrong type (names the file and the field).
    """
    if not safe_name(name):
        raise ArtifactNotFoundError(f"{name!r} is not a sweep name", hint="give the name of a recorded sweep, "
                                                                           "e.g. --sweep quick")
    path = sweep_path(ws_root, name)
    if not path.is_file():
        have = sorted(p.stem for p in (Path(ws_root) / "sweeps").glob("*.json")) if (
            Path(ws_root) / "sweeps").is_dir() else []
        raise ArtifactNotFoundError(
            f"no sweep named {name!r}: {path} does not exist",
            hint=("recorded sweeps: " + ", ".join(have)) if have else "this workspace has no recorded sweeps; "
                                                                      "run one with `rp sweep FILE.yaml`")
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(path, f"cannot read the sweep record: {exc}") from None
    if not isinstance(rec, dict):
        raise DataFileError(path, "the sweep record must be a JSON object")
    arts = rec.get("artifacts")
    if not isinstance(arts, list):
        raise DataFileError(path, "must be a list of {id, kind, status, ...}", field="artifacts")
    for i, a in enumerate(arts):
        if not isinstance(a, dict) or a.get("kind") not in ("graph", "profile", "run"):
            raise DataFileError(path, "each artifact needs a kind of graph, profile or run", record=f"#{i}",
                                field="artifacts.kind")
        if a.get("id") is not None and not isinstance(a.get("id"), str):
            raise DataFileError(path, "must be a string or null", record=f"#{i}", field="artifacts.id")
    data = rec.get("data")
    if data is not None and not isinstance(data, dict):
        raise DataFileError(path, "must be an object {root, hash}", field="data")
    for key in ("wall_s",):
        v = rec.get(key)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise DataFileError(path, "must be a number or null", field=key)
    return rec


def sweep_summary(rec: dict, entries: dict) -> dict:
    """Name, file, commit, wall time and completeness of a sweep record against the manifest's entries.

    An artifact counts as done when the sweep names its id and the manifest holds that id with status done.
    """
    arts = rec.get("artifacts") or []
    by_kind: dict[str, dict[str, int]] = {}
    done = 0
    for a in arts:
        k = a.get("kind")
        ok = bool(a.get("id")) and (entries.get(a["id"]) or {}).get("status") == "done"
        done += ok
        c = by_kind.setdefault(k, {"done": 0, "total": 0})
        c["done"] += ok
        c["total"] += 1
    data = rec.get("data") or {}
    # The time the sweep spent building: every invocation that built something (a cold run and its resumptions);
    # a warm rerun that only reused artifacts does not hide it.
    runs = [h for h in (rec.get("history") or []) if isinstance(h, dict)]
    runs.append({"wall_s": rec.get("wall_s"), "counts": {"built": sum(a.get("status") == "built" for a in arts)}})
    building = [h for h in runs if (h.get("counts") or {}).get("built") and isinstance(h.get("wall_s"), (int, float))]
    return {"name": rec.get("name"), "file": rec.get("file"), "yaml_sha256": rec.get("yaml_sha256"),
            "commit": rec.get("commit"), "started": rec.get("started"), "finished": rec.get("finished"),
            "wall_s": rec.get("wall_s"), "build_wall_s": round(sum(h["wall_s"] for h in building), 3) if building
            else None, "build_invocations": len(building), "invocations": len(runs),
            "jobs": rec.get("jobs"), "executor": rec.get("executor"),
            # what built it: the commits and executors of the invocations that built something
            "build_commits": sorted({h.get("commit") or rec.get("commit") for h in building} - {None}),
            "build_executors": sorted({f"{h.get('executor') or rec.get('executor')} --jobs "
                                       f"{h.get('jobs') if h.get('jobs') is not None else rec.get('jobs')}"
                                       for h in building}),
            "data": {"root": data.get("root"), "hash": data.get("hash")},
            "done": done, "total": len(arts), "complete": len(arts) > 0 and done == len(arts),
            "by_kind": {k: by_kind[k] for k in ("graph", "profile", "run") if k in by_kind}}


def sweep_run_ids(rec: dict) -> set[str]:
    return {a["id"] for a in rec.get("artifacts") or [] if a.get("kind") == "run" and a.get("id")}
