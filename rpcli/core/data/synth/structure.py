"""Within-task query structure (``--query-structure S``, ``--subtopics N``) and the ground truth it gives.

With S > 0 every routing task's queries are split into N sub-topics, in equal shares (test and training queries
each). A sub-topic has

* a theme (``vocab.THEMES``: a label and ten words, disjoint between themes), drawn per task without repetition: each
  query of the sub-topic is framed with the label and four of its words (a leading sentence; a keyword prefix for
  the search-style task, a ``# Topic:`` comment for the code-completion task, two extra concepts for the concept
  list), so the queries of one sub-topic share words that the other sub-topics' queries lack;
* a per-model skill offset added to the item-response logit: ``S * (z + specialist)``, centred over the task's
  sub-topics. ``z`` is N(0, 1) per (model, task, sub-topic) and ``specialist`` is 1 for the sub-topic's specialist
  (the candidates in a random order per task, one per sub-topic, cycling when N exceeds the candidates), so that
  different models tend to win different sub-topics. Centring keeps every model's task-level skill: the structure
  moves which model wins *within* a task, not how good a model is on the task.

The ground truth (``route_data/synth_truth.json``, which the loader does not read) gives every test and training
query's sub-topic and, per (task, sub-topic), each candidate's expected score on the sub-topic's generated queries
(the item-response probability averaged over the per-(model, query) noise) and the best candidate.

Every draw here has its own stream, so S = 0 draws nothing and leaves the dataset byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rpcli.core.data.synth.draw import Draw, seeded_rng
from rpcli.core.data.synth.vocab import THEMES

MAX_SUBTOPICS = len(THEMES)
MAX_QUERY_STRUCTURE = 20.0
N_FRAME_WORDS = 4
_FRAMES = ["Topic: {label} ({words}).",
           "This item is from the {label} set, on {words}.",
           "Theme: {label}; keywords: {words}.",
           "A {label} question about {words}."]


@dataclass
class Structure:
    """The sub-topics of every routing task: their themes, and (after draw_offsets) the logit offsets [M, T, N] and
    each sub-topic's specialist candidate [T, N]."""

    scale: float
    n_sub: int
    themes: dict
    offsets: np.ndarray | None = None
    specialists: np.ndarray | None = None


def plan_structure(seed: int, archs: list[dict], scale: float, n_sub: int) -> Structure | None:
    """The sub-topic themes of every task (None when scale is 0: no structure)."""
    if scale == 0:
        return None
    rt = seeded_rng(seed, 12)
    themes = {a["name"]: rt.permutation(len(THEMES))[:n_sub].tolist() for a in archs}
    return Structure(float(scale), int(n_sub), themes)


def _join(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1]


def _frame(item: dict, task: str, theme: int, d: Draw) -> dict:
    """The item with its text framed by the theme's label and vocabulary (q, and user, gt, ans where they hold it)."""
    label, vocab = THEMES[theme]
    new = dict(item)
    if task == "concept_gen":  # a concept list: two of the theme's words join the concepts
        words = list(item["ans"])
        for w in d.sample([w for w in vocab if w not in words], 2):
            words.insert(d.int(0, len(words)), w)
        q = ", ".join(words)
        new.update(q=q, gt=q, ans=words, wrong=words)
        return new
    kw = d.sample(vocab, N_FRAME_WORDS)
    if task == "open_qa":  # search style: lower case, no punctuation
        q = f"{label} {' '.join(kw)} {item['q']}"
    elif task == "code_complete":  # the prompt is code: a comment line
        q = f"# Topic: {label} ({', '.join(kw)})\n{item['q']}"
    else:
        q = d.pick(_FRAMES).format(label=label, words=_join(kw)) + " " + item["q"]
    new["q"] = q
    if item["user"] is not None:
        new["user"] = item["user"].replace(item["q"], q, 1)
    return new


def frame_queries(seed: int, archs: list[dict], q, st: Structure) -> None:
    """Give every test and training query of the routing tasks a sub-topic ("topic", in equal shares) and frame its
    text with the sub-topic's vocabulary. Changes q in place; framed texts stay distinct."""
    seen: set = set()
    for ti, a in enumerate(archs):
        t = a["name"]
        rng = seeded_rng(seed, 13, ti)
        for items in (q.test[t], q.train[t]):
            topics = rng.permutation(np.arange(len(items)) % st.n_sub).tolist()
            d = Draw(rng)
            for j, it in enumerate(items):
                for _ in range(50):
                    new = _frame(it, t, st.themes[t][topics[j]], d)
                    if new["q"] not in seen:
                        break
                else:  # pragma: no cover - a framed text keeps its (distinct) base text
                    from rpcli.core.data.synth.stages import SynthParamError

                    raise SynthParamError(f"could not frame a distinct query for {t}",
                                          hint="ask for fewer queries per task")
                seen.add(new["q"])
                new["topic"] = int(topics[j])
                items[j] = new


def draw_offsets(seed: int, st: Structure, n_models: int, n_candidates: int, n_tasks: int) -> None:
    """The per-model logit offsets [M, T, N] and the specialists [T, N] (set on st)."""
    ro = seeded_rng(seed, 21)
    N = st.n_sub
    u = ro.normal(0.0, 1.0, (n_models, n_tasks, N))
    spec = np.stack([ro.permutation(n_candidates)[np.arange(N) % n_candidates] for _ in range(n_tasks)])
    for ti in range(n_tasks):
        for k in range(N):
            u[spec[ti, k], ti, k] += 1.0
    st.offsets = st.scale * (u - u.mean(axis=2, keepdims=True))
    st.specialists = spec


_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(24)
_GH_W = _GH_W / _GH_W.sum()


def expected_scores(logit: np.ndarray, noise: float, continuous: bool) -> np.ndarray:
    """The expected score [M, Q] from the noise-free logits [M, Q]: the item-response probability averaged over the
    N(0, noise^2) logit noise (Gauss-Hermite). The continuous metric's expectation is 0.3 + 0.7 * p with its extra
    0.4 logit noise (its small floor is ignored)."""
    sd = float(np.sqrt(noise ** 2 + 0.16)) if continuous else float(noise)
    z = logit[:, :, None] + sd * _GH_X[None, None, :]
    p = (1.0 / (1.0 + np.exp(-z))) @ _GH_W
    return 0.3 + 0.7 * p if continuous else p


def mean_by_topic(values: np.ndarray, topics: np.ndarray, n_sub: int) -> np.ndarray:
    """The mean of values [M, Q] over each sub-topic's queries: [M, N] (NaN for a sub-topic without queries)."""
    out = np.full((values.shape[0], n_sub), np.nan)
    for k in range(n_sub):
        sel = topics == k
        if sel.any():
            out[:, k] = values[:, sel].mean(axis=1)
    return out


def topic_expectation(sc, q, task: str, n_sub: int) -> np.ndarray:
    """Each candidate's expected score per sub-topic of task [C, N], over the sub-topic's test and training queries
    as written (after the leakage copies); NaN for a sub-topic without queries."""
    values = np.concatenate([sc.expected_test[task], sc.expected_train[task]], axis=1)
    topics = np.array([it["topic"] for it in q.test[task] + q.train[task]], dtype=int)
    return mean_by_topic(values, topics, n_sub)
