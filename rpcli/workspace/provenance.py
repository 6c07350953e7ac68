"""What produced an artifact: versions, git commit, platform. Cheap; no heavy imports."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from rpcli._version import __version__

_PKGS = ("torch", "torch_geometric", "transformers", "numpy")


def _version(pkg: str) -> str | None:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return None


def _git(args: list[str]) -> str | None:
    repo = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


_CACHE: dict | None = None


def provenance() -> dict:
    global _CACHE
    if _CACHE is None:
        commit = _git(["rev-parse", "--short=12", "HEAD"])
        dirty = _git(["status", "--porcelain", "--untracked-files=no"])
        _CACHE = {
            "rp": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "git_commit": commit,
            "git_dirty": bool(dirty) if dirty is not None else None,
            **{p: _version(p.replace("_", "-")) or _version(p) for p in _PKGS},
        }
    return dict(_CACHE)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_label() -> str:
    """This checkout's commit as scripts record it: the short hash, "+dirty" when tracked files differ from it,
    "unknown" outside git."""
    p = provenance()
    if not p.get("git_commit"):
        return "unknown"
    return p["git_commit"] + ("+dirty" if p.get("git_dirty") else "")
