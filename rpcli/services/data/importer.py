"""rp data import: a per-query score file (and optional model cards) becomes a RouteProfile-layout dataset.

`import_dataset(src, fmt, out, **opts)` reads and converts (rpcli.core.data.importers), writes into a temporary
folder beside `out`, validates it with the normal loader (`load_dataset`), writes the import record `import.json`
(source, options, duplicates, pairs available and kept; rpcli.core.data.importers.record) and only then moves it to
`out`: bad input raises (DataFileError naming file, record and field; ConfigError for bad options) and nothing is
written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from rpcli.errors import ConfigError


def staging_dir(out: Path) -> Path:
    """A fresh temporary folder beside `out` (same filesystem, so the final move is a rename)."""
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} already exists and is not an empty folder",
                          hint="choose a new folder; rp never overwrites a dataset")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out.parent}: {exc.strerror or exc}") from None
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def publish(tmp: Path, out: Path) -> Path:
    """Move the validated dataset in `tmp` to `out` (an empty `out` folder is replaced)."""
    out = Path(out).expanduser().resolve()
    if out.is_dir():
        out.rmdir()
    os.replace(tmp, out)
    return out


def import_dataset(src: str | Path, fmt: str, out: str | Path, *, test_fraction: float = 0.2, seed: int = 0,
                   hold_out: str | None = None, pairs_per_task: int | None = 5000, cards: str | Path | None = None,
                   duplicates: str = "error", progress=None) -> dict:
    """Convert `src` (format `fmt`: scores | wide-csv) into a RouteProfile-layout dataset at `out`.

    Options: `test_fraction` (share of each task's queries in the test rows), `seed` (the split and the pair
    sampling), `hold_out` (the newllm held-out candidate), `pairs_per_task` (the cap on each task's pairs; None:
    all), `cards` (a YAML or JSON cards file), `duplicates` (a repeated (query, model) result: "error" refuses
    it, "first" keeps the first, "mean" averages them). Returns a summary: counts, the rule's pair counts (available
    and kept, per mode and task), the duplicates found and merged, the files, the data hash, the warnings (missing
    descriptions and merged duplicates among them).
    """
    from rpcli.core.data.importers import (DEFAULT_PAIRS_PER_TASK, convert, pairs_kept_text, read_cards, read_table,
                                           write_files)
    from rpcli.core.data.importers.record import IMPORT_RECORD, import_record, write_import_record
    from rpcli.core.data.load import load_dataset

    if pairs_per_task == 0:
        pairs_per_task = None
    src = Path(src).expanduser()
    tab = read_table(src, fmt, duplicates)
    cards = Path(cards).expanduser() if cards is not None else None
    card_doc = read_cards(cards)
    files, summary, warnings = convert(tab, card_doc, test_fraction=test_fraction, seed=seed, hold_out=hold_out,
                                       pairs_per_task=pairs_per_task, source=str(src))
    if progress is not None:
        for w in warnings:
            progress.warn(w)
    out = Path(out).expanduser().resolve()
    tmp = staging_dir(out)
    try:
        write_files(tmp, files)
        ds = load_dataset(tmp)  # validates like every other dataset
        record = import_record(summary, source=src, fmt=fmt, cards=cards, duplicates=duplicates,
                               data_hash=ds.data_hash)
        write_import_record(tmp, record)  # the loader never reads it: no part of the data hash
        final = publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.update({"out_dir": str(final), "format": fmt, "cards": None if cards is None else str(cards),
                    "data_hash": ds.data_hash, "files": sorted(files), "warnings": warnings,
                    "loader_warnings": list(ds.warnings), "default_pairs_per_task": DEFAULT_PAIRS_PER_TASK,
                    "source_sha256": record["source"]["sha256"], "import_record": IMPORT_RECORD,
                    "pairs_kept": pairs_kept_text(summary["pairs"], summary["pairs_per_task"])})
    return summary
