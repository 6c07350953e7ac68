"""Route new queries with a recorded run: `load_run(sess, ref) -> RunRouter` (rp route query / batch, rp serve,
the Python API).

A run is reloaded from its workspace record: its router (rpcli.core.routers.inference.load_router: graph runs
from the model states saved in the checkpoint, or, recorded before those were saved, from their training graph,
whose query embeddings are then encoded here) on its parent profile, the dataset it was built from (the recorded
root unless --data says otherwise; the hash must match) and its encoder (the recorded one unless --encoder says
otherwise; the id must match). On load, the router scores the run's test rows again and must reproduce the
recorded predictions (so a query is routed exactly as the run's evaluation routed it).

Choosing: without lambda, the candidate with the highest router score (the run's own rule). With lambda (quality per
dollar), the rule of the run's cost-quality curve (core/eval/cost_quality.py): argmax of calibrated quality minus
lambda * expected cost, the calibration being refitted exactly as the run fitted it (isotonic, on the training
queries' scores; checked against the recorded breakpoint count). A new query's expected cost per candidate is
price x tokens, the tokens estimated from the dataset's test rows: input tokens = the query's characters x that
candidate's tokens per character, output tokens = that candidate's mean output tokens.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rpcli.errors import ConfigError
from rpcli.services.base import Session, artifact_dir, resolve


@dataclass
class Decision:
    """One routed query: the chosen candidate, the ranking (fallback order) and what it was computed from."""

    text: str
    model: str
    ranking: list  # candidates, best first
    scores: dict  # raw router score per candidate
    cost: dict  # expected dollars per query per candidate (None: no price)
    lam: float | None = None
    quality: dict | None = None  # calibrated expected quality (with lambda)
    utility: dict | None = None  # quality - lambda * cost (with lambda)
    seconds: float = 0.0  # the routing decision: encoding, scoring, choosing

    def to_dict(self) -> dict:
        d = {"model": self.model, "ranking": self.ranking, "scores": self.scores, "expected_cost": self.cost}
        if self.lam is not None:
            d.update({"lambda": self.lam, "expected_quality": self.quality, "utility": self.utility})
        return d


def _r(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


@dataclass
class RunRouter:
    """A recorded run, ready to route text. Built by `load_run`."""

    sess: Session
    entry: dict
    loaded: object  # LoadedRouter
    signal: object = None  # the run's TrainingSignal (None when its mode has none)
    seed: int = 0
    check_diff: float | None = None  # |recomputed - recorded| test scores at load time
    _cache: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.entry["id"]

    @property
    def models(self) -> list:
        return list(self.loaded.models)

    @property
    def router(self) -> str:
        return self.loaded.router

    @property
    def params(self) -> dict:
        return self.entry["params"]

    # ----------------------------------------------------------------------------------------------- text
    def text_for_messages(self, messages: list) -> str:
        """The text routed for a chat request: the last user message, preceded by the system prompt when the run
        embeds formatted queries (system + blank line + user, as the training queries were embedded)."""
        def content(m) -> str:
            c = m.get("content")
            if isinstance(c, list):  # content parts: their text
                return "\n".join(p.get("text", "") for p in c if isinstance(p, dict) and p.get("type") == "text")
            return c if isinstance(c, str) else ""

        user = next((content(m) for m in reversed(messages) if m.get("role") == "user"), "")
        if self.params.get("query_text", "formatted") == "raw":
            return user
        system = "\n".join(content(m) for m in messages if m.get("role") in ("system", "developer")).strip()
        return f"{system}\n\n{user}" if system else user

    def embed(self, texts: list, cache: bool = False) -> np.ndarray:
        """[B, Dq] embeddings; new text is not written to the workspace's embedding cache unless `cache`."""
        enc = self.sess.encoder
        if cache:
            return enc.encode(list(texts), progress=self.sess.progress, description="encoding queries:")
        return np.asarray(enc.inner.encode(list(texts)), dtype=np.float32)  # no disk writes (rp serve)

    # ----------------------------------------------------------------------------------------------- calibration
    def _train_vecs(self) -> np.ndarray:
        if "train_vecs" not in self._cache:
            if self.signal is None or len(self.signal) == 0:
                raise ConfigError(f"run {self.id} has no training queries (mode {self.params['mode']!r} has no "
                                  "training signal)")
            self._cache["train_vecs"] = self.embed(self.signal.texts, cache=True)
        return self._cache["train_vecs"]

    def calibration(self) -> dict:
        """The run's isotonic calibration (score -> expected quality), refitted as the run fitted it."""
        if "cal" not in self._cache:
            from rpcli.core.eval.metrics import fit_calibration

            if self.signal is None or len(self.signal) == 0:
                raise ConfigError(f"run {self.id} has no cost-quality calibration: its mode has no training signal",
                                  hint="route without --lambda")
            cal = fit_calibration(self.loaded.calibration_scores(self._train_vecs(), self.signal.tasks),
                                  self.signal.quality)
            rec = (self._seed_metrics().get("cost_quality") or {}).get("calibration") or {}
            if rec and (rec.get("n") != cal["n"] or rec.get("n_breakpoints") != len(cal["x"])):
                raise ConfigError(f"the calibration refitted for run {self.id} ({cal['n']} points, {len(cal['x'])} "
                                  f"breakpoints) differs from the recorded one ({rec.get('n')} points, "
                                  f"{rec.get('n_breakpoints')} breakpoints)", hint="rerun it with --force")
            self._cache["cal"] = cal
        return self._cache["cal"]

    def _seed_metrics(self) -> dict:
        if "seed_metrics" not in self._cache:
            path = artifact_dir(self.sess, self.entry) / "metrics.json"
            doc = json.loads(path.read_text()) if path.is_file() else {}
            per = [r for r in doc.get("per_seed", []) if r.get("seed") == self.seed]
            self._cache["seed_metrics"] = per[0] if per else doc.get("metrics", {})
        return self._cache["seed_metrics"]

    def lambda_range(self) -> list | None:
        """[smallest positive, largest] lambda of the run's recorded curve (quality per dollar)."""
        pts = (self._seed_metrics().get("cost_quality") or {}).get("points") or []
        lams = [p["lambda"] for p in pts if p.get("lambda")]
        return [min(lams), max(lams)] if lams else None

    # ----------------------------------------------------------------------------------------------- costs
    def _token_model(self):
        """Per candidate: (input tokens per character, mean output tokens, input price, output price) from the
        dataset's test rows and prices."""
        if "tokens" not in self._cache:
            from rpcli.core.routers.query_text import query_text

            ds = self.sess.dataset
            qt = self.params.get("query_text", "formatted")
            lens = [len(query_text(r, qt)) for r in ds.test_rows]
            out = []
            for m in self.models:
                rows = [(n, r) for n, r in zip(lens, ds.test_rows) if m in r.input_tokens]
                chars = sum(n for n, _ in rows)
                tin = sum(r.input_tokens[m] for _, r in rows)
                tout = [r.output_tokens[m] for _, r in rows if m in r.output_tokens]
                ip, op = ds.prices.get(m, (None, None))
                out.append((tin / chars if chars else None, float(np.mean(tout)) if tout else None, ip, op))
            self._cache["tokens"] = out
        return self._cache["tokens"]

    def expected_costs(self, texts: list) -> np.ndarray:
        """[B, K] expected dollars per query (NaN where a candidate has no price or no token record)."""
        out = np.full((len(texts), len(self.models)), np.nan)
        for j, (per_char, tout, ip, op) in enumerate(self._token_model()):
            if None in (per_char, tout, ip, op):
                continue
            for i, t in enumerate(texts):
                out[i, j] = (len(t) * per_char * ip + tout * op) / 1e6
        return out

    # ----------------------------------------------------------------------------------------------- routing
    def decide(self, texts: list, lam: float | None = None, cache: bool = False) -> list[Decision]:
        """Route each text: the chosen candidate and the full ranking (best first)."""
        from rpcli.core.routers.inference import rank

        t0 = time.perf_counter()
        texts = [str(t) for t in texts]
        if not texts:
            return []
        raw = self.loaded.scores(self.embed(texts, cache=cache))
        costs = self.expected_costs(texts)
        if lam is None:
            order, util = rank(raw)
            qual = None
        else:
            lo, hi = self._test_range()
            cal = self.calibration()
            order, util = rank(raw, cal, costs, lam, lo, hi)
            from rpcli.core.eval.metrics import apply_calibration

            qual = apply_calibration(cal, raw)
        dt = (time.perf_counter() - t0) / len(texts)
        names = self.models
        out = []
        for i, t in enumerate(texts):
            ranking = [names[j] for j in order[i]]
            out.append(Decision(text=t, model=ranking[0], ranking=ranking,
                                scores={m: _r(raw[i, j]) for j, m in enumerate(names)},
                                cost={m: _r(costs[i, j]) for j, m in enumerate(names)}, lam=lam,
                                quality=None if qual is None else {m: _r(qual[i, j]) for j, m in enumerate(names)},
                                utility=None if lam is None else {m: _r(util[i, j]) for j, m in enumerate(names)},
                                seconds=dt))
        return out

    def route(self, query: str, lam: float | None = None) -> str:
        """The candidate chosen for one query."""
        return self.decide([query], lam=lam)[0].model

    def _test_range(self):
        if "range" not in self._cache:
            from rpcli.core.routers.inference import recorded_scores

            rec = recorded_scores(artifact_dir(self.sess, self.entry), self.models, self.seed,
                                  len(self.params.get("seeds", [0])))
            self._cache["range"] = (float(np.nanmin(rec)), float(np.nanmax(rec))) if rec.size else (None, None)
        return self._cache["range"]

    # ----------------------------------------------------------------------------------------------- explain
    def explain(self, text: str, lam: float | None = None, k: int = 5) -> dict:
        """A decision and what drove it: each candidate's score, expected cost (and calibrated quality), the
        margin to the runner-up, the nearest training queries (cosine in the run's encoder space) with the
        candidates that won them, the nearest task descriptions with the candidates' card scores on them, and for
        graph runs the attention the query gives each candidate's message in the last GAT layer."""
        d = self.decide([text], lam=lam)[0]
        q = self.embed([text])
        key = "utility" if lam is not None else "scores"
        vals = d.utility if lam is not None else d.scores
        first, second = d.ranking[0], (d.ranking[1] if len(d.ranking) > 1 else None)
        why = f"{first} has the highest {'quality - lambda x cost' if lam is not None else 'router score'}"
        if second is not None and vals[first] is not None and vals[second] is not None:
            gap = vals[first] - vals[second]
            why += f" ({vals[first]:.4f}; runner-up {second} {vals[second]:.4f}, margin {gap:.4f}"
            why += ("; tied, the raw router score breaks the tie)" if lam is not None and gap < 1e-5 else ")")
        if lam is not None:
            best_raw = max(d.scores, key=lambda m: d.scores[m])
            if best_raw != first:
                why += (f"; without the cost term {best_raw} would be chosen (expected cost {d.cost[best_raw]} vs "
                        f"{d.cost[first]} $/query)")
        out = {"run": self.id, "router": self.router, "seed": self.seed, "query_text": self.params.get("query_text"),
               "text": text, **d.to_dict(), "ranked_by": key, "why": why}
        if lam is not None:
            out["lambda_range_of_the_run"] = self.lambda_range()
        if self.signal is not None and len(self.signal):
            tv = self._train_vecs()
            sims = _cos(q, tv)[0]
            top = np.argsort(-sims, kind="stable")[:k]
            sig = self.signal
            out["nearest_training_queries"] = [
                {"query": sig.queries[i][:160], "task": sig.tasks[i], "similarity": _r(sims[i]),
                 "best": [m for j, m in enumerate(sig.models) if sig.labels[i, j] == 1]} for i in top]
        ds = self.sess.dataset
        tasks = [t for t in ds.tasks if t in ds.test_tasks] if hasattr(ds, "test_tasks") else list(ds.tasks)
        if tasks:
            tq = self.sess.encoder.encode([ds.tasks[t] for t in tasks])
            if tq.shape[1] == q.shape[1]:
                sims = _cos(q, tq)[0]
                cards = {mm.name: mm.scores for mm in ds.mode(self.params["mode"]).models}
                out["nearest_tasks"] = [
                    {"task": tasks[i], "similarity": _r(sims[i]),
                     "card_scores": {m: (cards.get(m) or {}).get(tasks[i]) for m in self.models}}
                    for i in np.argsort(-sims, kind="stable")[:3]]
        if self.loaded.has_attention:
            att = self.loaded.attention(q)[0]
            out["attention"] = {m: _r(att[j]) for j, m in enumerate(self.models)}
        return out


def _cos(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)
    b = b / np.clip(np.linalg.norm(b, axis=1, keepdims=True), 1e-12, None)
    return a @ b.T


def _encoder_spec(rec: dict | None) -> str | None:
    """An --encoder spec that rebuilds the recorded encoder (None: the default)."""
    if not rec:
        return None
    if rec.get("kind") == "hash":
        return f"hash:{rec['dim']}"
    if str(rec.get("id", "")).startswith("all-MiniLM-L6-v2-"):
        return "default"  # the packaged default (its id is named, not derived from the directory)
    if rec.get("kind") == "transformers" and rec.get("path"):
        return rec["path"]
    return None


def load_run(sess: Session, ref: str, seed: int | None = None, check: bool = True) -> RunRouter:
    """A recorded run, loaded to route new text.

    The session's dataset and encoder default to those the run was built with; when given they must match.
    `seed`: which seed's router (default: the run's first). `check`: score the test rows again and refuse a
    router that does not reproduce the recorded predictions."""
    from rpcli.core.registry import router as get_router
    from rpcli.core.routers.inference import recorded_scores
    from rpcli.core.routers.query_text import query_text
    from rpcli.services.artifacts.profiles import load_profile_entry
    from rpcli.services.artifacts.routes import router_signal

    entry = resolve(sess, ref, "run")
    params = entry["params"]
    router = params.get("router")
    seeds = list(params.get("seeds") or [0])
    seed = seeds[0] if seed is None else int(seed)
    if seed not in seeds:
        raise ConfigError(f"run {entry['id']} has no seed {seed} (its seeds: {', '.join(map(str, seeds))})")
    if sess.data_root is None and not sess.dataset_loaded and (entry.get("data") or {}).get("root"):
        root = Path(entry["data"]["root"])
        if root.is_dir():
            sess.data_root = root
    if sess.encoder_spec is None and not sess.encoder_loaded:
        sess.encoder_spec = _encoder_spec(entry.get("encoder"))
    if entry.get("data_hash") and entry["data_hash"] != sess.dataset.data_hash:
        raise ConfigError(f"run {entry['id']} was built from different data ({(entry.get('data') or {}).get('root')},"
                          f" hash {entry['data_hash'][:10]}) than the dataset now selected ({sess.dataset.root}, hash "
                          f"{sess.dataset.data_hash[:10]})", hint="pass the --data the run was built with")
    rec_enc = (entry.get("encoder") or {}).get("id")
    if rec_enc and rec_enc != sess.encoder.id:
        raise ConfigError(f"run {entry['id']} embeds queries with encoder {rec_enc}, not {sess.encoder.id}",
                          hint="pass the --encoder the run was built with")
    pentry, names, vecs = load_profile_entry(sess, entry["parents"][0])
    qt = params.get("query_text", "formatted")
    sig = router_signal(sess, get_router(router), params["mode"], names, qt, labels=params.get("labels", "pairs"))
    run_dir = artifact_dir(sess, entry)
    enc = sess.encoder
    rr = RunRouter(sess=sess, entry=entry, loaded=None, signal=sig, seed=seed)

    def test_vecs():
        if "test_vecs" not in rr._cache:
            rr._cache["test_vecs"] = enc.encode([query_text(r, qt) for r in sess.dataset.test_rows],
                                                progress=sess.progress, description="encoding test queries:")
        return rr._cache["test_vecs"]

    # what the router's plugin needs to load: the run's inputs rebuilt (its training signal; embeddings encoded
    # only when asked for, e.g. a graph run whose checkpoint has no model states, or a router refitted at load from
    # the training signal, the cards and the seed's recorded configuration)
    plugin = get_router(router)
    tasks = [r.task_name for r in sess.dataset.test_rows]
    ctx = run_context(sess, plugin, params["mode"], names, vecs, sig, seeds, tasks, qt,
                      sources={"train": rr._train_vecs, "test": test_vecs})
    rr.loaded = plugin.load(run_dir, ctx, seed=seed, n_seeds=len(seeds), opts=run_options(plugin, params),
                            recorded=rr._seed_metrics().get("train") or {})
    if check:
        rr.check_diff = rr.loaded.check_predictions(test_vecs(), recorded_scores(run_dir, names, seed, len(seeds)),
                                                    tasks=tasks)
    return rr


def run_options(plugin, params: dict) -> dict:
    """A run's router options, read back from its params (the router's defaults for options it did not record)."""
    known = plugin.defaults()
    return {**known, **{k: v for k, v in params.items() if k in known}}


def run_context(sess: Session, plugin, mode: str, names: list, vecs, sig, seeds: list, tasks: list,
                qt: str = "formatted", sources: dict | None = None):
    """The RouteContext a router's `load` gets: the candidates and profile, the training signal, the test rows'
    tasks, the cards when the router reads them; embeddings from `sources` (else encoded on first use)."""
    from rpcli.core.routers.query_text import query_text
    from rpcli.core.routers.run import RouteContext
    from rpcli.services.artifacts.routes import router_cards

    ctx = RouteContext(mode=mode, models=list(names), profile_vecs=vecs,
                       test_texts=[query_text(r, qt) for r in sess.dataset.test_rows], encoder=sess.encoder,
                       train=sig, seeds=list(seeds), device=sess.device or "cpu", progress=sess.progress,
                       test_tasks=list(tasks), sources=dict(sources or {}))
    if plugin.caps.cards:
        ctx.cards, ctx.card_models = router_cards(sess.dataset, mode)
    return ctx


def parse_batch_line(line: str) -> dict:
    """One line of a batch file -> {"query": text, ...other fields} or {"error": reason}. A JSON object needs a
    string "query"; a JSON string is the query; a line that is not JSON (and does not start like JSON) is taken
    as plain text."""
    s = line.strip()
    try:
        v = json.loads(s)
    except ValueError as exc:
        if s[:1] in "{[\"":
            return {"error": f"malformed JSON: {exc}"}
        return {"query": s}
    if isinstance(v, str):
        return {"query": v}
    if isinstance(v, dict):
        if not isinstance(v.get("query"), str) or not v["query"].strip():
            return {"error": "field \"query\": expected a non-empty string",
                    **{k: x for k, x in v.items() if k != "query"}}
        return v
    return {"error": f"expected an object with a \"query\" field or a string, found {type(v).__name__}"}
