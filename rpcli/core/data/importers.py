"""Turn per-query score files into the RouteProfile layout (pure conversion: readers, the split, the pairwise rule,
the cards; `rpcli.services.importer` writes the files and validates them with the normal loader).

Formats read:

| format    | input                                                                                             |
|-----------|---------------------------------------------------------------------------------------------------|
| scores    | JSON (a list, or an object with a `records` list) or JSONL. A record is either one (query, model) |
|           | result: `query` or `prompt`, `task` or `dataset`, `model`, `score`, optional `prompt_tokens`,     |
|           | `completion_tokens`, `cost` (dollars), `ground_truth`, `metric`, `id`; or one query with a score  |
|           | per model: `scores: {model: score}` and optional per-model objects `prompt_tokens`,               |
|           | `completion_tokens`, `cost` (LLMRouterBench's per-instance fields)                                |
| wide-csv  | one row per query: a `prompt` (or `query`) column, a task column (`task`, `eval_name` or          |
|           | `dataset`), a score column per model named by the model, optional `<model>|cost` (or              |
|           | `<model>|total_cost`) columns in dollars (RouterBench's layout); `sample_id`, `<model>|...` other  |
|           | columns and `oracle_model_to_route_to` are ignored                                                |

Scores are per-query quality in [0, 1] (the test rows' `task_performance`); null / an empty cell means "not
run". Cards (`--cards`, YAML or JSON) give what scores cannot: model descriptions, families, sizes, prices and
known benchmark scores (0-100, the cards' scale), task, family and domain descriptions. A missing description
becomes the neutral placeholder `placeholder(kind, name)` with a warning; `rp data check` lists them.

The split (seeded): per task, the distinct queries in first-appearance order are shuffled with
`random.Random(f"{seed}/split/{task}")` and the first round(F * n) go to the test rows (at least one, and at
least one stays for training, when the task has two or more queries; a task with one query trains only).

The pairwise rule (seeded; `pairwise_rule` below): for every training query and every two candidates that both
have a score on it, the higher score is the better model; equal scores make no pair. The pairs of a task, in
(query, first model, second model) order, are its pool (`task_data_count`); when the pool is larger than
`pairs_per_task`, that many pairs are drawn without replacement with `random.Random(f"{seed}/pairs/{mode}/{task}")`
and kept in pool order. newllm builds its pool without the held-out model (so no newllm pair names it).

Per-task card scores (`detailed_scores` of the routing tasks) are 100 x the mean score of each candidate over the
task's training queries only (never a test query), rounded to two decimals; a card's own score for a routing
task is ignored with a warning.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from rpcli.core.data.audit import placeholder
from rpcli.errors import ConfigError, DataFileError, did_you_mean

FORMATS = ("scores", "wide-csv")
DEFAULT_TEST_FRACTION = 0.2
DEFAULT_PAIRS_PER_TASK = 350  # the original's per-task sample size (spec §7.2)
QUERY_KEYS = ("query", "prompt")
TASK_KEYS = ("task", "dataset", "task_name")
CSV_TASK_KEYS = ("task", "eval_name", "dataset", "task_name")
CSV_META = {"sample_id", "id", "oracle_model_to_route_to", "ground_truth", "metric"}
UNSPECIFIED_FAMILY = "unspecified"


@dataclass
class Result:
    """One (query, model) result, with where it came from (for errors)."""

    task: str
    query: str
    model: str
    score: float | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost: float | None = None
    where: str = ""


@dataclass
class QueryInfo:
    task: str
    query: str
    ground_truth: object = None
    metric: str | None = None
    qid: object = None


@dataclass
class Table:
    """Everything read from a score file: queries (first-appearance order), models (first-appearance order) and
    results keyed by (task, query, model)."""

    path: Path
    queries: dict = field(default_factory=dict)  # (task, query) -> QueryInfo
    models: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # (task, query, model) -> Result

    def add(self, r: Result, info: QueryInfo) -> None:
        key = (r.task, r.query, r.model)
        if key in self.results:
            raise DataFileError(self.path, f"a second result for model {r.model!r} on the same query (task "
                                           f"{r.task!r}; the first is {self.results[key].where})",
                                record=r.where, field="model")
        self.queries.setdefault((r.task, r.query), info)
        if r.model not in self.models:
            self.models.append(r.model)
        self.results[key] = r


# ---------------------------------------------------------------------------------------------------- readers


def _text(path, rec: dict, keys, where: str) -> str:
    for k in keys:
        if k in rec:
            v = rec[k]
            if not isinstance(v, str) or not v.strip():
                raise DataFileError(path, f"expected a non-empty text, found {type(v).__name__} ({str(v)[:40]!r})",
                                    record=where, field=k)
            return v
    raise DataFileError(path, "missing field", record=where, field=" or ".join(keys))


def _score(path, v, where: str, fld: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DataFileError(path, f"expected a number in [0, 1] or null, found {type(v).__name__} ({str(v)[:40]!r})",
                            record=where, field=fld)
    v = float(v)
    if not math.isfinite(v):
        raise DataFileError(path, f"not a finite number ({v}); write null for a model that was not run",
                            record=where, field=fld)
    if not 0.0 <= v <= 1.0:
        raise DataFileError(path, f"score {v} is outside [0, 1]", record=where, field=fld,
                            hint="per-query scores are quality in [0, 1] (rescale, e.g. divide percentages by 100)")
    return v


def _count(path, v, where: str, fld: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)) or v < 0:
        raise DataFileError(path, f"expected a token count (a number >= 0), found {str(v)[:40]!r}", record=where,
                            field=fld)
    return int(round(float(v)))


def _dollars(path, v, where: str, fld: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)) or v < 0:
        raise DataFileError(path, f"expected a cost in dollars (a number >= 0), found {str(v)[:40]!r}",
                            record=where, field=fld)
    return float(v)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise DataFileError(path, f"cannot read the file: {exc.strerror or exc}") from None


def _json_records(path: Path) -> list[tuple[str, object]]:
    """(record label, parsed record): a JSON list (labels #i), an object with a `records` list, a single object,
    or JSON lines (labels "line n")."""
    text = _read_text(path)
    if not text.strip():
        raise DataFileError(path, "the file is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("["):
            raise DataFileError(path, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        doc = None
    else:
        if isinstance(doc, dict) and "records" in doc:
            doc = doc["records"]
            if not isinstance(doc, list):
                raise DataFileError(path, "expected a list of records", field="records")
        if isinstance(doc, list):
            return [(f"#{i}", r) for i, r in enumerate(doc)]
        return [("line 1", doc)]
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((f"line {lineno}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise DataFileError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", record=f"line {lineno}") \
                from None
    return out


def read_scores(path: str | Path) -> Table:
    """Read a `scores` file (JSON or JSONL; see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found")
    recs = _json_records(path)
    if not recs:
        raise DataFileError(path, "the file has no records")
    tab = Table(path)
    for where, rec in recs:
        if not isinstance(rec, dict):
            raise DataFileError(path, f"expected a JSON object, found {type(rec).__name__}", record=where)
        query = _text(path, rec, QUERY_KEYS, where)
        task = _text(path, rec, TASK_KEYS, where)
        metric = rec.get("metric") if isinstance(rec.get("metric"), str) else None
        info = QueryInfo(task, query, ground_truth=rec.get("ground_truth"), metric=metric,
                         qid=rec.get("id", rec.get("query_id", rec.get("sample_id"))))
        if "scores" in rec:
            sc = rec["scores"]
            if not isinstance(sc, dict) or not sc:
                raise DataFileError(path, "expected a non-empty object {model: score}", record=where, field="scores")
            per = {}
            for k in ("prompt_tokens", "completion_tokens", "cost"):
                v = rec.get(k)
                if v is not None and not isinstance(v, dict):
                    raise DataFileError(path, "with 'scores' per model, this field is an object {model: value}",
                                        record=where, field=k)
                per[k] = v or {}
            for m, s in sc.items():
                if not isinstance(m, str) or not m.strip():
                    raise DataFileError(path, "a model name is empty", record=where, field="scores")
                tab.add(Result(task, query, m, _score(path, s, where, f"scores.{m}"),
                               _count(path, per["prompt_tokens"].get(m), where, f"prompt_tokens.{m}"),
                               _count(path, per["completion_tokens"].get(m), where, f"completion_tokens.{m}"),
                               _dollars(path, per["cost"].get(m), where, f"cost.{m}"), where), info)
        else:
            model = _text(path, rec, ("model",), where)
            if "score" not in rec:
                raise DataFileError(path, "missing field (or give 'scores': {model: score})", record=where,
                                    field="score")
            tab.add(Result(task, query, model, _score(path, rec["score"], where, "score"),
                           _count(path, rec.get("prompt_tokens"), where, "prompt_tokens"),
                           _count(path, rec.get("completion_tokens"), where, "completion_tokens"),
                           _dollars(path, rec.get("cost"), where, "cost"), where), info)
    return tab


def _csv_number(path, raw: str, where: str, col: str, kind: str):
    raw = raw.strip()
    if raw == "":
        return None
    try:
        v = float(raw)
    except ValueError:
        hint = (None if kind != "score" else "every column other than the prompt, the task, sample_id, "
                "oracle_model_to_route_to and '<model>|...' columns is read as a model's scores")
        raise DataFileError(path, f"expected a number, found {raw[:40]!r}", record=where, field=col, hint=hint) \
            from None
    if kind == "score":
        return _score(path, v, where, col)
    return _dollars(path, v, where, col)


def read_wide_csv(path: str | Path) -> Table:
    """Read a `wide-csv` file (RouterBench's layout; see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found")
    _read_text(path)  # UTF-8 text, readable
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataFileError(path, "the file is empty") from None
        except csv.Error as exc:
            raise DataFileError(path, f"malformed CSV: {exc}", record="line 1") from None
        header = [h.strip() for h in header]
        dup = sorted({h for h in header if header.count(h) > 1})
        if dup:
            raise DataFileError(path, f"column(s) {dup} appear twice", record="header")
        qcol = next((c for c in QUERY_KEYS if c in header), None)
        tcol = next((c for c in CSV_TASK_KEYS if c in header), None)
        if qcol is None:
            raise DataFileError(path, "no prompt column", record="header", field="prompt",
                                hint=f"the columns are {', '.join(header)}")
        if tcol is None:
            raise DataFileError(path, "no task column", record="header", field="task",
                                hint="name it task, eval_name or dataset")
        models = [h for h in header if h and "|" not in h and h not in (qcol, tcol) and h not in CSV_META
                  and h not in QUERY_KEYS and h not in CSV_TASK_KEYS]
        if not models:
            raise DataFileError(path, "no model score columns", record="header")
        for h in header:
            if "|" in h and h.split("|", 1)[0] not in models:
                raise DataFileError(path, f"column {h!r} names no model score column"
                                          f"{did_you_mean(h.split('|', 1)[0], models)}", record="header", field=h)
        idx = {h: i for i, h in enumerate(header)}
        tab = Table(path)
        n = 0
        try:
            for lineno, row in enumerate(reader, 2):
                if not any(c.strip() for c in row):
                    continue
                n += 1
                where = f"line {lineno}"
                if len(row) != len(header):
                    raise DataFileError(path, f"{len(row)} cells for {len(header)} columns", record=where)
                query, task = row[idx[qcol]], row[idx[tcol]].strip()
                if not query.strip():
                    raise DataFileError(path, "empty text", record=where, field=qcol)
                if not task:
                    raise DataFileError(path, "empty text", record=where, field=tcol)
                info = QueryInfo(task, query, ground_truth=row[idx["ground_truth"]] if "ground_truth" in idx else None,
                                 metric=(row[idx["metric"]] or None) if "metric" in idx else None,
                                 qid=row[idx["sample_id"]] if "sample_id" in idx else None)
                for m in models:
                    cost = None
                    for cc in (f"{m}|cost", f"{m}|total_cost"):
                        if cc in idx:
                            cost = _csv_number(path, row[idx[cc]], where, cc, "cost")
                    tab.add(Result(task, query, m, _csv_number(path, row[idx[m]], where, m, "score"),
                                   cost=cost, where=where), info)
        except csv.Error as exc:
            raise DataFileError(path, f"malformed CSV: {exc}", record=f"line {reader.line_num}") from None
    if n == 0:
        raise DataFileError(path, "the file has no rows")
    return tab


READERS = {"scores": read_scores, "wide-csv": read_wide_csv}


def read_table(src: str | Path, fmt: str) -> Table:
    if fmt not in READERS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    return READERS[fmt](src)


# ---------------------------------------------------------------------------------------------------- cards


@dataclass
class Card:
    name: str
    description: str | None = None
    family: str | None = None
    size: str | None = None
    parameters: float | None = None
    input_price: float | None = None
    output_price: float | None = None
    scores: dict = field(default_factory=dict)  # benchmark -> 0-100 score
    extra: dict = field(default_factory=dict)  # the card's other keys (kept as they are)


@dataclass
class Cards:
    path: Path | None = None
    models: dict = field(default_factory=dict)  # name -> Card
    families: dict = field(default_factory=dict)  # family -> description
    tasks: dict = field(default_factory=dict)  # task -> description
    domains: dict = field(default_factory=dict)  # domain -> (description | None, [tasks])


def load_structured(path: Path):
    """A YAML or JSON file (by suffix; .json is JSON, anything else YAML, which also reads JSON)."""
    if not path.is_file():
        raise DataFileError(path, "file not found")
    text = _read_text(path)
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(path, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DataFileError(path, f"malformed YAML{at}: {getattr(exc, 'problem', None) or exc}") from None


def _opt_text(path, rec: dict, keys, where: str) -> str | None:
    for k in keys:
        if k in rec and rec[k] is not None:
            v = rec[k]
            if not isinstance(v, str) or not v.strip():
                raise DataFileError(path, f"expected a non-empty text, found {str(v)[:40]!r}", record=where, field=k)
            return v.strip()
    return None


def _opt_number(path, rec: dict, key: str, where: str, lo: float = 0.0) -> float | None:
    v = rec.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)) or v < lo:
        raise DataFileError(path, f"expected a number >= {lo:g}, found {str(v)[:40]!r}", record=where, field=key)
    return float(v)


def parse_card(path, name: str, rec, where: str | None = None) -> Card:
    """One model card: description (or feature), family (or architecture), size, parameters, input_price and
    output_price ($ per million tokens; or prices: {input, output}), scores (or detailed_scores; 0-100)."""
    where = where or f"models.{name}"
    if not isinstance(rec, dict):
        raise DataFileError(path, f"expected a card (an object), found {type(rec).__name__}", record=where)
    prices = rec.get("prices")
    if prices is not None:
        if not isinstance(prices, dict):
            raise DataFileError(path, "expected {input: $, output: $}", record=where, field="prices")
        rec = {**rec, "input_price": prices.get("input"), "output_price": prices.get("output")}
    raw = rec.get("scores", rec.get("detailed_scores")) or {}
    if not isinstance(raw, dict):
        raise DataFileError(path, "expected an object {benchmark: score (0-100)}", record=where, field="scores")
    scores: dict = {}
    for t, v in raw.items():
        if v is None:
            scores[str(t)] = None
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            raise DataFileError(path, f"expected a number (0-100) or null, found {str(v)[:40]!r}", record=where,
                                field=f"scores.{t}")
        scores[str(t)] = float(v)
    size = rec.get("size")
    known = {"name", "description", "feature", "family", "architecture", "size", "parameters", "input_price",
             "output_price", "prices", "scores", "detailed_scores"}
    return Card(name=name, description=_opt_text(path, rec, ("description", "feature"), where),
                family=_opt_text(path, rec, ("family", "architecture"), where),
                size=None if size is None else str(size), parameters=_opt_number(path, rec, "parameters", where),
                input_price=_opt_number(path, rec, "input_price", where),
                output_price=_opt_number(path, rec, "output_price", where), scores=scores,
                extra={k: v for k, v in rec.items() if k not in known})


def _desc_map(path, doc, key: str) -> dict:
    m = doc.get(key) or {}
    if not isinstance(m, dict):
        raise DataFileError(path, "expected an object {name: description}", field=key)
    out = {}
    for k, v in m.items():
        if isinstance(v, dict):
            v = v.get("description")
        if not isinstance(v, str) or not v.strip():
            raise DataFileError(path, "expected a non-empty description text", record=f"{key}.{k}")
        out[str(k)] = v.strip()
    return out


def read_cards(path: str | Path | None) -> Cards:
    """Read a cards file: `models: {name: card}`, `families: {name: text}`, `tasks: {name: text}`,
    `domains: {name: {description: text, tasks: [task, ...]}}`; every section is optional."""
    if path is None:
        return Cards()
    path = Path(path)
    return cards_from_doc(path, load_structured(path))


def cards_from_doc(path: Path, doc) -> Cards:
    """`read_cards` on an already parsed document (`path` names it in errors)."""
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise DataFileError(path, f"expected an object with models, families, tasks and domains sections, found "
                                  f"{type(doc).__name__}")
    unknown = sorted(set(doc) - {"models", "families", "tasks", "domains"})
    if unknown:
        raise DataFileError(path, f"unknown section(s) {unknown}", record=unknown[0],
                            hint="the sections are models, families, tasks and domains")
    models = doc.get("models") or {}
    if not isinstance(models, dict):
        raise DataFileError(path, "expected an object {model name: card}", field="models")
    cards = Cards(path=path, models={str(n): parse_card(path, str(n), r) for n, r in models.items()},
                  families=_desc_map(path, doc, "families"), tasks=_desc_map(path, doc, "tasks"))
    doms = doc.get("domains") or {}
    if not isinstance(doms, dict):
        raise DataFileError(path, "expected an object {domain: {description, tasks}}", field="domains")
    for d, r in doms.items():
        if not isinstance(r, dict) or not isinstance(r.get("tasks", []), list):
            raise DataFileError(path, "expected {description: text, tasks: [task, ...]}", record=f"domains.{d}")
        desc = r.get("description")
        if desc is not None and (not isinstance(desc, str) or not desc.strip()):
            raise DataFileError(path, "expected a non-empty description text", record=f"domains.{d}",
                                field="description")
        cards.domains[str(d)] = (desc, [str(t) for t in r.get("tasks", [])])
    return cards


# ---------------------------------------------------------------------------------------------------- conversion


def split_queries(queries: list[tuple[str, str]], test_fraction: float, seed: int) -> set:
    """The (task, query) keys that go to the test rows (see the module docstring)."""
    by_task: dict = {}
    for key in queries:
        by_task.setdefault(key[0], []).append(key)
    test = set()
    for task, keys in by_task.items():
        n = len(keys)
        if n < 2:
            continue
        order = list(keys)
        random.Random(f"{seed}/split/{task}").shuffle(order)
        k = min(n - 1, max(1, int(round(test_fraction * n)))) if test_fraction > 0 else 0
        test.update(order[:k])
    return test


def pairwise_rule(train_keys: list[tuple[str, str]], models: list[str], score, *, seed: int, mode: str,
                  pairs_per_task: int | None) -> tuple[dict, list[tuple[str, str, str, str]]]:
    """The documented pairwise rule. `score(task, query, model)` -> float | None. Returns ({task: pool size},
    [(task, query, better, worse)]) with the pairs of each task in pool order."""
    pools: dict = {}
    for task, query in train_keys:
        pool = pools.setdefault(task, [])
        for i, a in enumerate(models):
            sa = score(task, query, a)
            if sa is None:
                continue
            for b in models[i + 1:]:
                sb = score(task, query, b)
                if sb is None or sa == sb:
                    continue
                pool.append((task, query, a, b) if sa > sb else (task, query, b, a))
    counts, out = {}, []
    for task, pool in pools.items():
        counts[task] = len(pool)
        if pairs_per_task is not None and len(pool) > pairs_per_task:
            keep = sorted(random.Random(f"{seed}/pairs/{mode}/{task}").sample(range(len(pool)), pairs_per_task))
            pool = [pool[i] for i in keep]
        out.extend(pool)
    return counts, out


def _r2(x: float) -> float:
    return float(round(x, 2))


def convert(tab: Table, cards: Cards, *, test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0,
            hold_out: str | None = None, pairs_per_task: int | None = DEFAULT_PAIRS_PER_TASK,
            source: str = "") -> tuple[dict, dict, list]:
    """The RouteProfile layout of a score table: ({relative path: JSON content}, summary, warnings).
    JSONL files are lists of dicts. Raises ConfigError on bad options and DataFileError on data that cannot make
    a dataset (no test row, no training query, a hold-out that is not a candidate)."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError(f"--test-fraction must be between 0 and 1, exclusive (got {test_fraction})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed must be an integer >= 0 (got {seed})")
    if pairs_per_task is not None and pairs_per_task < 1:
        raise ConfigError(f"--pairs-per-task must be at least 1 (got {pairs_per_task})")
    warnings: list[str] = []
    placeholders: list[str] = []
    p = tab.path
    cands = [m for m in tab.models if any(r.score is not None for (t, q, mm), r in tab.results.items() if mm == m)]
    dropped = [m for m in tab.models if m not in cands]
    if dropped:
        warnings.append(f"model(s) {dropped} have no score at all in {p.name}: not routing candidates")
    if len(cands) < 2:
        raise DataFileError(p, f"routing needs at least two models with scores; found {len(cands)} ({cands})")
    if hold_out is not None and hold_out not in cands:
        raise ConfigError(f"--hold-out {hold_out!r} is not a model of {p.name}{did_you_mean(hold_out, cands)}",
                          hint=f"the models are {', '.join(cands)}")

    def score(task, query, m):
        r = tab.results.get((task, query, m))
        return None if r is None else r.score

    keys = list(tab.queries)
    test_keys = split_queries(keys, float(test_fraction), seed)
    train = [k for k in keys if k not in test_keys]
    test = [k for k in keys if k in test_keys]
    if not test:
        raise DataFileError(p, "no test rows: every task has fewer than two queries", hint="add queries")
    one = sorted({t for t, _ in keys} - {t for t, _ in test})
    if one:
        warnings.append(f"task(s) {one} have one query: it trains, and the task has no test row")
    routing_tasks = list(dict.fromkeys(t for t, _ in test))
    tasks_all = list(dict.fromkeys(t for t, _ in keys))

    # Cards: candidates first (score-file order), then card-only models (graph context, not candidates).
    card_models = [m for m in cards.models if m not in cands]
    all_models = cands + card_models
    families: dict = {}
    for m in all_models:
        c = cards.models.get(m)
        if c is None or c.description is None:
            placeholders.append(f"model {m}")
            warnings.append(f"model {m!r} has no description (no card{'' if c is None else ' description'}): "
                            "a neutral placeholder stands in; give one in --cards")
        fam = (c.family if c is not None else None) or UNSPECIFIED_FAMILY
        if c is not None and c.family is None:
            warnings.append(f"model {m!r} has no family: placed in {UNSPECIFIED_FAMILY!r}")
        families.setdefault(fam, None)
    fam_desc = {}
    for f in families:
        if f in cards.families:
            fam_desc[f] = cards.families[f]
        else:
            fam_desc[f] = placeholder("family", f)
            placeholders.append(f"family {f}")
            warnings.append(f"family {f!r} has no description: a neutral placeholder stands in")
    bench = []
    for m in all_models:
        c = cards.models.get(m)
        for t, v in (c.scores.items() if c else ()):
            if t in routing_tasks or t in tasks_all:
                if v is not None:
                    warnings.append(f"card of {m!r}: its score for routing task {t!r} is ignored (routing-task "
                                    "scores come from the training split)")
                continue
            if t not in bench:
                bench.append(t)
    task_desc = {}
    for t in tasks_all + bench:
        if t in cards.tasks:
            task_desc[t] = cards.tasks[t]
        else:
            task_desc[t] = placeholder("task", t)
            placeholders.append(f"task {t}")
            warnings.append(f"task {t!r} has no description: a neutral placeholder stands in")
    for t in cards.tasks:
        task_desc.setdefault(t, cards.tasks[t])
    domains, dmap = {}, {}
    for d, (desc, ts) in cards.domains.items():
        domains[d] = desc or placeholder("domain", d)
        if desc is None:
            placeholders.append(f"domain {d}")
            warnings.append(f"domain {d!r} has no description: a neutral placeholder stands in")
        dmap[d] = list(ts)

    # Per-task scores from the training split only.
    train_by_task: dict = {}
    for t, q in train:
        train_by_task.setdefault(t, []).append(q)
    routing_scores: dict = {}
    for m in cands:
        for t in tasks_all:
            vals = [s for s in (score(t, q, m) for q in train_by_task.get(t, [])) if s is not None]
            routing_scores[(m, t)] = _r2(100.0 * sum(vals) / len(vals)) if vals else None

    def record(m: str, mode: str) -> dict:
        c = cards.models.get(m) or Card(m)
        ds = {}
        if m in cands:
            for t in tasks_all:
                v = routing_scores[(m, t)]
                ds[t] = None if (mode == "newllm" and m == hold_out) else v
        for t in bench:
            ds[t] = c.scores.get(t)
        return {"size": c.size, "feature": c.description or placeholder("model", m),
                "input_price": c.input_price, "output_price": c.output_price, "model": m, "detailed_scores": ds,
                "parameters": c.parameters, "architecture": c.family or UNSPECIFIED_FAMILY,
                "role": "primary" if m in cands else "auxiliary", "router_enabled": m in cands, **c.extra}

    prices = {m: (cards.models[m].input_price, cards.models[m].output_price) if m in cards.models else (None, None)
              for m in cands}

    def perf(t: str, q: str, m: str) -> dict:
        r = tab.results.get((t, q, m))
        e: dict = {"task_performance": None if r is None else r.score, "success": r is not None and r.score is not None}
        if r is not None and r.prompt_tokens is not None:
            e["prompt_tokens"] = e["input_token"] = r.prompt_tokens
        if r is not None and r.completion_tokens is not None:
            e["completion_tokens"] = e["output_token"] = r.completion_tokens
        cost = None if r is None else r.cost
        ip, op = prices[m]
        if cost is None and r is not None and None not in (ip, op, r.prompt_tokens, r.completion_tokens):
            cost = (r.prompt_tokens * ip + r.completion_tokens * op) / 1e6
        e["cost"] = cost
        return e

    def base(t: str, q: str) -> dict:
        info = tab.queries[(t, q)]
        return {"task_name": t, "query": q, "ground_truth": info.ground_truth, "metric": info.metric,
                "choices": None, "task_id": info.qid}

    test_rows = [{**base(t, q), "model_performance": {m: perf(t, q, m) for m in cands}} for t, q in test]
    n_null = sum(e["task_performance"] is None for r in test_rows for e in r["model_performance"].values())
    if n_null:
        warnings.append(f"{n_null} (test query, model) results are missing: a router choosing such a model "
                        "scores 0 there")
    train_rows = [{**base(t, q), "model_performance": {m: perf(t, q, m) for m in cands}} for t, q in train]

    files: dict = {}
    pair_counts = {}
    for mode in ("standard", "newllm"):
        models = [m for m in cands if not (mode == "newllm" and m == hold_out)]
        counts, prs = pairwise_rule(train, models, score, seed=seed, mode=mode, pairs_per_task=pairs_per_task)
        files[f"route_data/pairwise_training_data_{mode}.json"] = {
            "task_data_count": counts,
            "pairwise_data": [{**base(t, q), "better_model": b, "worse_model": w} for t, q, b, w in prs]}
        pair_counts[mode] = {"pairs": len(prs), "pool": counts}
        files[f"profile_data/model_feature_{mode}.json"] = {m: record(m, mode) for m in all_models}
        files[f"profile_data/task_queries_{mode}.json"] = {t: list(train_by_task.get(t, [])) for t in tasks_all
                                                           if train_by_task.get(t)}
    files["profile_data/model_family_feature.json"] = fam_desc
    files["profile_data/task_feature.json"] = task_desc
    files["profile_data/domain_feature.json"] = domains
    files["profile_data/domain_task_map.json"] = dmap
    files["route_data/routing_test_data.json"] = test_rows
    files["route_data/routing_train_data.json"] = train_rows
    files["route_data/default_query_train.jsonl"] = [base(t, q) for t, q in train]
    files["route_data/default_query_test.jsonl"] = [base(t, q) for t, q in test]
    files["route_data/held_out.json"] = [hold_out] if hold_out else []
    if not any(None not in p_ for p_ in prices.values()) and not any(
            e["cost"] is not None for r in test_rows for e in r["model_performance"].values()):
        warnings.append("no prices, tokens or costs: every cost is unknown (cost-quality curves need them)")
    summary = {
        "source": source, "candidates": cands, "auxiliary_models": card_models, "tasks": tasks_all,
        "routing_tasks": routing_tasks, "benchmarks_from_cards": bench, "n_queries": len(keys),
        "n_test_rows": len(test), "n_train_queries": len(train), "test_fraction": float(test_fraction),
        "seed": int(seed), "pairs_per_task": pairs_per_task, "hold_out": hold_out, "pairs": pair_counts,
        "missing_test_results": n_null,
        "placeholders": placeholders,
    }
    return files, summary, warnings


def write_files(root: Path, files: dict) -> None:
    """Write `files` ({relative path: content}) under root: JSON with indent 2, .jsonl one object per line."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".jsonl"):
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in content), encoding="utf-8")
        else:
            path.write_text(json.dumps(content, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
