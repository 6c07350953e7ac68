"""Load and validate the RouteProfile layout into typed records (spec §7).

Every problem is reported as a DataFileError naming the file, the record and the field. Structural problems
are errors; tolerable oddities of the released data (a domain naming an unknown task, a test row without a
score) become warnings on `RouteDataset.warnings`. A name a file uses that matches nothing the defining file holds,
where the graph can do without it, is a warning and a record on `RouteDataset.unmatched`; the candidates whose cost
is unknown on some test row are on `RouteDataset.unpriced` (and a warning each). The optional per-query training
scores (route_data/routing_train_data.json) are `RouteDataset.train_scores` (None when the file is absent, which
leaves the data hash as it was).
"""

from __future__ import annotations

from pathlib import Path

from rpcli.core.data.held_out import CARD_SOURCE, HELD_OUT_FILE, infer_held_out, parse_held_out, refuse_held_out
from rpcli.core.data.reader import _formatted, _need, _number, _Reader
from rpcli.core.data.schema import MODES, ModeData, ModelInfo, Pair, QueryRow, RouteDataset, TestRow, TrainScoreRow
from rpcli.errors import DataFileError, did_you_mean

PROFILE = "profile_data"
ROUTE = "route_data"
TRAIN_SCORES = f"{ROUTE}/routing_train_data.json"


def default_data_root() -> Path:
    """The embedded demo dataset: the repository root holding profile_data/ and route_data/."""
    return Path(__file__).resolve().parents[3]


def _load_models(rd: _Reader, rel: str) -> list[ModelInfo]:
    doc = rd.json(rel, dict)
    p = rd.path(rel)
    if not doc:
        raise DataFileError(p, "no models in the file")
    models = []
    for name, rec in doc.items():
        if not isinstance(rec, dict):
            raise DataFileError(p, "expected an object", record=repr(name))
        r = repr(name)
        arch = _need(p, rec, "architecture", r, str)
        feature = _need(p, rec, "feature", r, str)
        raw_scores = _need(p, rec, "detailed_scores", r, dict)
        scores = {t: _number(p, v, r, f"detailed_scores.{t}") for t, v in raw_scores.items()}
        models.append(ModelInfo(
            name=name, architecture=arch, feature=feature, scores=scores,
            input_price=_number(p, rec.get("input_price"), r, "input_price", minimum=0),
            output_price=_number(p, rec.get("output_price"), r, "output_price", minimum=0),
            size=rec.get("size") if isinstance(rec.get("size"), str) else None,
            parameters=_number(p, rec.get("parameters"), r, "parameters", minimum=0) if rec.get("parameters") is not None else None,
        ))
    return models


def _str_map(rd: _Reader, rel: str) -> dict:
    doc = rd.json(rel, dict)
    p = rd.path(rel)
    for k, v in doc.items():
        if not isinstance(v, str) or not v.strip():
            raise DataFileError(p, "expected a non-empty description text", record=repr(k))
    return doc


def closest_name(name: str, choices) -> str | None:
    """The name of `choices` closest to `name` (case, spaces, '-' and '_' ignored), or None when none is close."""
    import difflib

    def norm(s: str) -> str:
        return "".join(ch for ch in str(s).lower() if ch.isalnum())

    by_norm: dict = {}
    for c in choices:
        by_norm.setdefault(norm(c), c)
    close = difflib.get_close_matches(norm(name), list(by_norm), n=1, cutoff=0.6)
    return by_norm[close[0]] if close else None


class _Unmatched:
    """Names a file uses that match nothing the file defining them holds (a price entry naming no model, a domain
    naming an undescribed task...): one record per (file, field, kind, name), with the first record that uses it
    and how many do, and one warning each."""

    def __init__(self) -> None:
        self.items: dict = {}

    def add(self, file: str, record: str, kind: str, name: str, choices, *, defined_in: str, effect: str,
            field: str | None = None) -> None:
        key = (file, field, kind, name)
        if key in self.items:
            self.items[key]["records"] += 1
            return
        self.items[key] = {"file": file, "record": record, "field": field, "kind": kind, "name": name,
                           "defined_in": defined_in, "suggestion": closest_name(name, choices), "effect": effect,
                           "records": 1}

    def warnings(self) -> list[str]:
        out = []
        for u in self.items.values():
            where = f"{u['file']}, record {u['record']}"
            if u["records"] > 1:
                where += f" (and {u['records'] - 1} more)"
            if u["field"]:
                where += f", field '{u['field']}'"
            text = f"{where}: {u['kind']} {u['name']!r} is not in {u['defined_in']}; {u['effect']}"
            out.append(text + (f"; did you mean {u['suggestion']!r}?" if u["suggestion"] else ""))
        return out


def _load_train_scores(rd: _Reader, tasks: dict, models: list[str], model_files: list[str],
                       unmatched: _Unmatched) -> list[TrainScoreRow]:
    """The rows of route_data/routing_train_data.json: a list of {task_name, query, model_performance: {model:
    {task_performance} or a bare score}} (the test rows' layout). Scores are numbers in [0, 1] or null; a second row
    for the same (task, query) is an error (which scores count would be ambiguous). A row of an undescribed task and a
    model of no model file match nothing: recorded on `unmatched` and left out."""
    p = rd.path(TRAIN_SCORES)
    doc = rd.json(TRAIN_SCORES, list)
    if not doc:
        raise DataFileError(p, "no rows", hint="delete the file if there are no per-query training scores")
    known = set(models)
    out: list[TrainScoreRow] = []
    seen: dict = {}
    for i, rec in enumerate(doc):
        r = f"#{i}"
        if not isinstance(rec, dict):
            raise DataFileError(p, "expected an object", record=r)
        task = _need(p, rec, "task_name", r, str)
        query = _need(p, rec, "query", r, str)
        mp = _need(p, rec, "model_performance", r, dict)
        if not mp:
            raise DataFileError(p, "model_performance is empty", record=r, field="model_performance")
        if (task, query) in seen:
            raise DataFileError(p, f"a second row for the same task and query (the first is {seen[task, query]}): "
                                   "which scores count is ambiguous", record=r, field="query")
        seen[task, query] = r
        scores = {}
        for m, e in mp.items():
            fld = f"model_performance.{m}.task_performance"
            if isinstance(e, dict):  # as in the test rows: no task_performance = not run
                v = e.get("task_performance")
            else:
                v, fld = e, f"model_performance.{m}"
            v = _number(p, v, r, fld, minimum=0)
            if v is not None and v > 1:
                raise DataFileError(p, f"score {v:g} is outside [0, 1]", record=r, field=fld,
                                    hint="per-query scores are quality in [0, 1] (rescale, e.g. divide percentages "
                                         "by 100)")
            if m not in known:
                unmatched.add(TRAIN_SCORES, r, "model", m, known, field=f"model_performance.{m}",
                              defined_in=" or ".join(model_files), effect="its training scores are not used")
                continue
            scores[m] = v
        if task not in tasks:
            unmatched.add(TRAIN_SCORES, r, "task", task, tasks, field="task_name",
                          defined_in=f"{PROFILE}/task_feature.json", effect="its rows are not used")
            continue
        out.append(TrainScoreRow(task_name=task, query=query, scores=scores, choices=rec.get("choices"),
                                 metric=rec.get("metric"), formatted_query=_formatted(p, rec, r)))
    return out


def load_dataset(root: str | Path, *, keep_overlap: bool = False, modes=MODES) -> RouteDataset:
    """Load the dataset at `root` (a folder holding profile_data/ and route_data/).

    Args:
        root: dataset folder.
        keep_overlap: keep training pairs whose query is also a test query (the original's leakage). Default
            drops them and records how many.
        modes: which modes to load (a mode needs profile_data/model_feature_{mode}.json).
    """
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise DataFileError(root, "dataset folder not found")
    for sub in (PROFILE, ROUTE):
        if not (root / sub).is_dir():
            raise DataFileError(root / sub, "folder not found",
                                hint="a RouteProfile dataset has profile_data/ and route_data/ side by side")
    rd = _Reader(root)
    warnings: list[str] = []
    unmatched = _Unmatched()

    families = _str_map(rd, f"{PROFILE}/model_family_feature.json")
    tasks = _str_map(rd, f"{PROFILE}/task_feature.json")
    domains = _str_map(rd, f"{PROFILE}/domain_feature.json")
    dmap_doc = rd.json(f"{PROFILE}/domain_task_map.json", dict)
    dmap_path = rd.path(f"{PROFILE}/domain_task_map.json")
    domain_task_map = {}
    for d, lst in dmap_doc.items():
        if not isinstance(lst, list) or not all(isinstance(t, str) for t in lst):
            raise DataFileError(dmap_path, "expected a list of task names", record=repr(d))
        if d not in domains:
            raise DataFileError(dmap_path, f"domain has no description in domain_feature.json{did_you_mean(d, domains)}",
                                record=repr(d))
        domain_task_map[d] = list(lst)

    # Prices: model_feature first, candidate_models.json as the fallback (spec §7.1).
    cand_prices: dict = {}
    cand_rel = f"{PROFILE}/candidate_models.json"
    if rd.exists(cand_rel):
        for m in _load_models(rd, cand_rel):
            cand_prices[m.name] = (m.input_price, m.output_price)
            # Only the prices of this file are read: its other names are reported, never fatal.
            if m.architecture not in families and m.architecture != "unknown":
                unmatched.add(cand_rel, repr(m.name), "family", m.architecture, families, field="architecture",
                              defined_in=f"{PROFILE}/model_family_feature.json", effect="unused (this file is "
                              "read for prices only)")
            for t in m.scores:
                if t not in tasks:
                    unmatched.add(cand_rel, repr(m.name), "task", t, tasks, field=f"detailed_scores.{t}",
                                  defined_in=f"{PROFILE}/task_feature.json", effect="unused (this file is read "
                                  "for prices only)")

    # Test rows.
    test_rel = f"{ROUTE}/routing_test_data.json"
    test_doc = rd.json(test_rel, list)
    tp = rd.path(test_rel)
    if not test_doc:
        raise DataFileError(tp, "no test rows")
    candidates: list[str] | None = None
    test_rows = []
    n_missing = 0
    for i, rec in enumerate(test_doc):
        r = f"#{i}"
        if not isinstance(rec, dict):
            raise DataFileError(tp, "expected an object", record=r)
        task = _need(tp, rec, "task_name", r, str)
        query = _need(tp, rec, "query", r, str)
        mp = _need(tp, rec, "model_performance", r, dict)
        if candidates is None:
            candidates = list(mp)
            if not candidates:
                raise DataFileError(tp, "model_performance is empty", record=r, field="model_performance")
        elif set(mp) != set(candidates):
            extra = sorted(set(mp) - set(candidates))
            missing = sorted(set(candidates) - set(mp))
            raise DataFileError(tp, f"model_performance names differ from row #0 (extra {extra}, missing {missing})",
                                record=r, field="model_performance")
        scores, tin, tout, costs = {}, {}, {}, {}
        for m in candidates:
            e = mp[m]
            if not isinstance(e, dict):
                raise DataFileError(tp, "expected an object", record=r, field=f"model_performance.{m}")
            s = _number(tp, e.get("task_performance"), r, f"model_performance.{m}.task_performance",
                        minimum=0)
            if s is None:
                n_missing += 1
            scores[m] = s
            tin[m] = int(_number(tp, e.get("input_token", e.get("prompt_tokens", 0)), r,
                                 f"model_performance.{m}.input_token", minimum=0) or 0)
            tout[m] = int(_number(tp, e.get("output_token", e.get("completion_tokens", 0)), r,
                                  f"model_performance.{m}.output_token", minimum=0) or 0)
            if "cost" in e:  # dollars for this query, given directly (rp data import); null = unknown
                costs[m] = _number(tp, e["cost"], r, f"model_performance.{m}.cost", minimum=0)
        test_rows.append(TestRow(index=i, task_name=task, query=query, formatted_query=_formatted(tp, rec, r),
                                 choices=rec.get("choices"), metric=rec.get("metric"),
                                 ground_truth=rec.get("ground_truth"), task_id=rec.get("task_id"),
                                 scores=scores, input_tokens=tin, output_tokens=tout, costs=costs))
    if n_missing:
        warnings.append(f"{test_rel}: {n_missing} model scores are null; a router choosing such a model scores 0 there")
    for t in sorted({r.task_name for r in test_rows}):
        if t not in tasks:
            raise DataFileError(tp, f"task has no description in task_feature.json{did_you_mean(t, tasks)}",
                                record=f"task {t!r}", field="task_name")
    test_queries = {r.query for r in test_rows}

    # Training queries (optional).
    train_queries: list[QueryRow] = []
    tq_rel = f"{ROUTE}/default_query_train.jsonl"
    if rd.exists(tq_rel):
        qp = rd.path(tq_rel)
        for lineno, rec in rd.jsonl(tq_rel):
            r = f"line {lineno}"
            train_queries.append(QueryRow(task_name=_need(qp, rec, "task_name", r, str),
                                          query=_need(qp, rec, "query", r, str), choices=rec.get("choices"),
                                          metric=rec.get("metric"), formatted_query=_formatted(qp, rec, r)))
            if train_queries[-1].task_name not in tasks:
                unmatched.add(tq_rel, r, "task", train_queries[-1].task_name, tasks, field="task_name",
                              defined_in=f"{PROFILE}/task_feature.json",
                              effect="its queries belong to no described task (query nodes skip them)")

    cards: dict[str, list[ModelInfo]] = {}
    for mode in modes:
        mrel = f"{PROFILE}/model_feature_{mode}.json"
        if not rd.exists(mrel):
            warnings.append(f"{mrel} is absent: mode {mode!r} is unavailable")
            continue
        models = _load_models(rd, mrel)
        mp_ = rd.path(mrel)
        names = [m.name for m in models]
        for m in models:
            if m.architecture not in families and m.architecture != "unknown":
                raise DataFileError(mp_, f"architecture {m.architecture!r} has no description in "
                                         f"model_family_feature.json{did_you_mean(m.architecture, families)}",
                                    record=repr(m.name), field="architecture")
            for t, s in m.scores.items():
                if s is not None and t not in tasks:
                    raise DataFileError(mp_, f"a scored task has no description in task_feature.json"
                                             f"{did_you_mean(t, tasks)}", record=repr(m.name),
                                        field=f"detailed_scores.{t}")
                if t not in tasks:  # a null score on an undescribed task: nothing is lost, but say so
                    unmatched.add(mrel, repr(m.name), "task", t, tasks, field=f"detailed_scores.{t}",
                                  defined_in=f"{PROFILE}/task_feature.json", effect="its score is null, so it is "
                                  "ignored")
        for c in candidates:
            if c not in names:
                raise DataFileError(mp_, f"routing candidate {c!r} (from {test_rel}) is not in this file"
                                         f"{did_you_mean(c, names)}", record=repr(c))
        cards[mode] = models

    # The held-out model(s) of newllm mode, defined independently of the training pairs (held_out.py).
    routing_tasks = sorted({r.task_name for r in test_rows})
    if rd.exists(HELD_OUT_FILE):
        held_list = parse_held_out(rd.path(HELD_OUT_FILE), rd.json(HELD_OUT_FILE, object),
                                   candidates)
        held_source = HELD_OUT_FILE
    elif "standard" in cards and "newllm" in cards:
        held_list = infer_held_out(candidates, routing_tasks, {m.name: m.scores for m in cards["standard"]},
                                   {m.name: m.scores for m in cards["newllm"]})
        held_source = CARD_SOURCE
    else:
        held_list, held_source = [], "none (no held_out.json and not both model_feature files)"

    modes_data: dict[str, ModeData] = {}
    for mode, models in cards.items():
        names = [m.name for m in models]
        held_out = list(held_list) if mode == "newllm" else []
        # Training pairs.
        prel = f"{ROUTE}/pairwise_training_data_{mode}.json"
        pairs: list[Pair] = []
        released = dropped = 0
        has_pairs = rd.exists(prel)
        if has_pairs:
            pp = rd.path(prel)
            doc = rd.json(prel, (dict, list))
            rows = doc.get("pairwise_data") if isinstance(doc, dict) else doc
            counts = doc.get("task_data_count") if isinstance(doc, dict) else None
            for t in counts if isinstance(counts, dict) else ():
                if t not in tasks:
                    unmatched.add(prel, "task_data_count", "task", t, tasks, field=f"task_data_count.{t}",
                                  defined_in=f"{PROFILE}/task_feature.json", effect="unused (a count only)")
            if not isinstance(rows, list):
                raise DataFileError(pp, "expected a 'pairwise_data' list", field="pairwise_data")
            seen_pairs: dict = {}
            n_contradicting = 0
            for i, rec in enumerate(rows):
                r = f"pairwise_data[{i}]"
                if not isinstance(rec, dict):
                    raise DataFileError(pp, "expected an object", record=r)
                task = _need(pp, rec, "task_name", r, str)
                better = _need(pp, rec, "better_model", r, str)
                worse = _need(pp, rec, "worse_model", r, str)
                query = _need(pp, rec, "query", r, str)
                for fld, name in (("better_model", better), ("worse_model", worse)):
                    if name not in names:
                        raise DataFileError(pp, f"unknown model {name!r}{did_you_mean(name, names)}", record=r,
                                            field=fld)
                if task not in tasks:
                    raise DataFileError(pp, f"unknown task {task!r}{did_you_mean(task, tasks)}", record=r,
                                        field="task_name")
                if better == worse:
                    raise DataFileError(pp, f"a model cannot beat itself ({better!r} is both better and worse)",
                                        record=r, field="worse_model")
                if (task, query, worse, better) in seen_pairs:
                    # Both orders on one query (e.g. two judges disagreeing) are plausible data: kept, as the
                    # original keeps them, and counted in a warning.
                    n_contradicting += 1
                seen_pairs.setdefault((task, query, better, worse), r)
                for fld, name in (("better_model", better), ("worse_model", worse)):
                    refuse_held_out([name], held_out, what="this training pair", path=pp, record=r, field=fld,
                                    mode=mode)
                released += 1
                if not keep_overlap and query in test_queries:
                    dropped += 1
                    continue
                pairs.append(Pair(task_name=task, query=query, better=better, worse=worse,
                                  choices=rec.get("choices"), metric=rec.get("metric"),
                                  formatted_query=_formatted(pp, rec, r)))
            if released == 0:
                warnings.append(f"{prel} has no pairs")
            if n_contradicting:
                warnings.append(f"{prel}: {n_contradicting} pair(s) reverse an earlier pair on the same query "
                                "(both kept)")
        else:
            warnings.append(f"{prel} is absent: trainable routers cannot train in mode {mode!r}")
        # Query lists for query nodes (optional; derived from training queries when absent).
        tq = None
        trel = f"{PROFILE}/task_queries_{mode}.json"
        if rd.exists(trel):
            tdoc = rd.json(trel, dict)
            tpth = rd.path(trel)
            for t, lst in tdoc.items():
                if not isinstance(lst, list) or not all(isinstance(q, str) for q in lst):
                    raise DataFileError(tpth, "expected a list of query strings", record=repr(t))
                if t not in tasks:
                    unmatched.add(trel, repr(t), "task", t, tasks, defined_in=f"{PROFILE}/task_feature.json",
                                  effect="its queries make no query nodes")
            tq = tdoc
        modes_data[mode] = ModeData(mode=mode, models=models, pairs=pairs, pairs_released=released,
                                    pairs_dropped_overlap=dropped, held_out=held_out, task_queries=tq,
                                    has_pairs_file=has_pairs)
    if not modes_data:
        raise DataFileError(root / PROFILE, "no model_feature_{standard,newllm}.json found")

    # Per-query training scores (optional; read only when present, so a dataset without them keeps its hash).
    train_scores = None
    if rd.exists(TRAIN_SCORES):
        train_scores = _load_train_scores(rd, tasks, [m.name for md in modes_data.values() for m in md.models],
                                          [f"{PROFILE}/model_feature_{m}.json" for m in modes_data], unmatched)

    for d, lst in domain_task_map.items():
        for t in lst:
            if t not in tasks:
                unmatched.add(f"{PROFILE}/domain_task_map.json", repr(d), "task", t, tasks,
                              defined_in=f"{PROFILE}/task_feature.json", effect="no edge is made")
    model_files = [f"{PROFILE}/model_feature_{m}.json" for m in modes_data]
    all_models = {m.name for md in modes_data.values() for m in md.models}
    for name in cand_prices:
        if name not in all_models:
            unmatched.add(cand_rel, repr(name), "model", name, all_models, defined_in=" or ".join(model_files),
                          effect="its prices are not used")
    warnings.extend(unmatched.warnings())

    prices = {}
    any_models = next(iter(modes_data.values())).models
    for m in any_models:
        ip, op = m.input_price, m.output_price
        if (ip is None or op is None) and m.name in cand_prices:
            cip, cop = cand_prices[m.name]
            ip = ip if ip is not None else cip
            op = op if op is not None else cop
        prices[m.name] = (ip, op)
    # A candidate without a price: on some test row neither the row gives its cost (`cost`, rp data import) nor
    # both prices are known, so its cost there is unknown (rpcli.core.routers.evaluate.test_matrices).
    unpriced = []
    for c in candidates:
        priced = None not in prices.get(c, (None, None))
        n_unknown = sum(1 for r in test_rows if (r.costs[c] is None if c in r.costs else not priced))
        if not n_unknown:
            continue
        unpriced.append(c)
        why = ("has no price (no input_price/output_price in " + " or ".join(model_files[:1] + [cand_rel]) + ")"
               if not priced else "has no known cost (its test rows give a null cost)")
        warnings.append(f"candidate {c!r} {why}: its cost is unknown on {n_unknown} of "
                        f"{len(test_rows)} test rows, so average costs leave those rows out and cost-quality "
                        "curves are computed without its cost there")

    return RouteDataset(root=root, files=dict(sorted(rd.files.items())), families=families, tasks=tasks,
                        domains=domains, domain_task_map=domain_task_map, candidates=candidates,
                        test_rows=test_rows, train_queries=train_queries, modes=modes_data, prices=prices,
                        keep_overlap=keep_overlap, warnings=warnings, held_out=list(held_list),
                        held_out_source=held_source, unmatched=list(unmatched.items.values()), unpriced=unpriced,
                        train_scores=train_scores)
