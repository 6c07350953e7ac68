"""rp data: the dataset's summary (`rp data check`) and synthetic datasets (`rp data synth`)."""

from __future__ import annotations

from pathlib import Path

from rpcli.services.base import Session


def dataset_summary(sess: Session) -> dict:
    """Counts, modes, held-out models (and where the list came from), card scores measured on training queries that
    are also test queries, descriptions that are only the import's neutral placeholder, names that match nothing
    (`unmatched_names`: file, record, field, kind, name, defined_in, suggestion, effect, records), candidates
    without a price (`unpriced_candidates`) and warnings of the session's dataset (loading and validating it)."""
    from rpcli.core.data.audit import card_score_overlap, placeholder_descriptions
    from rpcli.core.data.importers.record import read_import_record

    ds = sess.dataset
    import_doc, import_warning = read_import_record(ds.root)  # rp data import's record; never raises
    return {
        "root": str(ds.root), "data_hash": ds.data_hash,
        "models": len(next(iter(ds.modes.values())).models), "candidates": list(ds.candidates),
        "families": len(ds.families), "tasks_described": len(ds.tasks), "domains": len(ds.domains),
        "test_rows": len(ds.test_rows), "test_tasks": ds.test_tasks, "train_queries": len(ds.train_queries),
        "modes": {m: {"pairs_released": md.pairs_released, "pairs_dropped_overlap": md.pairs_dropped_overlap,
                      "pairs": len(md.pairs), "held_out": md.held_out,
                      "task_queries": "file" if md.task_queries is not None else "derived from training queries"}
                  for m, md in ds.modes.items()},
        "held_out": list(ds.held_out), "held_out_source": ds.held_out_source,
        "card_score_overlap": card_score_overlap(ds),
        "placeholder_descriptions": placeholder_descriptions(ds),
        "unmatched_names": [dict(u) for u in ds.unmatched], "unpriced_candidates": list(ds.unpriced),
        "import": import_doc,
        "keep_overlap": ds.keep_overlap, "warnings": list(ds.warnings) + [w for w in (import_warning,) if w],
    }


def synthesize_dataset(out_dir: str | Path, **settings) -> dict:
    """Write a synthetic dataset in the RouteProfile layout (rpcli.core.data.synth.generate_dataset settings);
    returns its summary."""
    from rpcli.core.data.synth import generate_dataset

    return generate_dataset(out_dir, **settings)
