"""Score-file readers: `scores` (JSON / JSONL) and `wide-csv` into a `Table` of (task, query, model) results, with
the field checks that name the file, the record and the field (formats: the package docstring)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from rpcli.errors import ConfigError, DataFileError, did_you_mean

FORMATS = ("scores", "wide-csv")
DUPLICATES = ("error", "first", "mean")  # what a repeated (task, query, model) result does
QUERY_KEYS = ("query", "prompt")
TASK_KEYS = ("task", "dataset", "task_name")
CSV_TASK_KEYS = ("task", "eval_name", "dataset", "task_name")
CSV_META = {"sample_id", "id", "oracle_model_to_route_to", "ground_truth", "metric"}


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
    results keyed by (task, query, model).

    `duplicates` says what a second result for the same (task, query, model) does (see `DUPLICATES`); every such
    repeat is listed in `repeats` as (key, where) in file order, and `finish()` applies the policy once the whole
    file is read (so an error can count them all).
    """

    path: Path
    queries: dict = field(default_factory=dict)  # (task, query) -> QueryInfo
    models: list = field(default_factory=list)
    results: dict = field(default_factory=dict)  # (task, query, model) -> Result
    duplicates: str = "error"
    repeats: list = field(default_factory=list)  # [((task, query, model), where)] beyond the first of each key
    _later: dict = field(default_factory=dict, repr=False)  # key -> the repeated Results (for "mean")

    def add(self, r: Result, info: QueryInfo) -> None:
        key = (r.task, r.query, r.model)
        if key in self.results:
            self.repeats.append((key, r.where))
            if self.duplicates == "mean":
                self._later.setdefault(key, []).append(r)
            return
        self.queries.setdefault((r.task, r.query), info)
        if r.model not in self.models:
            self.models.append(r.model)
        self.results[key] = r

    def finish(self) -> "Table":
        """Apply the duplicates policy: raise (error), keep the first (first) or average (mean)."""
        if not self.repeats:
            return self
        if self.duplicates == "error":
            raise self._duplicate_error()
        if self.duplicates == "mean":
            for key, later in self._later.items():
                self.results[key] = _mean_result([self.results[key], *later])
        self._later = {}
        return self

    def duplicates_summary(self) -> dict:
        """How many repeated (query, model) results were found, in how many records, and what was done."""
        n = len(self.repeats)
        return {"policy": self.duplicates, "found": n, "records": len({w for _, w in self.repeats}),
                "keys": len({k for k, _ in self.repeats}), "merged": 0 if self.duplicates == "error" else n,
                "examples": [{"record": w, "first": self.results[k].where, "task": k[0], "query": _short(k[1]),
                              "model": k[2]} for k, w in self.repeats[:3]]}

    def _duplicate_error(self) -> DataFileError:
        (task, query, model), where = self.repeats[0]
        msg = (f"a second result for model {model!r} on query {_short(query)!r} (task {task!r}; the first is "
               f"{self.results[(task, query, model)].where})")
        n = len(self.repeats)
        if n > 1:
            more = [w for _, w in self.repeats[1:4]]
            msg += (f"; {n} repeated (query, model) results in all (also {', '.join(more)}"
                    f"{', ...' if n > 4 else ''})")
        return DataFileError(self.path, msg, record=where, field="model",
                             hint="pass --duplicates first to keep the first result of each (query, model), or "
                                  "--duplicates mean to average them (scores, tokens and costs)")


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def _mean(values):
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _mean_result(results: list[Result]) -> Result:
    """The mean of repeated results of one (query, model): a null (not run) score, token count or cost is left out
    of its mean, and stays null only when every record has it null. Token counts are rounded to integers."""
    first = results[0]
    tokens = [_mean(getattr(r, k) for r in results) for k in ("prompt_tokens", "completion_tokens")]
    return Result(first.task, first.query, first.model, _mean(r.score for r in results),
                  *(None if t is None else int(round(t)) for t in tokens), _mean(r.cost for r in results),
                  first.where)


def text_field(path, rec: dict, keys, where: str) -> str:
    """The first of ``keys`` present in ``rec``, checked to be a non-empty text."""
    for k in keys:
        if k in rec:
            v = rec[k]
            if not isinstance(v, str) or not v.strip():
                raise DataFileError(path, f"expected a non-empty text, found {type(v).__name__} ({str(v)[:40]!r})",
                                    record=where, field=k)
            return v
    raise DataFileError(path, "missing field", record=where, field=" or ".join(keys))


def _finite(v) -> bool:
    """A finite number that fits a float (an integer of hundreds of digits does not)."""
    try:
        return math.isfinite(float(v))
    except OverflowError:
        return False


def score_field(path, v, where: str, fld: str) -> float | None:
    """A score checked to be a finite number in [0, 1] (None stays None)."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise DataFileError(path, f"expected a number in [0, 1] or null, found {type(v).__name__} ({str(v)[:40]!r})",
                            record=where, field=fld)
    try:
        v = float(v)
    except OverflowError:  # an integer of hundreds of digits
        v = math.inf
    if not math.isfinite(v):
        raise DataFileError(path, f"not a finite number ({str(v)[:40]}); write null for a model that was not run",
                            record=where, field=fld)
    if not 0.0 <= v <= 1.0:
        raise DataFileError(path, f"score {v} is outside [0, 1]", record=where, field=fld,
                            hint="per-query scores are quality in [0, 1] (rescale, e.g. divide percentages by 100)")
    return v


def count_field(path, v, where: str, fld: str) -> int | None:
    """A token count checked to be a number >= 0, rounded to an int (None stays None)."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v) or v < 0:
        raise DataFileError(path, f"expected a token count (a number >= 0), found {str(v)[:40]!r}", record=where,
                            field=fld)
    return int(round(float(v)))


def dollars_field(path, v, where: str, fld: str) -> float | None:
    """A cost in dollars checked to be a finite number >= 0 (None stays None)."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v) or v < 0:
        raise DataFileError(path, f"expected a cost in dollars (a number >= 0), found {str(v)[:40]!r}",
                            record=where, field=fld)
    return float(v)


def read_text(path: Path) -> str:
    """The file's UTF-8 text (a DataFileError when it is not UTF-8 or cannot be read)."""
    from rpcli.core.input_limits import read_bytes

    try:
        return read_bytes(path).decode("utf-8")  # bounded: RP_MAX_DATA_BYTES
    except UnicodeDecodeError as exc:
        raise DataFileError(path, f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise DataFileError(path, f"cannot read the file: {exc.strerror or exc}") from None


def json_records(path: Path) -> list[tuple[str, object]]:
    """(record label, parsed record): a JSON list (labels #i), an object with a `records` list, a single object,
    or JSON lines (labels "line n")."""
    text = read_text(path)
    if not text.strip():
        raise DataFileError(path, "the file is empty")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise DataFileError(path, "JSON nested too deeply to read") from None
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
        except RecursionError:
            raise DataFileError(path, "JSON nested too deeply to read", record=f"line {lineno}") from None
        except json.JSONDecodeError as exc:
            raise DataFileError(path, f"malformed JSON: {exc.msg} (column {exc.colno})", record=f"line {lineno}") \
                from None
    return out


def read_scores(path: str | Path, duplicates: str = "error") -> Table:
    """Read a `scores` file (JSON or JSONL; see the module docstring); `duplicates`: see `Table`."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found")
    recs = json_records(path)
    if not recs:
        raise DataFileError(path, "the file has no records")
    tab = Table(path, duplicates=duplicates)
    for where, rec in recs:
        if not isinstance(rec, dict):
            raise DataFileError(path, f"expected a JSON object, found {type(rec).__name__}", record=where)
        query = text_field(path, rec, QUERY_KEYS, where)
        task = text_field(path, rec, TASK_KEYS, where)
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
                tab.add(Result(task, query, m, score_field(path, s, where, f"scores.{m}"),
                               count_field(path, per["prompt_tokens"].get(m), where, f"prompt_tokens.{m}"),
                               count_field(path, per["completion_tokens"].get(m), where, f"completion_tokens.{m}"),
                               dollars_field(path, per["cost"].get(m), where, f"cost.{m}"), where), info)
        else:
            model = text_field(path, rec, ("model",), where)
            if "score" not in rec:
                raise DataFileError(path, "missing field (or give 'scores': {model: score})", record=where,
                                    field="score")
            tab.add(Result(task, query, model, score_field(path, rec["score"], where, "score"),
                           count_field(path, rec.get("prompt_tokens"), where, "prompt_tokens"),
                           count_field(path, rec.get("completion_tokens"), where, "completion_tokens"),
                           dollars_field(path, rec.get("cost"), where, "cost"), where), info)
    return tab.finish()


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
        return score_field(path, v, where, col)
    return dollars_field(path, v, where, col)


def read_wide_csv(path: str | Path, duplicates: str = "error") -> Table:
    """Read a `wide-csv` file (RouterBench's layout; see the module docstring); a repeated (prompt, task) row
    repeats each model's result (`duplicates`: see `Table`)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "file not found")
    read_text(path)  # UTF-8 text, readable
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
        tab = Table(path, duplicates=duplicates)
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
    return tab.finish()


READERS = {"scores": read_scores, "wide-csv": read_wide_csv}


def read_table(src: str | Path, fmt: str, duplicates: str = "error") -> Table:
    if fmt not in READERS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if duplicates not in DUPLICATES:
        raise ConfigError(f"--duplicates must be one of {', '.join(DUPLICATES)} (got {duplicates!r})")
    return READERS[fmt](src, duplicates=duplicates)
