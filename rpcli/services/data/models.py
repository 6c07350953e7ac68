"""rp model add: a new LLM joins a copy of the dataset, and existing runs route to it without retraining.

`add_model(sess, card_path, out, runs=..., all_runs=...)`:

1. reads the card (YAML or JSON: one model `name, description, family, size, parameters, input_price,
   output_price, scores` with optional `family_description`, `task_descriptions` and `test_scores`; or a cards
   file `models: {name: card}, families, tasks` as `rp data import --cards` reads it);
2. copies the session's dataset (profile_data/ and route_data/) into a temporary folder and adds the model: its
   card to every model_feature file (newllm: its routing-task scores null, as for any held-out model), its family
   and benchmark descriptions (a neutral placeholder, with a warning, when none is given), an entry in every test
   row's model_performance, and its name to route_data/held_out.json (newllm: the new model is known only through
   its profile; no pair names it in either mode);
3. validates the copy with the normal loader and moves it to `out`;
4. for each run asked for, rebuilds the run's graph and profile on the new data through the manifest (new data
   hash -> new ids) and evaluates the run's *trained* router on the new candidate set without retraining
   (`reroute_run`): sim and mlp score any profile vector (inductive), graph attaches the new model node to its
   training graph. The new run records `rerouted_from` and its metrics carry the new-model block (selection
   rate, precision, cold-start recall, gain from the new model) in either mode.

Evaluation of a model without per-query scores (no `test_scores`): it is routable but unevaluated. Its test-row
scores are null; a row routed to it counts 0 in avg_performance (metrics.md: a missing score counts as 0, with a
warning and `n_missing`), so avg_performance is a lower bound, and the new-model block's `selection_rate` /
`n_selected` say how often it was picked. Its token counts on a row are estimated (`tokens_estimated: true`) as
the median of the other candidates' counts on that row, so its cost follows its card prices.

Scoring with a recorded router on a new candidate set goes through its plugin's `load(..., new_candidates=True)`
(rpcli.core.plugin.Router.load), given the rebuilt profile, as its capabilities say (`caps.new_model`):
"profile" routers score the new vectors as they are (sim, mlp; graph rebuilds its training graph with the new
model's node, since its cached model states belong to the old candidate set, and the re-routed run's checkpoint
carries the new set's states); "refit" routers (prior, knn, residual, blend, and any plugin without a checkpoint)
are refitted without retraining a network, from the new data's training signal and cards with the run's recorded
configuration, so the new model is reached through its card; "none" routers are refused.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import numpy as np

from rpcli.errors import ConfigError, DataFileError, RpError, did_you_mean
from rpcli.services.base import Session

# ---------------------------------------------------------------------------------------------------- the card


def read_model_card(card_path: str | Path):
    """(Cards, {model: test_scores records | None}) from a single-model card or a cards file."""
    from rpcli.core.data.importers import Cards, cards_from_doc, load_structured, parse_card

    path = Path(card_path).expanduser()
    doc = load_structured(path)
    if not isinstance(doc, dict):
        raise DataFileError(path, f"expected a model card (an object), found {type(doc).__name__}")
    tests: dict = {}
    if "models" in doc:
        plain = {k: v for k, v in doc.items()}
        models = plain.get("models") or {}
        if isinstance(models, dict):
            plain["models"] = {}
            for n, rec in models.items():
                if isinstance(rec, dict):
                    tests[str(n)] = rec.get("test_scores")
                    rec = {k: v for k, v in rec.items() if k != "test_scores"}
                plain["models"][n] = rec
        cards = cards_from_doc(path, plain)
        cards.path = path
        if not cards.models:
            raise DataFileError(path, "no model in the card", field="models")
        return cards, tests
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataFileError(path, "missing field (the new model's name)", field="name",
                            hint="a card reads: name, description, family, size, input_price, output_price, scores")
    rec = {k: v for k, v in doc.items() if k not in ("name", "family_description", "task_descriptions",
                                                        "test_scores")}
    card = parse_card(path, name.strip(), rec, where=repr(name.strip()))
    cards = Cards(path=path, models={card.name: card})
    fd = doc.get("family_description")
    if fd is not None:
        if not isinstance(fd, str) or not fd.strip() or card.family is None:
            raise DataFileError(path, "expected a description text (and a family)", field="family_description")
        cards.families[card.family] = fd.strip()
    td = doc.get("task_descriptions") or {}
    if not isinstance(td, dict) or not all(isinstance(v, str) and v.strip() for v in td.values()):
        raise DataFileError(path, "expected an object {task: description}", field="task_descriptions")
    cards.tasks.update({str(k): v.strip() for k, v in td.items()})
    tests[card.name] = doc.get("test_scores")
    return cards, tests


def _test_score_records(card_path: Path, name: str, spec) -> list[tuple[str, object]]:
    """The per-query test scores of a card: a list of records or a path (relative to the card) of a JSON/JSONL
    file; each record has query (or prompt), optional task, score, prompt_tokens, completion_tokens, cost."""
    from rpcli.core.data.importers import json_records

    if spec is None:
        return []
    if isinstance(spec, str):
        # a name from a data file becomes a path only inside the card's folder: no absolute path, no '..', no NUL
        parts = Path(spec).parts
        if not spec.strip() or "\0" in spec or spec.startswith("~") or Path(spec).is_absolute() or ".." in parts:
            why = ("an absolute path" if Path(spec).is_absolute() or spec.startswith("~") else
                   "a path with '..'" if ".." in parts else "empty or holding a NUL byte")
            raise DataFileError(card_path, f"test_scores {spec[:80]!r} is {why}: give a file name relative to the "
                                           "card's folder (or the records themselves)", record=repr(name),
                                field="test_scores", hint=f"put the file beside the card, in {card_path.parent}")
        p = card_path.parent / spec
        if not p.is_file():
            raise DataFileError(card_path, f"test_scores file {p} not found", record=repr(name), field="test_scores")
        return [(f"{p.name} {w}", r) for w, r in json_records(p)]
    if isinstance(spec, list):
        return [(f"test_scores[{i}]", r) for i, r in enumerate(spec)]
    raise DataFileError(card_path, "expected a file path or a list of {query, score} records", record=repr(name),
                        field="test_scores")


# ---------------------------------------------------------------------------------------------------- the copy


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def _add_to_copy(ds, root: Path, cards, tests: dict, card_path: Path) -> tuple[list, dict, list]:
    """Add every card's model to the dataset copy at `root`. Returns (new model names, per-model facts,
    warnings)."""
    from rpcli.core.data.audit import placeholder
    from rpcli.core.data.importers import UNSPECIFIED_FAMILY, count_field, dollars_field, score_field, text_field

    warnings: list[str] = []
    names = list(cards.models)
    known = [m.name for m in next(iter(ds.modes.values())).models]
    for n in names:
        if n in known:
            raise DataFileError(card_path, f"{n!r} is already a model of {ds.root}", record=repr(n), field="name",
                                hint="give the new model a name the dataset does not use")
    pdir, rdir = root / "profile_data", root / "route_data"
    fam = _read(pdir / "model_family_feature.json")
    tasks = _read(pdir / "task_feature.json")
    routing = set(ds.test_tasks)
    facts: dict = {}
    for n in names:
        c = cards.models[n]
        f = c.family or UNSPECIFIED_FAMILY
        if f not in fam:
            fam[f] = cards.families.get(f) or placeholder("family", f)
            if f not in cards.families:
                warnings.append(f"family {f!r} of {n!r} has no description: a neutral placeholder stands in "
                                "(give family_description in the card)")
        for t, v in c.scores.items():
            if v is not None and t not in tasks:
                tasks[t] = cards.tasks.get(t) or placeholder("task", t)
                if t not in cards.tasks:
                    warnings.append(f"benchmark {t!r} of {n!r} has no description: a neutral placeholder stands in "
                                    "(give task_descriptions in the card)")
        if c.description is None:
            warnings.append(f"{n!r} has no description: a neutral placeholder stands in")
        if c.input_price is None or c.output_price is None:
            warnings.append(f"{n!r} has no prices: its cost is unknown")
        facts[n] = {"routing_task_scores_in_card": sorted(t for t, v in c.scores.items()
                                                         if t in routing and v is not None)}
        facts[n]["card_signal"] = cs = _card_signal(ds, n, c.scores, routing)
        if cs["scores"] == 0:
            warnings.append(f"{n!r}: its card gives no benchmark score, so the card-based routers (prior, knn, "
                            "residual, blend) can only give it the other candidates' average: the router can only "
                            "reach it through its cold-start bonus / description (add scores on benchmarks the "
                            "dataset's cards report)")
        elif not cs["imputable"]:
            given = ", ".join(sorted(k for k, v in c.scores.items() if v is not None))
            warnings.append(f"{n!r}: its card's benchmark scores ({given}) "
                            "are on benchmarks fewer than two other models report: its routing-task abilities cannot "
                            "be imputed from them, so the router can only reach it through its cold-start bonus / "
                            "description")
    _write(pdir / "model_family_feature.json", fam)
    _write(pdir / "task_feature.json", tasks)
    for mode in ds.modes:
        p = pdir / f"model_feature_{mode}.json"
        doc = _read(p)
        for n in names:
            c = cards.models[n]
            sc = dict(c.scores)
            if mode == "newllm":
                sc = {t: (None if t in routing else v) for t, v in sc.items()}
            doc[n] = {"size": c.size, "feature": c.description or placeholder("model", n),
                      "input_price": c.input_price, "output_price": c.output_price, "model": n,
                      "detailed_scores": sc, "parameters": c.parameters, "architecture": c.family or UNSPECIFIED_FAMILY,
                      "role": "primary", "router_enabled": True, **c.extra}
        _write(p, doc)

    tp = rdir / "routing_test_data.json"
    rows = _read(tp)
    index: dict = {}
    for i, r in enumerate(rows):
        index.setdefault((r.get("task_name"), r.get("query")), i)
        index.setdefault((None, r.get("query")), i)
    uses_cost = any("cost" in e for r in rows for e in r["model_performance"].values() if isinstance(e, dict))
    for n in names:
        c = cards.models[n]
        given: dict = {}
        unmatched = 0
        for where, rec in _test_score_records(card_path, n, tests.get(n)):
            if not isinstance(rec, dict):
                raise DataFileError(card_path, "expected an object", record=where, field="test_scores")
            q = text_field(card_path, rec, ("query", "prompt"), where)
            t = rec.get("task", rec.get("task_name", rec.get("dataset")))
            row_i = index.get((t, q)) if t is not None else index.get((None, q))
            if row_i is None:
                unmatched += 1
                continue
            if row_i in given:
                raise DataFileError(card_path, f"a second score for test row #{row_i}", record=where, field="query")
            if "score" not in rec:
                raise DataFileError(card_path, "missing field", record=where, field="score")
            given[row_i] = (score_field(card_path, rec["score"], where, "score"),
                        count_field(card_path, rec.get("prompt_tokens"), where, "prompt_tokens"),
                        count_field(card_path, rec.get("completion_tokens"), where, "completion_tokens"),
                        dollars_field(card_path, rec.get("cost"), where, "cost"))
        if unmatched:
            warnings.append(f"{unmatched} test_scores record(s) of {n!r} match no test row (by task and query): "
                            "ignored")
        for i, r in enumerate(rows):
            mp = r["model_performance"]
            others = [e for e in mp.values() if isinstance(e, dict)]
            s, pt, ct, cost = given.get(i, (None, None, None, None))
            est = False
            if pt is None:
                pt, est = _median_tokens(others, "input_token", "prompt_tokens"), True
            if ct is None:
                ct, est = _median_tokens(others, "output_token", "completion_tokens"), True
            e = {"task_performance": s, "success": s is not None, "prompt_tokens": pt, "completion_tokens": ct,
                 "input_token": pt, "output_token": ct}
            if est:
                e["tokens_estimated"] = True
            if uses_cost or cost is not None:
                if cost is None and c.input_price is not None and c.output_price is not None:
                    cost = (pt * c.input_price + ct * c.output_price) / 1e6
                e["cost"] = cost
            mp[n] = e
        facts[n].update({"test_rows_scored": len(given), "test_rows": len(rows),
                         "evaluated": len(given) == len(rows)})
        if len(given) < len(rows):
            warnings.append(f"{n!r} has scores on {len(given)} of {len(rows)} test rows: it is routable but "
                            f"{'unevaluated' if not given else 'partly evaluated'}; a row routed to it without a "
                            "score counts 0 (avg_performance is then a lower bound; selection_rate says how often "
                            "it is picked)")
    _write(tp, rows)
    if "newllm" in ds.modes:
        _write(rdir / "held_out.json", list(ds.held_out) + [n for n in names if n not in ds.held_out])
    cm = pdir / "candidate_models.json"
    if cm.is_file():
        doc = _read(cm)
        for n in names:
            c = cards.models[n]
            doc[n] = {"feature": c.description or placeholder("model", n), "input_price": c.input_price,
                      "output_price": c.output_price, "detailed_scores": {}, "architecture": c.family or
                      UNSPECIFIED_FAMILY}
        _write(cm, doc)
    return names, facts, warnings


def _card_signal(ds, name: str, scores: dict, routing) -> dict:
    """rpcli.core.routers.ability.card_signal of the new model's card among the dataset's cards."""
    from rpcli.core.routers.ability import card_signal

    cards = {m.name: m.scores for m in next(iter(ds.modes.values())).models}
    cards[name] = scores
    return card_signal(cards, name, tasks=sorted(routing))


def _median_tokens(entries: list, key: str, alias: str) -> int:
    """The median token count of the other candidates' entries on a row (0 when none has one)."""
    vals = [float(v) for v in (e.get(key, e.get(alias)) for e in entries)
            if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return int(statistics.median(vals)) if vals else 0


def _copy_dataset(src: Path, dst: Path) -> None:
    for sub in ("profile_data", "route_data"):
        shutil.copytree(src / sub, dst / sub)


# ---------------------------------------------------------------------------------------------------- re-routing


def _rebuild_profile(sess: Session, new: Session, pentry: dict) -> dict:
    """The run's profile recipe rebuilt on the new data (its graph first): the new profile entry. The recipe is
    rebuilt as recorded, without runtime objects: a method that needs some it cannot make from the recipe alone (a
    text-gnn LLM other than the extractive one, its own prompt templates) refuses, and says why."""
    from rpcli.core.registry import profile_method
    from rpcli.services.artifacts.graphs import build_graph_entry
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.workspace.manifest import get_entry

    params = dict(pentry["params"])
    method, mode, keep = params.pop("method"), params.pop("mode"), params.pop("keep", "candidates")
    params.pop("held_out_scores_hidden", None)
    if method == "imported":
        raise ConfigError(f"profile {pentry['id']} was imported from a file: it cannot be rebuilt with the new model",
                          hint="import a profile that holds the new model, then run the router on it")
    profile_method(method)  # a method no longer installed fails here, before anything is built
    graph_ref = None
    if pentry.get("parents"):
        g = get_entry(sess.workspace, pentry["parents"][0], kind="graph")
        gp = g["params"]
        if gp.get("kind") not in ("task", "query", "query-task", "task-domain", "query-task-domain"):
            raise ConfigError(f"graph {g['id']} was imported from a file: it cannot be rebuilt with the new model")
        graph_ref = build_graph_entry(new, gp["kind"], gp["mode"],
                                      max_queries_per_task=gp.get("max_queries_per_task")).entry["id"]
    try:
        return build_profile_entry(new, method, mode, params, graph_ref=graph_ref,
                                   keep=None if keep == "candidates" else keep).entry
    except ConfigError as exc:
        raise ConfigError(f"profile {pentry['id']} cannot be rebuilt with the new model: {exc.message}",
                          hint=exc.hint) from None


def _router_scorer(plugin, run_dir: Path, ctx, old_info: dict, opts: dict):
    """seed -> RouterResult of the run's router (no training) on ctx's candidate set, through the plugin's load
    with new_candidates."""
    from rpcli.core.routers.run import RouterResult

    has_train = ctx.train is not None and len(ctx.train) > 0

    def run(seed):
        recorded = next(((r.get("train") or {}) for r in old_info.get("per_seed", []) if r.get("seed") == seed),
                        None) or (old_info.get("metrics") or {}).get("train") or {}
        lr = plugin.load(run_dir, ctx, seed=seed, n_seeds=len(ctx.seeds), opts=opts, recorded=recorded,
                         new_candidates=True)
        info = {"retrained": False, **plugin.reroute_info(lr, recorded)}
        if not plugin.caps.checkpoint:
            info["refitted"] = True
            if recorded.get("config") is not None:
                info["config"] = recorded["config"]
        return RouterResult(lr.scores(ctx.test_vecs(), ctx.test_tasks),
                            train_scores=lr.calibration_scores(ctx.train_vecs(), list(ctx.train.tasks))
                            if has_train else None,
                            info=info, checkpoint=lr.checkpoint())
    return run


def reroute_run(sess: Session, new: Session, run_ref: str, new_models: list[str], *, force: bool = False) -> dict:
    """Evaluate the trained router of run `run_ref` (recorded on `sess`'s data) on `new`'s data and candidates,
    without retraining: its profile is rebuilt on the new data, the new run registered. Returns a record with
    status "routed" (new ids, avg_performance, the new model's selection) or raises ConfigError saying why not."""
    from rpcli.core.routers.query_text import query_text as qtext
    from rpcli.core.routers.run import RouteContext, evaluate_run
    from rpcli.services.base import build_artifact, resolve
    from rpcli.services.artifacts.profiles import load_profile_entry
    from rpcli.services.artifacts.routes import router_signal
    from rpcli.workspace.manifest import get_entry

    old = resolve(sess, run_ref, "run")
    params = old["params"]
    router = params.get("router")
    from rpcli.core.registry import router as get_router

    plugin = get_router(router)
    if plugin.caps.new_model not in ("profile", "refit"):
        raise ConfigError(f"router {router!r} cannot take a new model without retraining",
                          hint=f"train it again on the new data (rp -d OUT route {router} ...)")
    if old.get("data_hash") != sess.dataset.data_hash:
        raise ConfigError(f"run {old['id']} was evaluated on other data ({(old.get('data') or {}).get('root')}), not "
                          f"{sess.dataset.root}", hint="pass the run's dataset as -d")
    enc = (old.get("encoder") or {}).get("id")
    if enc and enc != new.encoder.id:
        raise ConfigError(f"run {old['id']} embedded queries with {enc}; this session's encoder is {new.encoder.id}",
                          hint=f"pass --encoder {enc}")
    pentry = get_entry(sess.workspace, old["parents"][0], kind="profile")
    new_p = _rebuild_profile(sess, new, pentry)
    pentry2, names, vecs = load_profile_entry(new, new_p["id"])
    missing = [m for m in new_models if m not in names]
    if missing:
        raise ConfigError(f"the rebuilt profile {new_p['id']} has no vector for {missing} (keep="
                          f"{pentry['params'].get('keep')}): the router cannot choose it")
    mode, qt = params["mode"], params.get("query_text", "formatted")
    ds = new.dataset
    sig = router_signal(new, plugin, mode, names, qt, labels=params.get("labels", "pairs"))
    md = ds.mode(mode)
    held = list(new_models) + [h for h in (md.held_out if mode == "newllm" else []) if h in names
                               and h not in new_models]
    seeds = list(params.get("seeds") or [0])
    ctx = RouteContext(mode=mode, models=names, profile_vecs=vecs, test_texts=[qtext(r, qt) for r in ds.test_rows],
                       encoder=new.encoder, train=sig, held_out=held, seeds=seeds, device=new.device,
                       progress=new.progress, test_tasks=[r.task_name for r in ds.test_rows])
    if plugin.caps.cards:
        from rpcli.services.artifacts.routes import router_cards

        ctx.cards, ctx.card_models = router_cards(ds, mode)
    from rpcli.services.serving.inference import run_options

    run_dir = sess.workspace.artifact_dir(old["id"])
    mfile = run_dir / "metrics.json"
    scorer = _router_scorer(plugin, run_dir, ctx, _read(mfile) if mfile.is_file() else {},
                            run_options(plugin, params))
    new_params = {**params, "rerouted_from": old["id"], "new_models": list(new_models)}
    meta = {"router": router, "profile_id": new_p["id"], "mode": mode, "query_text": qt, "encoder_id": new.encoder.id,
            "held_out": list(held), "label_source": None if sig is None else sig.source, "rerouted_from": old["id"]}

    def builder(out_dir):
        res = evaluate_run(ds, ctx, lambda seed: scorer(seed), out_dir, ckpt_meta=meta)
        res["info"].update({"rerouted_from": old["id"], "retrained": False, "new_models": list(new_models)})
        return res

    built = build_artifact(new, "run", new_params, [new_p["id"], old["id"]], builder, force=force)
    notes = []
    if (pentry.get("info") or {}).get("checkpoint"):  # the profile is a trained model's output
        notes.append(f"the {pentry['params'].get('method')} profile was trained again on the new graph (same "
                     "seed): its vector space can drift from the one the router was trained on")
        new.progress.warn(f"run {old['id']}: {notes[-1]}")
    m = built.entry.get("metrics") or {}
    nb = m.get("newllm_by_model") or ({m["newllm"].get("model"): m["newllm"]} if m.get("newllm") else {})
    return {"run": old["id"], "router": router, "mode": mode, "seeds": seeds, "status": "routed",
            "new_run": built.entry["id"], "reused": not built.built, "new_profile": new_p["id"],
            "new_graph": (new_p.get("parents") or [None])[0],
            "avg_performance": m.get("avg_performance"), "n_missing": m.get("n_missing"), "notes": notes,
            "avg_performance_before": (old.get("metrics") or {}).get("avg_performance"),
            "new_models": {n: {k: (nb.get(n) or {}).get(k) for k in ("selection_rate", "n_selected", "precision")}
                           for n in new_models}}


# ---------------------------------------------------------------------------------------------------- the verb


def add_model(sess: Session, card_path: str | Path, out: str | Path, *, runs: list[str] | None = None,
              all_runs: bool = False, force: bool = False) -> dict:
    """Add the card's model(s) to a copy of the session's dataset at `out` and route `runs` (or, with `all_runs`,
    every done run on the session's data) to it without retraining. Returns a summary: the new dataset (path,
    hash), the new models (evaluated or not), warnings, and one record per run (routed, or refused with the
    reason)."""
    from rpcli.core.data.load import load_dataset
    from rpcli.services.data.importer import publish, staging_dir
    from rpcli.workspace.manifest import load_manifest

    card_path = Path(card_path).expanduser()
    ds = sess.dataset
    cards, tests = read_model_card(card_path)
    if runs:
        entries = load_manifest(sess.workspace)["entries"]
        for r in runs:
            if r not in entries and not any(k.startswith(r) for k in entries):
                raise ConfigError(f"run {r!r} is not recorded in {sess.workspace.root}"
                                  f"{did_you_mean(r, [k for k, e in entries.items() if e['kind'] == 'run'])}")
    out = Path(out).expanduser().resolve()
    if out == Path(ds.root).resolve():
        raise ConfigError("--out must be a new folder, not the dataset itself")
    tmp = staging_dir(out)
    try:
        _copy_dataset(Path(ds.root), tmp)
        names, facts, warnings = _add_to_copy(ds, tmp, cards, tests, card_path)
        load_dataset(tmp, keep_overlap=ds.keep_overlap)
        final = publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for w in warnings:
        sess.progress.warn(w)
    new = Session(workspace=sess.workspace, data_root=final, encoder_spec=sess.encoder_spec, progress=sess.progress,
                  keep_overlap=sess.keep_overlap, device=sess.device)
    if all_runs:
        entries = load_manifest(sess.workspace)["entries"]
        runs = [k for k, e in entries.items() if e["kind"] == "run" and e.get("status") == "done"
                and e.get("data_hash") == ds.data_hash and not (e.get("params") or {}).get("rerouted_from")]
    routed = []
    for r in runs or []:
        try:
            routed.append(reroute_run(sess, new, r, names, force=force))
        except RpError as exc:  # a router or profile that cannot take the new model says why; the rest go on
            routed.append({"run": r, "status": "refused", "reason": exc.message, "hint": exc.hint})
            sess.progress.warn(f"run {r}: {exc.message}")
    return {"out_dir": str(final), "data_hash": new.dataset.data_hash, "source": str(ds.root),
            "source_hash": ds.data_hash, "new_models": names, "models": facts,
            "held_out_newllm": list(new.dataset.held_out), "warnings": warnings, "runs": routed}
