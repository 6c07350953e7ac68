"""Typed records for a RouteProfile-layout dataset.

| record      | from                                                        |
|-------------|-------------------------------------------------------------|
| ModelInfo   | profile_data/model_feature_{mode}.json (+ candidate_models.json for prices) |
| TestRow     | route_data/routing_test_data.json                           |
| Pair        | route_data/pairwise_training_data_{mode}.json               |
| QueryRow    | route_data/default_query_{train,test}.jsonl                 |
| TrainScoreRow | route_data/routing_train_data.json (optional)             |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rpcli.workspace.leaderboard import MODES  # noqa: F401 - the one list of modes, re-exported for the engine


@dataclass(frozen=True)
class ModelInfo:
    name: str
    architecture: str
    feature: str
    scores: dict  # task -> float | None (0-100 scale, raw)
    input_price: float | None
    output_price: float | None
    size: str | None = None
    parameters: float | None = None


@dataclass(frozen=True)
class TestRow:
    index: int
    task_name: str
    query: str
    formatted_query: dict | None
    choices: object
    metric: str | None
    ground_truth: object
    task_id: object
    scores: dict  # model -> float | None
    input_tokens: dict  # model -> int
    output_tokens: dict  # model -> int
    costs: dict = field(default_factory=dict)  # model -> dollars | None, for entries that give a `cost` directly


@dataclass(frozen=True)
class Pair:
    task_name: str
    query: str
    better: str
    worse: str
    choices: object = None
    metric: str | None = None
    formatted_query: dict | None = None


@dataclass(frozen=True)
class QueryRow:
    task_name: str
    query: str
    choices: object = None
    metric: str | None = None
    formatted_query: dict | None = None


@dataclass(frozen=True)
class TrainScoreRow:
    """One training query with every model's score on it (route_data/routing_train_data.json, optional; written by
    rp data import). The file is shared by the modes: a held-out model's scores are removed where they are used
    (rpcli.core.routers.training.score_signal)."""

    task_name: str
    query: str
    scores: dict  # model -> float in [0, 1] | None (not run)
    choices: object = None
    metric: str | None = None
    formatted_query: dict | None = None


@dataclass
class ModeData:
    """What one mode sees: its model file, its training pairs, its held-out models."""

    mode: str
    models: list  # list[ModelInfo], JSON order
    pairs: list  # list[Pair], after dropping train/test overlaps (unless kept)
    pairs_released: int
    pairs_dropped_overlap: int
    held_out: list  # newllm: the dataset's held-out candidates (core/data/held_out.py); standard: []
    task_queries: dict | None  # task -> list[str] from profile_data/task_queries_{mode}.json, if present
    has_pairs_file: bool = True

    def model(self, name: str) -> ModelInfo:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)


@dataclass
class RouteDataset:
    root: Path
    files: dict  # relative path -> sha256 of every file read
    families: dict  # architecture -> description
    tasks: dict  # task -> description
    domains: dict  # domain -> description
    domain_task_map: dict  # domain -> [task]
    candidates: list  # routing candidates, in the order of the test rows' model_performance
    test_rows: list  # list[TestRow]
    train_queries: list  # list[QueryRow] from default_query_train.jsonl ([] when absent)
    modes: dict  # mode -> ModeData
    prices: dict  # model -> (input_price, output_price) with candidate_models.json fallback
    keep_overlap: bool = False
    warnings: list = field(default_factory=list)
    held_out: list = field(default_factory=list)  # newllm's held-out candidates (core/data/held_out.py)
    held_out_source: str = ""  # route_data/held_out.json, or the model-card rule
    # Names a file uses that match nothing the defining file holds, as {file, record, field, kind, name,
    # defined_in, suggestion, effect, records} (load.py; each one is also a warning).
    unmatched: list = field(default_factory=list)
    unpriced: list = field(default_factory=list)  # candidates whose cost is unknown on some test row (no price)
    # Per-query training scores (list[TrainScoreRow], file order, test-overlap rows included: consumers apply
    # keep_overlap), or None when route_data/routing_train_data.json is absent.
    train_scores: list | None = None

    @property
    def data_hash(self) -> str:
        from rpcli.workspace.hashing import canonical_json, sha256_text

        return sha256_text(canonical_json(self.files))

    def mode(self, mode: str) -> ModeData:
        if mode not in self.modes:
            from rpcli.errors import ConfigError

            raise ConfigError(f"mode {mode!r} is not available in {self.root}; choose one of {sorted(self.modes)}")
        return self.modes[mode]

    @property
    def test_tasks(self) -> list:
        seen: dict = {}
        for r in self.test_rows:
            seen.setdefault(r.task_name, None)
        return list(seen)
