"""What trainable routers (and every router's calibration) learn from: the mode's training signal.

The signal is always the mode's own (newllm trains on the newllm pairs; spec §9.1 item 2), and before anything
is trained `check_held_out` (the data layer's `refuse_held_out`) asserts that no part of it mentions a held-out model of the mode.

Per-query labels (spec §9.1 item 1), from the pairwise file: within one query's pairs, "better beats worse"
defines a partial order. The models at its top (never beaten in that query's pairs and beating at least one) are
positives (1); every beaten model is a negative (0); models the query's pairs never mention are unlabeled (NaN,
masked out of every loss). For 0/1 metrics this is exactly "better => 1, worse => 0".

Alternatively, per-query score rows (`route_data/routing_train_data.json`, rows with `model_performance`, read by
the loader into `RouteDataset.train_scores`) give labels directly: 1 for the models tied at the row's best score,
0 for the others; held-out models' scores are removed (the original leaked them, spec §9.1 item 3) and, for these
labels, rows whose scores are all equal carry no signal (`--labels scores` of the trainable routers).

`score_signal` is the scores themselves for the per-task references and the per-task prior: every training row
(flat ones too: the mean score of a task counts every query), `quality` = the scores (NaN = no score or a held-out
model). "per-task-best (train)" and "best-single (train)" (rpcli.core.routers.evaluate.reference_rows) and
`rpcli.core.routers.ability.task_prior_from_scores` all read it, so they agree.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rpcli.core.data.held_out import refuse_held_out
from rpcli.core.routers.query_text import query_text
from rpcli.errors import ConfigError, DataFileError, TrainingDataError

SCORE_ROWS_FILE = "route_data/routing_train_data.json"
LABEL_SOURCES = ("pairs", "scores")


@dataclass
class TrainingSignal:
    """Unique training queries (in first-appearance order) and what is known about each candidate on them."""

    source: str  # "pairs" or "scores"
    models: list  # column order = the router's candidate order
    tasks: list  # [Q]
    queries: list  # [Q] raw query texts
    texts: list  # [Q] the texts to embed (query_text choice applied)
    labels: np.ndarray  # [Q, K] 1 = among the best, 0 = beaten / not best, NaN = unlabeled
    quality: np.ndarray  # [Q, K] calibration target: labels (pairs) or the true scores (score rows)
    pairs: np.ndarray  # [P, 3] int64 (query index, better column, worse column); empty for score rows
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.queries)


def check_held_out(mentions, held_out, mode: str, what: str) -> None:
    """Raise TrainingDataError when any name in `mentions` is a held-out model of the mode (the data layer's
    guard, rpcli.core.data.held_out.refuse_held_out)."""
    refuse_held_out(mentions, held_out, what=f"the {mode} training signal ({what})", mode=mode)


def labels_from_pairs(pairs, models: list[str]) -> np.ndarray:
    """[K] labels of one query from its (better, worse) name pairs: 1 for the top of the partial order, 0 for
    beaten models, NaN for models the pairs never mention."""
    col = {m: j for j, m in enumerate(models)}
    out = np.full(len(models), np.nan)
    better = {b for b, _ in pairs}
    beaten = {w for _, w in pairs}
    for m in beaten:
        if m in col:
            out[col[m]] = 0.0
    for m in better - beaten:
        if m in col:
            out[col[m]] = 1.0
    return out


def labels_from_scores(scores) -> np.ndarray:
    """[K] labels from one row's scores (NaN = no score): 1 at the row maximum (ties all 1), 0 elsewhere."""
    s = np.asarray(scores, dtype=np.float64)
    out = np.full(s.shape, np.nan)
    ok = ~np.isnan(s)
    if not ok.any():
        return out
    mx = s[ok].max()
    out[ok] = (s[ok] == mx).astype(np.float64)
    return out


def from_pairs(pairs, models: list[str], held_out, mode: str, choice: str) -> TrainingSignal:
    """The signal of a mode's pairwise records (objects with task_name, query, choices, better, worse)."""
    check_held_out([n for p in pairs for n in (p.better, p.worse)], held_out, mode, "pairwise training data")
    col = {m: j for j, m in enumerate(models)}
    qidx: dict = {}
    rows, per_q, trip = [], [], []
    dropped = 0
    for p in pairs:
        if p.better not in col or p.worse not in col:
            dropped += 1  # the original keeps only pairs whose two models are profile keys
            continue
        key = (p.task_name, p.query)
        if key not in qidx:
            qidx[key] = len(rows)
            rows.append(p)
            per_q.append([])
        q = qidx[key]
        per_q[q].append((p.better, p.worse))
        trip.append((q, col[p.better], col[p.worse]))
    labels = np.stack([labels_from_pairs(pq, models) for pq in per_q]) if rows else np.zeros((0, len(models)))
    sig = TrainingSignal(source="pairs", models=list(models), tasks=[r.task_name for r in rows],
                         queries=[r.query for r in rows], texts=[query_text(r, choice) for r in rows],
                         labels=labels, quality=labels.copy(),
                         pairs=np.asarray(trip, dtype=np.int64).reshape(-1, 3))
    sig.stats = {"n_pairs": len(trip), "n_pairs_dropped_not_in_profile": dropped, "n_queries": len(rows),
                 "n_positive_labels": int(np.nansum(labels == 1)), "n_negative_labels": int(np.nansum(labels == 0)),
                 "n_unlabeled": int(np.isnan(labels).sum())}
    return sig


@dataclass(frozen=True)
class _ScoreRow:
    task_name: str
    query: str
    choices: object
    formatted_query: dict | None
    scores: dict


def read_score_rows(root: str | Path) -> list[_ScoreRow]:
    """Rows of `route_data/routing_train_data.json` (a list of rows with task_name, query, model_performance)."""
    path = Path(root) / SCORE_ROWS_FILE
    if not path.is_file():
        raise TrainingDataError(f"{path} is absent: no per-query score rows to train on",
                                hint="use --labels pairs (labels derived from the pairwise file)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFileError(path, f"malformed JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(doc, list):
        raise DataFileError(path, "expected a list of rows")
    out = []
    for i, rec in enumerate(doc):
        r = f"#{i}"
        if not isinstance(rec, dict):
            raise DataFileError(path, "expected an object", record=r)
        for k in ("task_name", "query", "model_performance"):
            if k not in rec:
                raise DataFileError(path, "missing field", record=r, field=k)
        mp = rec["model_performance"]
        if not isinstance(mp, dict):
            raise DataFileError(path, "expected an object", record=r, field="model_performance")
        scores = {}
        for m, e in mp.items():
            v = e.get("task_performance") if isinstance(e, dict) else e
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                raise DataFileError(path, f"expected a number or null, found {v!r}", record=r,
                                    field=f"model_performance.{m}.task_performance")
            scores[m] = None if v is None else float(v)
        fq = rec.get("formatted_query")
        out.append(_ScoreRow(task_name=str(rec["task_name"]), query=str(rec["query"]), choices=rec.get("choices"),
                             formatted_query=fq if isinstance(fq, dict) and isinstance(fq.get("user"), str) else None,
                             scores=scores))
    return out


def from_score_rows(rows, models: list[str], held_out, mode: str, choice: str,
                    exclude_queries=frozenset(), keep_flat: bool = False) -> TrainingSignal:
    """The signal of per-query score rows. Held-out models' scores are removed before anything else; rows whose
    query is a test query (`exclude_queries`) are dropped, and so are rows whose remaining scores are all equal
    (no ranking signal) unless `keep_flat` (then only rows with no remaining score at all are dropped)."""
    held = set(held_out or ())
    kept, s_rows = [], []
    n_overlap = n_flat = n_flat_kept = 0
    seen = set()
    for r in rows:
        if r.query in exclude_queries:
            n_overlap += 1
            continue
        key = (r.task_name, r.query)
        if key in seen:
            continue
        s = np.array([np.nan if (m in held or r.scores.get(m) is None) else r.scores[m] for m in models],
                     dtype=np.float64)
        ok = s[~np.isnan(s)]
        flat = ok.size < 2 or ok.max() == ok.min()
        if flat and not (keep_flat and ok.size):
            n_flat += 1
            continue
        n_flat_kept += flat
        seen.add(key)
        kept.append(r)
        s_rows.append(s)
    quality = np.stack(s_rows) if s_rows else np.zeros((0, len(models)))
    labels = np.stack([labels_from_scores(s) for s in s_rows]) if s_rows else np.zeros((0, len(models)))
    # The guard: after filtering, no label may concern a held-out model.
    check_held_out([m for j, m in enumerate(models) if (~np.isnan(labels[:, j])).any()], held, mode,
                   "per-query score rows")
    sig = TrainingSignal(source="scores", models=list(models), tasks=[r.task_name for r in kept],
                         queries=[r.query for r in kept], texts=[query_text(r, choice) for r in kept],
                         labels=labels, quality=quality, pairs=np.zeros((0, 3), dtype=np.int64))
    sig.stats = {"n_rows": len(rows), "n_queries": len(kept), "n_dropped_test_overlap": n_overlap,
                 "n_dropped_no_signal": n_flat, "held_out_removed": sorted(held & set(models))}
    if keep_flat:
        sig.stats["n_equal_scores_kept"] = int(n_flat_kept)
    return sig


def score_signal(ds, mode: str, models: list[str], query_text: str = "raw") -> TrainingSignal | None:
    """The mode's per-query training scores over `models` (None when the dataset has none): every row of
    `ds.train_scores` except test queries (unless the dataset keeps the overlap), equal-score rows kept; the mode's
    held-out models' columns are NaN. `quality` [Q, K] holds the scores, `labels` the per-row best (1) / not (0).
    What the references and the prior of a scored dataset are computed from."""
    if ds.train_scores is None:
        return None
    md = ds.mode(mode)
    exclude = frozenset() if ds.keep_overlap else frozenset(r.query for r in ds.test_rows)
    return from_score_rows(ds.train_scores, models, md.held_out, mode, query_text, exclude_queries=exclude,
                           keep_flat=True)


def training_signal(ds, mode: str, models: list[str], query_text: str, labels: str = "pairs"):
    """The mode's training signal over `models` from the dataset `ds` (None when the mode has no pairwise file and
    labels="pairs"). Raises TrainingDataError when it mentions a held-out model of the mode."""
    md = ds.mode(mode)
    if labels == "scores":
        rows = ds.train_scores if getattr(ds, "train_scores", None) is not None else read_score_rows(ds.root)
        exclude = frozenset() if ds.keep_overlap else frozenset(r.query for r in ds.test_rows)
        return from_score_rows(rows, models, md.held_out, mode, query_text, exclude_queries=exclude)
    if labels != "pairs":
        raise ConfigError(f"--labels must be one of {', '.join(LABEL_SOURCES)}")
    if not md.has_pairs_file:
        return None
    return from_pairs(md.pairs, models, md.held_out, mode, query_text)


def split_queries(n: int, val_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of query indices 0..n-1 into (train, val); at least one val query when n >= 2 and
    val_split > 0, and never all of them."""
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    n_val = 0
    if n >= 2 and val_split > 0:
        n_val = min(n - 1, max(1, int(round(val_split * n))))
    return np.sort(np.array(idx[n_val:], dtype=np.int64)), np.sort(np.array(idx[:n_val], dtype=np.int64))


def load_router_checkpoint(path, fmt: str, config_cls, build_model, what: str):
    """(model in eval mode, checkpoint dict) from a router's self-describing ckpt.pt (weights_only load)."""
    import torch

    ck = torch.load(path, weights_only=True, map_location="cpu")
    if ck.get("format") != fmt:
        raise ConfigError(f"{path} is not {what} checkpoint (format {ck.get('format')!r})")
    c = ck["config"]
    cfg = config_cls(**{k: c[k] for k in config_cls.__dataclass_fields__ if k in c})
    model = build_model(c["q_in_dim"], c["m_in_dim"], cfg)
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ck


def validate_common(cfg, positive_int_fields) -> None:
    """Option checks shared by the trainable routers (each names its own positive integer fields)."""
    for k in positive_int_fields:
        if getattr(cfg, k) < 1:
            raise ConfigError(f"--{k.replace('_', '-')} must be at least 1")
    if not 0 <= cfg.dropout < 1:
        raise ConfigError("--dropout must be in [0, 1)")
    if not 0 <= cfg.val_split < 1:
        raise ConfigError("--val-split must be in [0, 1)")
    if cfg.lr <= 0:
        raise ConfigError("--lr must be positive")
    if cfg.patience < 0:
        raise ConfigError("--patience must be >= 0 (0 disables early stopping)")
