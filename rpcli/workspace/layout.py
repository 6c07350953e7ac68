"""Where things live in a workspace.

    workspace/
      manifest.db                the record of every graph, profile and run (SQLite, WAL; workspace/manifest.py)
      manifest.json              its export, in the format older rp versions wrote
      graphs/<id>/  profiles/<id>/  runs/<id>/   one directory per artifact, named by its id
      cache/emb/<encoder-id>/<sha[:2]>/<sha>.npy  text-embedding cache
      cache/llm/...                               LLM output cache (text-gnn)
      cache/view/<key>.json                       the leaderboard's reference rows per dataset (services/artifacts/compare.py)
      tmp/                                        staging for builds in progress
      .lock
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ID_RE = re.compile(r"^(graph|profile|run)-[0-9a-f]{6,64}$")
KIND_DIRS = {"graph": "graphs", "profile": "profiles", "run": "runs"}


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def emb_cache_dir(self) -> Path:
        return self.root / "cache" / "emb"

    @property
    def llm_cache_dir(self) -> Path:
        return self.root / "cache" / "llm"

    def artifact_dir(self, artifact_id: str) -> Path:
        if not ID_RE.match(artifact_id):
            raise ValueError(f"not a valid artifact id: {artifact_id!r}")
        kind = artifact_id.split("-", 1)[0]
        return self.root / KIND_DIRS[kind] / artifact_id

    def exists(self) -> bool:
        return self.manifest_path.exists() or (self.root / "manifest.db").exists()


def resolve_workspace(option: str | os.PathLike | None = None) -> Workspace:
    """--workspace, else $RP_WORKSPACE, else ./workspace. A path that exists and is not a folder is refused."""
    if option:
        root, how = Path(option).expanduser().resolve(), "--workspace"
    elif os.environ.get("RP_WORKSPACE"):
        root, how = Path(os.environ["RP_WORKSPACE"]).expanduser().resolve(), "RP_WORKSPACE"
    else:
        root, how = (Path.cwd() / "workspace").resolve(), "the default ./workspace"
    if root.exists() and not root.is_dir():
        from rpcli.errors import WorkspaceError

        raise WorkspaceError(f"{root} ({how}) exists and is not a folder", hint="pass --workspace DIR (a folder)")
    return Workspace(root)
