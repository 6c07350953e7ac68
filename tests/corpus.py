"""The bad-input corpus (issue 13): broken variants of the tiny dataset, of sweep and prompt YAML, and of CLI
arguments, and the one check every (command, input) case must pass.

A case passes when the command exits 1 (bad input; 2 for usage, 3 for a workspace problem), prints one error panel
whose text names the broken file (and the record and field where the format has them), prints no traceback, and
leaves the workspace byte-for-byte as it was (`tree_digest` before and after).

Used by tests/test_corpus.py (asserts every case) and scripts/reliability_report.py (counts them for
docs/reliability.md). The "large file" variant is 50 MB, as the issue asks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tiny import write_tiny

TEST = "route_data/routing_test_data.json"
TRAIN = "route_data/default_query_train.jsonl"
PAIRS = "route_data/pairwise_training_data_standard.json"
PAIRS_NEW = "route_data/pairwise_training_data_newllm.json"
HELD = "route_data/held_out.json"
CARDS = "profile_data/model_feature_standard.json"
CANDS = "profile_data/candidate_models.json"
TASKS = "profile_data/task_feature.json"
FAMS = "profile_data/model_family_feature.json"
DMAP = "profile_data/domain_task_map.json"

LARGE_BYTES = 50 * 1024 * 1024  # the 50 MB (one test row's query), truncated at the end


@dataclass(frozen=True)
class Variant:
    name: str
    category: str
    file: str  # the file the message must name (relative to the dataset root, or to the YAML's folder)
    apply: Callable[[Path], None] = field(compare=False, repr=False)
    expect: tuple = ()  # further words the message must hold (record, field, suggestion)
    exit: tuple = (1,)  # the exit codes allowed (2 where the CLI refuses the argument before reading it)


# ---------------------------------------------------------------------------------------------------- helpers
def _load(root: Path, rel: str):
    return json.loads((root / rel).read_text(encoding="utf-8"))


def _dump(root: Path, rel: str, doc) -> None:
    (root / rel).write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _edit(rel: str, fn) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        doc = _load(root, rel)
        out = fn(doc)
        _dump(root, rel, doc if out is None else out)
    return apply


def _text(rel: str, text) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / rel
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text(p.read_text(encoding="utf-8")) if callable(text) else text, encoding="utf-8")
    return apply


def _replace_first(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / rel
        s = p.read_text(encoding="utf-8")
        assert old in s, f"{old!r} not in {rel}"
        p.write_text(s.replace(old, new, 1), encoding="utf-8")
    return apply


def _truncate(rel: str, frac: float = 0.5) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / rel
        b = p.read_bytes()
        p.write_bytes(b[: int(len(b) * frac)])
    return apply


def _set_row(rel: str, i: int, fn) -> Callable[[Path], None]:
    def mutate(doc):
        rows = doc["pairwise_data"] if isinstance(doc, dict) and "pairwise_data" in doc else doc
        fn(rows[i])
    return _edit(rel, mutate)


def _perf(i: int, model: str, key: str, value):
    def fn(row):
        row["model_performance"][model][key] = value
    return _set_row(TEST, i, fn)


def _raw_perf(i: int, model: str, key: str, raw: str) -> Callable[[Path], None]:
    """Write a literal JSON token (NaN, Infinity, 1e999, a 400-digit integer) into a test row's field."""
    marker = "__RAW_TOKEN__"

    def apply(root: Path) -> None:
        _perf(i, model, key, marker)(root)
        p = root / TEST
        p.write_text(p.read_text(encoding="utf-8").replace(f'"{marker}"', raw, 1), encoding="utf-8")
    return apply


def _card(model: str, key: str, value, rel: str = CARDS):
    def fn(doc):
        doc[model][key] = value
    return _edit(rel, fn)


def _del(d: dict, key: str) -> None:
    del d[key]


def _symlink_loop(rel: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / rel
        p.unlink()
        p.symlink_to(p.name)  # a link to itself
    return apply


def _symlink_cycle(rel: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / rel
        other = p.with_name(p.name + ".loop")
        p.unlink()
        p.symlink_to(other.name)
        other.symlink_to(p.name)
    return apply


def _remove(rel: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        p = root / rel
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return apply


def _dir_instead(rel: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / rel).unlink()
        (root / rel).mkdir()
    return apply


def _large_truncated(root: Path) -> None:
    doc = _load(root, TEST)
    doc[0]["query"] = "x" * LARGE_BYTES
    text = json.dumps(doc)
    (root / TEST).write_text(text[: len(text) - 40], encoding="utf-8")


def pairs_contradict(doc) -> None:
    """Both orders of one pair on one query: plausible data (two judges), loaded with a warning, not an error."""
    first = doc["pairwise_data"][0]
    doc["pairwise_data"].append({**first, "better_model": first["worse_model"], "worse_model": first["better_model"]})


def _dup_model_key(root: Path) -> None:
    p = root / CARDS
    s = p.read_text(encoding="utf-8")
    body = json.dumps(_load(root, CARDS)["m1"])
    p.write_text(s.replace("{", '{\n  "m1": ' + body.replace('"FamA"', '"FamB"') + ",", 1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------- dataset
DATASET_VARIANTS: list[Variant] = [
    # truncated JSON
    Variant("truncated-test", "truncated JSON", TEST, _truncate(TEST), ("malformed JSON",)),
    Variant("truncated-cards", "truncated JSON", CARDS, _truncate(CARDS), ("malformed JSON",)),
    Variant("truncated-pairs", "truncated JSON", PAIRS, _truncate(PAIRS, 0.8), ("malformed JSON",)),
    Variant("truncated-tasks", "truncated JSON", TASKS, _truncate(TASKS, 0.3), ("malformed JSON",)),
    Variant("truncated-jsonl", "truncated JSON", TRAIN, _truncate(TRAIN, 0.5), ("malformed JSON", "line")),
    # wrong top-level type
    Variant("test-is-object", "wrong top-level type", TEST, _edit(TEST, lambda d: {"rows": d}), ("JSON list",)),
    Variant("cards-is-list", "wrong top-level type", CARDS, _edit(CARDS, lambda d: list(d.values())),
            ("JSON dict",)),
    Variant("tasks-is-list", "wrong top-level type", TASKS, _edit(TASKS, lambda d: list(d)), ("JSON dict",)),
    Variant("pairs-is-text", "wrong top-level type", PAIRS, _text(PAIRS, '"pairs"'), ("JSON dict or list",)),
    Variant("jsonl-line-is-list", "wrong top-level type", TRAIN, _text(TRAIN, lambda s: "[1, 2]\n" + s),
            ("line 1", "JSON object")),
    Variant("held-out-is-object", "wrong top-level type", HELD, _text(HELD, '{"m3": true}'), ("JSON list",)),
    # missing required keys
    Variant("row-without-task", "missing key", TEST, _set_row(TEST, 2, lambda r: _del(r, "task_name")),
            ("#2", "task_name", "missing field")),
    Variant("row-without-query", "missing key", TEST, _set_row(TEST, 5, lambda r: _del(r, "query")),
            ("#5", "query")),
    Variant("row-without-performance", "missing key", TEST,
            _set_row(TEST, 0, lambda r: _del(r, "model_performance")), ("#0", "model_performance")),
    Variant("card-without-architecture", "missing key", CARDS, _edit(CARDS, lambda d: _del(d["m2"], "architecture")),
            ("'m2'", "architecture")),
    Variant("card-without-scores", "missing key", CARDS, _edit(CARDS, lambda d: _del(d["m1"], "detailed_scores")),
            ("'m1'", "detailed_scores")),
    Variant("pair-without-better", "missing key", PAIRS, _set_row(PAIRS, 3, lambda r: _del(r, "better_model")),
            ("pairwise_data[3]", "better_model")),
    Variant("pairs-without-list", "missing key", PAIRS, _edit(PAIRS, lambda d: _del(d, "pairwise_data")),
            ("pairwise_data",)),
    Variant("jsonl-without-query", "missing key", TRAIN, _text(TRAIN, lambda s: '{"task_name": "t_math"}\n' + s),
            ("line 1", "query")),
    # wrong value types
    Variant("score-is-text", "wrong type", TEST, _perf(1, "m2", "task_performance", "high"),
            ("#1", "model_performance.m2.task_performance")),
    Variant("score-is-bool", "wrong type", TEST, _perf(1, "m2", "task_performance", True),
            ("#1", "model_performance.m2.task_performance")),
    Variant("query-is-number", "wrong type", TEST, _set_row(TEST, 4, lambda r: r.update(query=42)), ("#4", "query")),
    Variant("row-is-text", "wrong type", TEST, _edit(TEST, lambda d: d.__setitem__(6, "row")), ("#6",)),
    Variant("performance-is-list", "wrong type", TEST,
            _set_row(TEST, 0, lambda r: r.update(model_performance=["m1"])), ("#0", "model_performance")),
    Variant("card-scores-is-list", "wrong type", CARDS, _card("m1", "detailed_scores", [80]), ("detailed_scores",)),
    Variant("price-is-text", "wrong type", CARDS, _card("m2", "input_price", "cheap"), ("'m2'", "input_price")),
    Variant("description-is-number", "wrong type", TASKS, _edit(TASKS, lambda d: d.update(t_qa=3)), ("'t_qa'",)),
    Variant("domain-map-is-text", "wrong type", DMAP, _edit(DMAP, lambda d: d.update(d_know="t_qa")), ("'d_know'",)),
    Variant("formatted-query-is-text", "wrong type", TEST,
            _set_row(TEST, 0, lambda r: r.update(formatted_query="q")), ("#0", "formatted_query")),
    # NaN / inf / negative / huge numbers
    Variant("score-nan", "NaN/inf/negative", TEST, _raw_perf(3, "m1", "task_performance", "NaN"),
            ("#3", "task_performance", "finite")),
    Variant("score-infinity", "NaN/inf/negative", TEST, _raw_perf(3, "m3", "task_performance", "-Infinity"),
            ("#3", "task_performance", "finite")),
    Variant("score-negative", "NaN/inf/negative", TEST, _perf(7, "m2", "task_performance", -0.5),
            ("#7", "task_performance", "at least 0")),
    Variant("tokens-negative", "NaN/inf/negative", TEST, _perf(2, "m1", "output_token", -5),
            ("#2", "output_token", "at least 0")),
    Variant("cost-negative", "NaN/inf/negative", TEST, _perf(2, "m1", "cost", -0.01), ("#2", "cost")),
    Variant("price-negative", "NaN/inf/negative", CARDS, _card("m1", "input_price", -1.0), ("'m1'", "input_price")),
    Variant("candidate-price-negative", "NaN/inf/negative", CANDS, _card("m3", "output_price", -0.5, CANDS),
            ("'m3'", "output_price")),
    Variant("card-score-nan", "NaN/inf/negative", CARDS,
            _replace_first(CARDS, '"t_math": 80.0', '"t_math": NaN'), ("detailed_scores.t_math", "finite")),
    Variant("score-1e999", "huge numbers", TEST, _raw_perf(0, "m1", "task_performance", "1e999"),
            ("#0", "task_performance", "finite")),
    Variant("tokens-400-digits", "huge numbers", TEST, _raw_perf(0, "m2", "input_token", "9" * 400),
            ("#0", "input_token", "finite")),
    Variant("price-400-digits", "huge numbers", CARDS, _replace_first(CARDS, '"input_price": 0.1',
                                                                      '"input_price": ' + "7" * 400),
            ("'m1'", "input_price")),
    # unknown names (with a near-miss suggestion where one exists)
    Variant("row-task-misspelt", "unknown name", TEST, _set_row(TEST, 0, lambda r: r.update(task_name="t_mathh")),
            ("t_mathh", "did you mean", "t_math")),
    Variant("row-unknown-model", "unknown name", TEST,
            _set_row(TEST, 1, lambda r: r["model_performance"].__setitem__("m4", r["model_performance"]["m1"])),
            ("#1", "model_performance", "m4")),
    Variant("candidate-not-in-cards", "unknown name", CARDS, _edit(CARDS, lambda d: _del(d, "m2")),
            ("'m2'", "not in this file")),
    Variant("pair-model-misspelt", "unknown name", PAIRS, _set_row(PAIRS, 0, lambda r: r.update(better_model="m11")),
            ("pairwise_data[0]", "better_model", "did you mean")),
    Variant("pair-task-misspelt", "unknown name", PAIRS, _set_row(PAIRS, 1, lambda r: r.update(task_name="t_cod")),
            ("pairwise_data[1]", "task_name", "did you mean", "t_code")),
    Variant("architecture-unknown", "unknown name", CARDS, _card("m1", "architecture", "FamC"),
            ("'m1'", "architecture", "did you mean")),
    Variant("card-task-unknown", "unknown name", CARDS,
            _replace_first(CARDS, '"t_math": 80.0', '"t_maht": 80.0'), ("'m1'", "detailed_scores.t_maht")),
    Variant("held-out-not-candidate", "unknown name", HELD, _text(HELD, '["m7"]'),
            ("#0", "not a routing candidate")),
    Variant("held-out-misspelt", "unknown name", HELD, _text(HELD, '["m33"]'), ("#0", "did you mean")),
    Variant("held-out-twice", "contradictory records", HELD, _text(HELD, '["m3", "m3"]'), ("#1", "twice")),
    Variant("held-out-in-pairs", "contradictory records", PAIRS_NEW, _text(HELD, '["m2"]'),
            ("held-out model", "'m2'")),
    Variant("name-with-markup", "unknown name", PAIRS, _set_row(PAIRS, 0, lambda r: r.update(worse_model="[/red]")),
            ("pairwise_data[0]", "worse_model", "[/red]")),
    # duplicate keys
    Variant("duplicate-model-key", "duplicate keys", CARDS, _dup_model_key, ("duplicate key", "'m1'")),
    Variant("duplicate-field-key", "duplicate keys", TEST,
            _replace_first(TEST, '"task_name": "t_math"', '"task_name": "t_math", "task_name": "t_code"'),
            ("duplicate key", "task_name")),
    # empty files and empty sets
    Variant("empty-test", "empty file", TEST, _text(TEST, ""), ("empty",)),
    Variant("blank-tasks", "empty file", TASKS, _text(TASKS, "  \n\n"), ("empty",)),
    Variant("empty-jsonl", "empty file", TRAIN, _text(TRAIN, "\n"), ("no records",)),
    Variant("empty-held-out", "empty file", HELD, _text(HELD, ""), ("empty",)),
    Variant("no-test-rows", "empty candidate set", TEST, _text(TEST, "[]"), ("no test rows",)),
    Variant("no-candidates", "empty candidate set", TEST,
            _set_row(TEST, 0, lambda r: r.update(model_performance={})), ("#0", "model_performance", "empty")),
    Variant("no-models", "empty candidate set", CARDS, _text(CARDS, "{}"), ("no models",)),
    # non-UTF-8 bytes
    Variant("test-latin1", "non-UTF-8", TEST,
            lambda root: (root / TEST).write_bytes((root / TEST).read_bytes().replace(b"capital", b"capit\xe9l", 1)),
            ("UTF-8", "0xe9")),
    Variant("cards-binary", "non-UTF-8", CARDS, _text(CARDS, b"\xff\xfe\x00{\x00}"), ("UTF-8",)),
    Variant("jsonl-latin1", "non-UTF-8", TRAIN,
            lambda root: (root / TRAIN).write_bytes((root / TRAIN).read_bytes() + b'{"query": "caf\xe9"}\n'),
            ("UTF-8",)),
    # a large file (50 MB), truncated
    Variant("large-truncated", "large file", TEST, _large_truncated, ("malformed JSON",)),
    # symlink loops and files that are not files
    Variant("test-links-to-itself", "symlink loop", TEST, _symlink_loop(TEST), ("symbolic link",)),
    Variant("tasks-link-cycle", "symlink loop", TASKS, _symlink_cycle(TASKS), ("symbolic link",)),
    Variant("test-missing", "missing file", TEST, _remove(TEST), ("file not found",)),
    Variant("route-data-missing", "missing file", "route_data", _remove("route_data"), ("folder not found",)),
    Variant("test-is-a-folder", "missing file", TEST, _dir_instead(TEST), ("file not found",)),
    # contradictory records
    Variant("pair-beats-itself", "contradictory records", PAIRS,
            _set_row(PAIRS, 2, lambda r: r.update(worse_model=r["better_model"])), ("pairwise_data[2]", "itself")),
    Variant("rows-differ-in-candidates", "contradictory records", TEST,
            _set_row(TEST, 9, lambda r: _del(r["model_performance"], "m3")), ("#9", "missing ['m3']")),
    # pathological structure
    Variant("test-deep-nesting", "deep nesting", TEST, _text(TEST, "[" * 200_000 + "]" * 200_000),
            ("nested too deeply",)),
    Variant("card-deep-nesting", "deep nesting", CARDS,
            _replace_first(CARDS, '"t_math": 80.0', '"t_math": ' + "[" * 100_000 + "]" * 100_000),
            ("nested too deeply",)),
    Variant("jsonl-deep-nesting", "deep nesting", TRAIN, _text(TRAIN, '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
            ("nested too deeply", "line 1")),
]


def write_variant(v: Variant, root: Path) -> Path:
    """The tiny dataset at `root`, broken as `v` says."""
    write_tiny(root)
    if v.file == HELD:  # the tiny data infers its held-out model; these variants break an explicit list
        (root / HELD).write_text('["m3"]', encoding="utf-8")
    v.apply(root)
    return root


# ---------------------------------------------------------------------------------------------------- YAML
def _deep_yaml(n: int) -> str:
    return "profiles: " + "[" * n + "]" * n + "\n"


# Names that match nothing and candidates without a price load, with a warning that names the file, the record
# and the name (rp data check exits 0 and reports them; --json too)
def _rename_key(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def fn(doc):
        doc[new] = doc.pop(old)
    return _edit(rel, fn)


def _drop_prices(model: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        for rel in (CANDS, CARDS, "profile_data/model_feature_newllm.json"):
            doc = _load(root, rel)
            if model in doc:
                doc[model]["input_price"] = doc[model]["output_price"] = None
                _dump(root, rel, doc)
    return apply


WARNING_VARIANTS: list[Variant] = [
    Variant("price-names-no-model", "names that match nothing", CANDS, _rename_key(CANDS, "m3", "m-3"),
            ("warning", "'m-3'", "m3", "candidates without a price")),
    Variant("domain-map-misspelled-task", "names that match nothing", DMAP,
            _edit(DMAP, lambda d: d["d_reason"].__setitem__(0, "t-math")), ("warning", "t-math", "t_math")),
    Variant("training-query-unknown-task", "names that match nothing", TRAIN,
            _replace_first(TRAIN, '"task_name": "t_math"', '"task_name": "t_maths"'), ("warning", "t_maths")),
    Variant("candidate-without-price", "candidates without a price", CANDS, _drop_prices("m1"),
            ("warning", "m1", "price")),
]


SWEEP_VARIANTS: list[Variant] = [
    Variant("sweep-empty", "sweep YAML", "grid.yaml", _text("grid.yaml", ""), ("mapping",)),
    Variant("sweep-not-yaml", "sweep YAML", "grid.yaml", _text("grid.yaml", "profiles: [\n  - method: index\n"),
            ("not valid YAML",)),
    Variant("sweep-list", "sweep YAML", "grid.yaml", _text("grid.yaml", "- method: index\n"), ("mapping",)),
    Variant("sweep-latin1", "sweep YAML", "grid.yaml",
            _text("grid.yaml", b"name: caf\xe9\nprofiles:\n  - method: index\n"), ("UTF-8",)),
    Variant("sweep-python-tag", "sweep YAML", "grid.yaml",
            _text("grid.yaml", "profiles: !!python/object/apply:os.system ['true']\n"), ("not valid YAML",)),
    Variant("sweep-deep", "sweep YAML", "grid.yaml", _text("grid.yaml", _deep_yaml(1200)), ()),
    Variant("sweep-K-1e999", "sweep YAML", "grid.yaml", _text("grid.yaml", "profiles:\n  - method: emb-gnn\n    K: 1e999\n"),
            ("profiles[0].K",)),
    Variant("sweep-K-huge", "sweep YAML", "grid.yaml",
            _text("grid.yaml", "profiles:\n  - method: emb-gnn\n    K: " + "9" * 60 + "\n"), ("profiles[0].K",)),
    Variant("sweep-K-negative", "sweep YAML", "grid.yaml", _text("grid.yaml", "profiles:\n  - method: emb-gnn\n    K: -2\n"),
            ("profiles[0].K",)),
    Variant("sweep-seed-nan", "sweep YAML", "grid.yaml", _text("grid.yaml", "profiles:\n  - method: index\n    seed: .nan\n"),
            ("profiles[0].seed",)),
    Variant("sweep-name-path", "sweep YAML", "grid.yaml", _text("grid.yaml", "name: ../../etc\nprofiles:\n  - method: index\n"),
            ("name",)),
    Variant("sweep-name-absolute", "sweep YAML", "grid.yaml",
            _text("grid.yaml", "name: /tmp/rp-escape\nprofiles:\n  - method: index\n"), ("name",)),
    Variant("sweep-name-dotdot", "sweep YAML", "grid.yaml", _text("grid.yaml", "name: '..'\nprofiles:\n  - method: index\n"),
            ("name",)),
    Variant("sweep-name-nul", "sweep YAML", "grid.yaml",
            _text("grid.yaml", 'name: "a\\0b"\nprofiles:\n  - method: index\n'), ("name",)),
    Variant("sweep-name-slash", "sweep YAML", "grid.yaml", _text("grid.yaml", "name: a/b\nprofiles:\n  - method: index\n"),
            ("name",)),
    Variant("sweep-unknown-key", "sweep YAML", "grid.yaml", _text("grid.yaml", "profile:\n  - method: index\n"),
            ("unknown key", "did you mean")),
    Variant("sweep-duplicate-key", "sweep YAML", "grid.yaml",
            _text("grid.yaml", "profiles:\n  - method: index\nprofiles:\n  - method: flat\n"), ("duplicate key",)),
    Variant("sweep-router-misspelt", "sweep YAML", "grid.yaml",
            _text("grid.yaml", "profiles:\n  - method: index\nrouters:\n  - router: simm\n"),
            ("routers[0].router", "did you mean")),
    Variant("sweep-links-to-itself", "sweep YAML", "grid.yaml", _symlink_loop("grid.yaml"), (), exit=(2,)),
]

PROMPT_VARIANTS: list[Variant] = [
    Variant("prompts-empty", "prompt YAML", "prompts.yaml", _text("prompts.yaml", ""), ("mapping",)),
    Variant("prompts-not-yaml", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "model: [\n"), ("prompt",)),
    Variant("prompts-list", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "- model\n"), ("mapping",)),
    Variant("prompts-latin1", "prompt YAML", "prompts.yaml", _text("prompts.yaml", b"model: caf\xe9 {self_text}\n"),
            ("UTF-8",)),
    Variant("prompts-unknown-key", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "modle: '{self_text}'\n"),
            ("unknown template",)),
    Variant("prompts-bad-brace", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "model: 'a {self_text'\n"),
            ("format string",)),
    Variant("prompts-unknown-field", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "model: 'a {secret}'\n"),
            ("placeholder",)),
    Variant("prompts-number", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "model: 42\n"), ("model",)),
    Variant("prompts-python-tag", "prompt YAML", "prompts.yaml",
            _text("prompts.yaml", "model: !!python/object/apply:os.system ['true']\n"), ("prompt",)),
    Variant("prompts-deep", "prompt YAML", "prompts.yaml", _text("prompts.yaml", "model: " + "[" * 1200 + "]" * 1200 + "\n"),
            ()),
]


def write_yaml_variant(v: Variant, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / v.file
    p.write_text("profiles:\n  - method: index\n", encoding="utf-8")
    v.apply(folder)
    return p


# ---------------------------------------------------------------------------------------------------- model cards
# `rp model add CARD --out OUT` on the tiny data: a broken card exits 1 naming the card (and its field), writes no
# --out folder and leaves the workspace unchanged.
CARD = ("name: newbie\ndescription: \"newbie is a fresh model.\"\nfamily: FamC\nsize: 14B\ninput_price: 0.3\n"
        "output_price: 0.6\nscores: {t_math: 90, lb: 65}\n")


def _card_edit(old: str, new: str) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        p = folder / "card.yaml"
        s = p.read_text(encoding="utf-8")
        assert old in s, old
        p.write_text(s.replace(old, new, 1), encoding="utf-8")
    return apply


def _card_scores_file(rel: str, content: str | None = None) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        if content is not None:
            (folder / "scores.jsonl").write_text(content, encoding="utf-8")
        with open(folder / "card.yaml", "a", encoding="utf-8") as fh:
            fh.write(f"test_scores: {json.dumps(rel)}\n")
    return apply


CARD_VARIANTS: list[Variant] = [
    Variant("card-empty", "model card", "card.yaml", _text("card.yaml", ""), ("model card",)),
    Variant("card-not-yaml", "model card", "card.yaml", _text("card.yaml", "name: [newbie\n"), ("malformed YAML",)),
    Variant("card-is-list", "model card", "card.yaml", _text("card.yaml", "- name: newbie\n"), ("model card",)),
    Variant("card-latin1", "model card", "card.yaml", _text("card.yaml", b"name: caf\xe9\n"), ("UTF-8",)),
    Variant("card-python-tag", "model card", "card.yaml",
            _text("card.yaml", "name: !!python/object/apply:os.system ['true']\n"), ("YAML",)),
    Variant("card-no-name", "model card", "card.yaml", _card_edit("name: newbie\n", ""), ("name",)),
    Variant("card-name-number", "model card", "card.yaml", _card_edit("name: newbie", "name: 42"), ("name",)),
    Variant("card-name-taken", "model card", "card.yaml", _card_edit("name: newbie", "name: m1"), ("m1",)),
    Variant("card-score-text", "model card", "card.yaml", _card_edit("t_math: 90", "t_math: high"),
            ("scores", "t_math")),
    Variant("card-score-over-100", "model card", "card.yaml", _card_edit("t_math: 90", "t_math: 190"),
            ("scores", "t_math")),
    Variant("card-score-nan", "model card", "card.yaml", _card_edit("t_math: 90", "t_math: .nan"),
            ("scores", "t_math")),
    Variant("card-price-negative", "model card", "card.yaml", _card_edit("input_price: 0.3", "input_price: -0.3"),
            ("input_price",)),
    Variant("card-price-text", "model card", "card.yaml", _card_edit("output_price: 0.6", "output_price: cheap"),
            ("output_price",)),
    Variant("card-scores-list", "model card", "card.yaml", _card_edit("scores: {t_math: 90, lb: 65}", "scores: [90]"),
            ("scores",)),
    Variant("card-deep", "model card", "card.yaml",
            _card_edit("scores: {t_math: 90, lb: 65}", "scores: " + "[" * 1200 + "]" * 1200), ()),
    Variant("card-models-empty", "model card", "card.yaml", _text("card.yaml", "models: {}\n"), ("models",)),
    Variant("card-test-scores-missing", "model card", "card.yaml", _card_scores_file("nosuch.jsonl"),
            ("test_scores", "not found")),
    Variant("card-test-scores-parent", "model card", "card.yaml", _card_scores_file("../scores.jsonl"),
            ("test_scores", "..")),
    Variant("card-test-scores-absolute", "model card", "card.yaml", _card_scores_file("/etc/hostname"),
            ("test_scores", "absolute")),
    Variant("card-test-scores-bad-score", "model card", "card.yaml",
            _card_scores_file("scores.jsonl", '{"query": "compute 17 times 3", "score": 7}\n'),
            ("scores.jsonl line 1", "score", "[0, 1]")),
    Variant("card-test-scores-nul", "model card", "card.yaml", _card_scores_file("a\0b"), ("test_scores", "NUL")),
    Variant("card-links-to-itself", "model card", "card.yaml", _symlink_loop("card.yaml"), ()),
]


def write_card_variant(v: Variant, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "card.yaml").write_text(CARD, encoding="utf-8")
    v.apply(folder)
    return folder / "card.yaml"


# ---------------------------------------------------------------------------------------------------- data import
# `rp data import SRC --format F --out OUT [--cards C]`: a broken input exits 1 naming the file (record, field)
# and writes nothing (no --out folder).
def _records(n_queries: int = 4) -> list[dict]:
    return [{"query": f"q-{t}-{i}", "task": t, "model": m, "score": float((i + j) % 2)}
            for t in ("maths", "facts") for i in range(n_queries) for j, m in enumerate(("a", "b", "c"))]


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _rows_with(i: int, **changes) -> str:
    rows = _records()
    rows[i] = {**rows[i], **changes}
    for k, v in changes.items():
        if v is _DROP:
            del rows[i][k]
    return _jsonl(rows)


_DROP = object()
_CSV = "prompt,task,a,b,c\n" + "".join(f"q{i},{t},{i % 2},{(i + 1) % 2},1\n" for t in ("maths", "facts")
                                        for i in range(4))
IMPORT_CARDS = ("models:\n  a: {description: \"Model a.\", family: F1, input_price: 1.0, output_price: 2.0}\n"
                "  b: {description: \"Model b.\", family: F2}\n  c: {description: \"Model c.\", family: F1}\n"
                "families: {F1: \"Family one.\", F2: \"Family two.\"}\n")

# (name, file the message names, format, {file: content}, extra args, words the message must hold)
IMPORT_VARIANTS: list[tuple] = [
    ("scores-truncated", "s.jsonl", "scores", {"s.jsonl": _jsonl(_records())[:-30]}, (), ("malformed JSON",)),
    ("scores-empty", "s.jsonl", "scores", {"s.jsonl": ""}, (), ("empty",)),
    ("scores-latin1", "s.jsonl", "scores", {"s.jsonl": _jsonl(_records()).encode() + b'{"query": "caf\xe9"}\n'}, (),
     ("UTF-8",)),
    ("scores-not-objects", "s.json", "scores", {"s.json": "[1, 2, 3]"}, (), ("#0", "JSON object")),
    ("scores-top-level-text", "s.json", "scores", {"s.json": '"scores"'}, (), ("line 1", "JSON object")),
    ("scores-missing-model", "s.jsonl", "scores", {"s.jsonl": _rows_with(3, model=_DROP)}, (), ("line 4", "model")),
    ("scores-missing-score", "s.jsonl", "scores", {"s.jsonl": _rows_with(5, score=_DROP)}, (), ("line 6", "score")),
    ("scores-nan", "s.jsonl", "scores", {"s.jsonl": _jsonl(_records()).replace('"score": 1.0', '"score": NaN', 1)},
     (), ("score", "finite")),
    ("scores-above-1", "s.jsonl", "scores", {"s.jsonl": _rows_with(2, score=3.5)}, (), ("line 3", "score", "[0, 1]")),
    ("scores-text", "s.jsonl", "scores", {"s.jsonl": _rows_with(2, score="high")}, (), ("line 3", "score")),
    ("scores-tokens-negative", "s.jsonl", "scores", {"s.jsonl": _rows_with(1, prompt_tokens=-4)}, (),
     ("line 2", "prompt_tokens")),
    ("scores-cost-negative", "s.jsonl", "scores", {"s.jsonl": _rows_with(1, cost=-0.5)}, (), ("line 2", "cost")),
    ("scores-query-number", "s.jsonl", "scores", {"s.jsonl": _rows_with(0, query=42)}, (), ("line 1", "query")),
    ("scores-second-result", "s.jsonl", "scores", {"s.jsonl": _jsonl(_records() + _records()[:1])}, (),
     ("second result", "--duplicates")),
    ("scores-deep", "s.json", "scores", {"s.json": "[" * 100_000 + "]" * 100_000}, (), ()),
    ("scores-400-digits", "s.jsonl", "scores", {"s.jsonl": _jsonl(_records()).replace('"score": 1.0',
                                                                                         '"score": ' + "9" * 400, 1)},
     (), ("score",)),
    ("csv-bad-number", "w.csv", "wide-csv", {"w.csv": _CSV.replace("q2,maths,0", "q2,maths,oops", 1)}, (),
     ("line 4", "'a'")),
    ("csv-no-task", "w.csv", "wide-csv", {"w.csv": "prompt,a,b\nq1,1,0\n"}, (), ("task",)),
    ("csv-duplicate-column", "w.csv", "wide-csv", {"w.csv": "prompt,task,a,a\nq1,t,1,0\n"}, (), ("twice",)),
    ("csv-empty", "w.csv", "wide-csv", {"w.csv": ""}, (), ("empty",)),
    ("csv-latin1", "w.csv", "wide-csv", {"w.csv": _CSV.encode() + b"caf\xe9,maths,1,0,1\n"}, (), ("UTF-8",)),
    ("cards-not-yaml", "cards.yaml", "scores", {"s.jsonl": _jsonl(_records()), "cards.yaml": "models: [\n"},
     ("--cards", "{dir}/cards.yaml"), ("malformed YAML",)),
    ("cards-price-negative", "cards.yaml", "scores",
     {"s.jsonl": _jsonl(_records()), "cards.yaml": IMPORT_CARDS.replace("input_price: 1.0", "input_price: -1")},
     ("--cards", "{dir}/cards.yaml"), ("input_price",)),
    ("cards-models-list", "cards.yaml", "scores", {"s.jsonl": _jsonl(_records()), "cards.yaml": "models: [a, b]\n"},
     ("--cards", "{dir}/cards.yaml"), ("models",)),
    ("cards-python-tag", "cards.yaml", "scores",
     {"s.jsonl": _jsonl(_records()), "cards.yaml": "models: !!python/object/apply:os.system ['true']\n"},
     ("--cards", "{dir}/cards.yaml"), ("YAML",)),
    ("hold-out-misspelt", None, "scores", {"s.jsonl": _jsonl(_records())}, ("--hold-out", "bb"),
     ("--hold-out 'bb'", "s.jsonl", "did you mean", "'b'")),
    ("scores-missing-file", "nosuch.jsonl", "scores", {}, (), ("not found",)),
]


def write_import_variant(v: tuple, folder: Path) -> tuple[Path, list[str]]:
    """(the source file, the extra arguments) of an import variant written under `folder`."""
    name, file, fmt, contents, extra, words = v
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in contents.items():
        p = folder / rel
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content, encoding="utf-8")
    sources = [k for k in contents if not k.startswith("cards")]
    src = folder / (sources[0] if sources else file)
    return src, [a.format(dir=folder) for a in extra]


# ---------------------------------------------------------------------------------------------------- CLI args
# (name, arguments after the global ones, expected exit code, words the message must hold)
ARG_VARIANTS: list[tuple] = [
    ("mode-unknown", ["graph", "build", "task", "--mode", "oldllm"], 2, ("--mode",)),
    ("graph-kind-unknown", ["graph", "build", "tsak"], 2, ("tsak",)),
    ("profile-unknown-id", ["route", "sim", "--profile", "profile-nosuch", "--mode", "standard"], 1, ("profile-nosuch",)),
    ("profile-empty-id", ["route", "sim", "--profile", "", "--mode", "standard"], 1, ("empty",)),
    ("graph-id-is-profile", ["profile", "emb-gnn", "--mode", "standard", "--graph", "{profile}"], 1, ("graph",)),
    ("seed-text", ["profile", "index", "--seed", "abc"], 2, ("--seed",)),
    ("import-duplicates-unknown", ["data", "import", "{file}", "--format", "scores", "--out", "{file}-out",
                                   "--duplicates", "last"], 2, ("--duplicates",)),
    ("K-negative", ["profile", "emb-gnn", "--mode", "standard", "--K", "-1"], 2, ("--K",)),
    ("encoder-hash-zero", ["--encoder", "hash:0", "profile", "index", "--mode", "standard"], 1, ("hash",)),
    ("encoder-hash-text", ["--encoder", "hash:abc", "profile", "index", "--mode", "standard"], 1, ("hash",)),
    ("encoder-missing-dir", ["--encoder", "/nonexistent/encoder", "profile", "index", "--mode", "standard"], 1,
     ("/nonexistent/encoder",)),
    ("data-missing", ["--data", "/nonexistent/data", "data", "check"], 1, ("/nonexistent/data",)),
    ("data-is-file", ["--data", "{file}", "data", "check"], 1, ("{file}",)),
    ("sweep-missing-file", ["sweep", "/nonexistent/grid.yaml"], 2, ("grid.yaml",)),
    ("sweep-jobs-zero", ["sweep", "{grid}", "--jobs", "0"], 2, ("--jobs",)),
    ("prompts-missing-file", ["profile", "text-gnn", "--mode", "standard", "--K", "1", "--prompts", "/nonexistent.yaml"],
     2, ("prompts",)),
    ("show-unknown", ["show", "run-zzzz"], 1, ("run-zzzz",)),
    ("show-empty-id", ["show", ""], 2, ("empty id matches every artifact",)),
    ("show-blank-id", ["show", "   "], 2, ("empty id matches every artifact",)),
    ("profile-show-empty-id", ["profile", "show", ""], 1, ("empty profile id",)),
    ("ls-unknown-kind", ["ls", "widgets"], 2, ("widgets",)),
    ("route-device-bogus", ["--device", "nope", "route", "sim", "--profile", "{profile}", "--mode", "standard"], 1,
     ("nope",)),
]


# ---------------------------------------------------------------------------------------------------- the check
def tree_digest(root: Path) -> str:
    """One hash of every path, link target and file content under `root` ("absent" when it does not exist)."""
    root = Path(root)
    if not root.exists():
        return "absent"
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = os.path.relpath(dirpath, root)
        h.update(f"D {rel}\n".encode())
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            h.update(f"F {os.path.join(rel, name)}\n".encode())
            if os.path.islink(p):
                h.update(os.readlink(p).encode())
            else:
                with open(p, "rb") as fh:
                    h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def squash(text: str) -> str:
    """Panel text without frame characters and whitespace (a long path may wrap anywhere)."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│╭╮╰╯─")


@dataclass
class CaseResult:
    case: str
    command: str
    exit_code: int
    expected_exit: tuple
    traceback: bool
    workspace_changed: bool
    names_file: bool
    missing_words: list
    panels: int
    output: str

    @property
    def ok(self) -> bool:
        return (self.exit_code in self.expected_exit and not self.traceback and not self.workspace_changed
                and self.names_file and not self.missing_words and self.panels <= 1)


def run_case(runner, app, args: list, ws: Path, *, case: str, command: str, names=(), words=(),
             expected_exit=(1,), also=()) -> CaseResult:
    """Run `rp -w ws ARGS` in process and judge it (see the module docstring). `also`: further paths that must
    stay as they were (an --out folder that must not appear)."""
    paths = [ws, *also]
    before = [tree_digest(p) for p in paths]
    r = runner.invoke(app, ["-w", str(ws), *args])
    after = [tree_digest(p) for p in paths]
    out = r.output
    crashed = r.exception is not None and not isinstance(r.exception, SystemExit)
    text = squash(out)
    return CaseResult(
        case=case, command=command, exit_code=r.exit_code, expected_exit=tuple(expected_exit),
        traceback=crashed or "Traceback" in out, workspace_changed=before != after,
        names_file=all(squash(str(n)) in text for n in names),
        missing_words=[w for w in words if squash(w) not in text], panels=out.count("╭"), output=out)
