"""The held-out model(s) of newllm mode, defined independently of any training signal, and the one guard every
training signal calls.

Where the list comes from (recorded as `RouteDataset.held_out_source`):

| source                                   | rule                                                             |
|------------------------------------------|------------------------------------------------------------------|
| route_data/held_out.json                 | a JSON list of candidate names, when the dataset carries one      |
| model cards (newllm vs standard)         | otherwise: the candidates with at least one routing-task score    |
|                                          | present in model_feature_standard.json and null in                |
|                                          | model_feature_newllm.json (null in both modes: not held out)      |

Only newllm mode holds models out; standard mode sees every candidate. `refuse_held_out` is the guard: router
labels (pairs, score rows) and the score edges / score lines that trainable and text-gnn profiles learn from call
it before anything is learned.
"""

from __future__ import annotations

from rpcli.errors import DataFileError, TrainingDataError, did_you_mean

HELD_OUT_FILE = "route_data/held_out.json"
CARD_SOURCE = ("model cards: routing-task scores null in profile_data/model_feature_newllm.json and present in "
               "profile_data/model_feature_standard.json")


def parse_held_out(path, doc, candidates: list[str]) -> list[str]:
    """Validate the parsed content of held_out.json: a list of distinct candidate names."""
    if not isinstance(doc, list):
        raise DataFileError(path, f"expected a JSON list of candidate names, found {type(doc).__name__}",
                            hint='e.g. ["my-new-model"]')
    out: list[str] = []
    for i, name in enumerate(doc):
        r = f"#{i}"
        if not isinstance(name, str) or not name.strip():
            raise DataFileError(path, f"expected a candidate name (text), found {type(name).__name__} "
                                      f"({str(name)[:40]!r})", record=r)
        if name not in candidates:
            raise DataFileError(path, f"{name!r} is not a routing candidate{did_you_mean(name, candidates)}",
                                record=r, hint=f"the candidates are {', '.join(candidates)}")
        if name in out:
            raise DataFileError(path, f"{name!r} is listed twice", record=r)
        out.append(name)
    return out


def infer_held_out(candidates: list[str], routing_tasks, standard_scores: dict, newllm_scores: dict) -> list[str]:
    """Candidates (in candidate order) with a routing-task score present in the standard card and null in the
    newllm card. `*_scores` map model -> {task: float | None}."""
    out = []
    for c in candidates:
        std, new = standard_scores.get(c, {}), newllm_scores.get(c, {})
        if any(std.get(t) is not None and new.get(t) is None for t in routing_tasks):
            out.append(c)
    return out


def refuse_held_out(mentions, held_out, *, what: str, path=None, record: str | None = None,
                    field: str | None = None, mode: str = "newllm") -> None:
    """The guard: raise when any name in `mentions` is a held-out model. With `path` (a data file) the error is a
    DataFileError naming the file, record and field; otherwise a TrainingDataError naming `what`."""
    held = set(held_out or ())
    leaked = list(dict.fromkeys(m for m in mentions if m in held))
    if not leaked:
        return
    names = ", ".join(repr(m) for m in leaked)
    msg = (f"{what} names the held-out model {names}: a {mode} router or profile must never learn from the "
           "held-out model's results")
    hint = ("remove those records; the held-out model stays a candidate through its profile only (the held-out "
            f"list comes from {HELD_OUT_FILE} or, without it, from the model cards)")
    if path is not None:
        raise DataFileError(path, msg, record=record, field=field, hint=hint)
    raise TrainingDataError(msg, hint=hint)


def hidden_score_pairs(held_out, routing_tasks) -> frozenset:
    """(model, task) pairs whose score no newllm profile may learn from: a held-out model's routing-task scores."""
    return frozenset((m, t) for m in held_out or () for t in routing_tasks or ())


def hidden_edges(graph, et, hidden) -> list[bool]:
    """Per edge of type `et` in `graph` (a GraphData with names), whether it joins a (model, task) pair of `hidden`
    (either direction). Such an edge stays in the graph (the held-out model's profile is built from its card and
    its edges) but its score is never a training target or a score line."""
    ei = graph.edge_index[et]
    n = int(ei.shape[1])
    s, _, d = et
    sn, dn = graph.names.get(s), graph.names.get(d)
    if not hidden or sn is None or dn is None:
        return [False] * n
    return [(sn[a], dn[b]) in hidden or (dn[b], sn[a]) in hidden for a, b in zip(ei[0].tolist(), ei[1].tolist())]


def count_hidden_scores(graph, hidden) -> int:
    """How many scored edges (both stored directions) of `graph` carry a hidden (model, task) score."""
    return sum(sum(hidden_edges(graph, et, hidden)) for et, attr in graph.edge_attr.items() if attr is not None)
