"""Content hashes. The same canonical JSON serialiser produces manifest text and recipe keys."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def sha256_tree(root: str | os.PathLike) -> str:
    """Hash every file under `root` (relative names and contents), in sorted order."""
    root = Path(root)
    h = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def recipe_key(kind: str, params: dict, parents: list[str], inputs: dict[str, str]) -> str:
    """The recipe of an artifact: what it is built from. Results (metrics, times) never enter it."""
    return sha256_text(canonical_json({"kind": kind, "params": params, "parents": list(parents),
                                       "inputs": dict(sorted(inputs.items()))}))
