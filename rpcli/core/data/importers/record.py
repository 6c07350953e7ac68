"""The import record: `import.json` at the root of a dataset made by `rp data import`, beside profile_data/ and
route_data/. It says where the data came from and what the import did:

| key          | content                                                                                      |
|--------------|----------------------------------------------------------------------------------------------|
| `source`     | the score file: `path` (absolute), `sha256`, `bytes`, `format`                               |
| `cards`      | the cards file (`path`, `sha256`), or null                                                   |
| `options`    | `test_fraction`, `seed`, `hold_out`, `pairs_per_task` (0 = all), `duplicates`                |
| `duplicates` | repeated (query, model) results: `policy`, `found`, `records`, `keys`, `merged`, `examples`  |
| `pairs`      | per mode: `available` (the rule's pool), `kept`, and `by_task` {task: {available, kept}}     |
| `data_hash`  | the data hash of the dataset as written; `rp` is the version that wrote it                   |

The loader (`load_dataset`) never reads it, so it is no part of the data hash: two imports that write the same data
have the same hash whatever their options or source path. `rp data check` reads it with `read_import_record`, which
never raises (a missing record is None; a malformed or oversized one is a warning).
"""

from __future__ import annotations

import json
from pathlib import Path

IMPORT_RECORD = "import.json"
RECORD_SCHEMA = 1
MAX_RECORD_BYTES = 1 << 20  # a record is a few KiB; anything near this is not one


def import_record(summary: dict, *, source: Path, fmt: str, cards: Path | None, duplicates: str,
                  data_hash: str) -> dict:
    """The record of one import, from `convert`'s summary and the files it read."""
    from rpcli._version import __version__
    from rpcli.workspace.hashing import sha256_file

    source = Path(source).resolve()
    ppt = summary["pairs_per_task"]
    return {
        "schema": RECORD_SCHEMA, "rp": __version__,
        "source": {"path": str(source), "sha256": sha256_file(source), "bytes": source.stat().st_size,
                   "format": fmt},
        "cards": None if cards is None else {"path": str(Path(cards).resolve()), "sha256": sha256_file(cards)},
        "options": {"test_fraction": summary["test_fraction"], "seed": summary["seed"],
                    "hold_out": summary["hold_out"], "pairs_per_task": 0 if ppt is None else ppt,
                    "duplicates": duplicates},
        "duplicates": summary["duplicates"],
        "pairs": {mode: {"available": p["available"], "kept": p["pairs"], "by_task": p["by_task"]}
                  for mode, p in summary["pairs"].items()},
        "data_hash": data_hash,
    }


def write_import_record(root: Path, doc: dict) -> Path:
    path = Path(root) / IMPORT_RECORD
    path.write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_import_record(root: str | Path) -> tuple[dict | None, str | None]:
    """(the record, None), (None, None) when the dataset has none, or (None, a warning) when it cannot be read."""
    path = Path(root) / IMPORT_RECORD
    if not path.exists() and not path.is_symlink():
        return None, None
    if not path.is_file():  # a folder, a dangling link, a device or a pipe (which would block a read)
        return None, f"{path} is not a regular file: import record ignored"
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RECORD_BYTES + 1)
    except OSError as exc:
        return None, f"{path}: cannot read the import record ({exc.strerror or exc}): ignored"
    if len(raw) > MAX_RECORD_BYTES:
        return None, f"{path} is larger than {MAX_RECORD_BYTES // (1 << 20)} MiB: not an import record, ignored"
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"{path} is not valid JSON ({str(exc)[:80]}): import record ignored"
    if not isinstance(doc, dict):
        return None, f"{path} holds a {type(doc).__name__}, not an object: import record ignored"
    return doc, None


def pairs_kept_line(doc: dict) -> str | None:
    """`rp data check`'s line on the pairs kept of the ones the rule could make, or None when the record lacks
    them."""
    try:
        pairs = doc["pairs"]
        ppt = doc["options"]["pairs_per_task"]
        std = pairs["standard"]
        text = f"{int(std['kept']):,} of {int(std['available']):,} possible"
        new = pairs.get("newllm")
        if new is not None and (new["kept"], new["available"]) != (std["kept"], std["available"]):
            text = f"standard {text}; newllm {int(new['kept']):,} of {int(new['available']):,} possible"
        if not ppt:
            return text + " (--pairs-per-task 0: all kept)"
        return text + f" (--pairs-per-task {int(ppt)}; rp data import --pairs-per-task 0 keeps all)"
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def import_rows(doc: dict) -> list[tuple[str, str]]:
    """`rp data check`'s rows on an import record: where from, the pairs kept, the duplicates merged. A row the
    record cannot fill (a hand-edited record) is left out, never a crash."""
    rows = []
    try:
        src = doc["source"]
        rows.append(("imported from", f"{src['path']} ({src['format']}, sha256 {str(src['sha256'])[:12]})"))
    except (KeyError, TypeError):
        pass
    line = pairs_kept_line(doc)
    if line is not None:
        rows.append(("pairs kept", line))
    try:
        dups = doc["duplicates"]
        if dups["found"]:
            done = {"first": "kept the first of each", "mean": "averaged"}.get(dups["policy"], dups["policy"])
            rows.append(("duplicates", f"{int(dups['found']):,} repeated (query, model) results: {done} "
                                       f"(--duplicates {dups['policy']})"))
    except (KeyError, TypeError, ValueError):
        pass
    return rows
