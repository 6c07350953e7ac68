"""A recorded router run, loaded for inference: `load_router(run_dir, ...) -> LoadedRouter` whose
`scores(query_vecs)` gives the [B, K] scores the run's router gives new queries, exactly those it recorded for
its test rows (predictions.jsonl, checked by the tests and by `LoadedRouter.check_predictions`).

| router | what is loaded                          | scores(q)                                                              |
|--------|-----------------------------------------|------------------------------------------------------------------------|
| sim    | the profile                             | cosine(q, profile)                                                    |
| mlp    | ckpt.pt (both towers)                   | <query_mlp(q), model_mlp(p)>, both L2-normalised                        |
| graph  | ckpt.pt, and the training graph: the    | a query attached to the training graph: it receives messages from the  |
|        | member queries' embeddings (training    | models (whose per-layer states are computed once, at load time, from   |
|        | split of the seed; transductive runs    | the member queries) and sends none, exactly as the run scored its test |
|        | also the test rows)                     | and validation queries                                                 |

Everything a router needs besides its run directory is passed in (this module never reads the manifest or a
dataset): the candidate names and profile vectors (the run's parent profile), and for graph runs the training
signal and its query embeddings (and, transductive, the test rows' embeddings). rpcli.services.inference resolves
those for a workspace run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rpcli.errors import ConfigError

ROUTERS = ("sim", "mlp", "graph")


@dataclass
class LoadedRouter:
    """A run's router, ready to score queries. `models` is the candidate order (argmax ties go to the first)."""

    router: str
    models: list
    profile_vecs: np.ndarray  # [K, Dp]
    seed: int = 0
    net: object = None  # the trained torch module (mlp, graph), eval mode
    config: dict = field(default_factory=dict)  # the checkpoint's config (trained routers)
    device: str = "cpu"
    _graph: dict = field(default_factory=dict)  # graph: per-layer model states [L + 1] x [K, H]

    @property
    def query_dim(self) -> int:
        """The query embedding width the router takes."""
        if self.router == "sim":
            return int(self.profile_vecs.shape[1])
        return int(self.config["q_in_dim"])

    def scores(self, query_vecs) -> np.ndarray:
        """[B, K] float64 scores of raw query embeddings [B, Dq] (argmax = the run's choice)."""
        q = np.asarray(query_vecs, dtype=np.float32)
        if q.ndim != 2:
            raise ValueError(f"query_vecs must be [B, D], got shape {q.shape}")
        if q.shape[1] != self.query_dim:
            raise ConfigError(f"the {self.router} router of this run takes {self.query_dim}-d query embeddings, "
                              f"got {q.shape[1]}-d", hint="use the encoder the run was built with")
        if self.router == "sim":
            from rpcli.core.routers.sim import sim_scores

            return sim_scores(self.profile_vecs, q)
        if self.router == "mlp":
            from rpcli.core.routers.mlp import score

            return score(self.net, q, self.profile_vecs, device=self.device)
        return self._graph_scores(q)

    def _graph_scores(self, q: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        from rpcli.core.routers.graph import _gat_bipartite, _unit

        if len(q) == 0:
            return np.zeros((0, len(self.models)))
        net, hms = self.net, self._graph["hm"]
        dev = torch.device(self.device)
        none = torch.zeros(0, dtype=torch.long, device=dev)
        with torch.no_grad():
            hq = net.q_proj(torch.as_tensor(_unit(q), device=dev))
            for i, conv in enumerate(net.convs):
                # the query side of the layer only: the models' states are those of the training graph
                _, hq = _gat_bipartite(conv, hms[i], hq, none, None, False)
                if i < len(net.convs) - 1:
                    hq = F.elu(hq)
            return net.predict(hq, hms[-1]).double().cpu().numpy()

    def attention(self, query_vecs) -> np.ndarray:
        """graph only: [B, K] the last layer's attention of each query over the candidates' messages (mean over
        heads; each row sums to 1 minus the weight the query gives itself)."""
        import torch
        import torch.nn.functional as F

        from rpcli.core.routers.graph import _gat_bipartite, _unit

        if self.router != "graph":
            raise ConfigError("attention weights exist for graph runs only")
        net, hms = self.net, self._graph["hm"]
        dev = torch.device(self.device)
        none = torch.zeros(0, dtype=torch.long, device=dev)
        with torch.no_grad():
            hq = net.q_proj(torch.as_tensor(_unit(np.asarray(query_vecs, dtype=np.float32)), device=dev))
            for i, conv in enumerate(net.convs):
                if i == len(net.convs) - 1:
                    return _query_attention(conv, hms[i], hq).cpu().numpy().astype(np.float64)
                _, hq = _gat_bipartite(conv, hms[i], hq, none, None, False)
                hq = F.elu(hq)
        raise AssertionError("unreachable")

    def check_predictions(self, test_vecs, recorded: np.ndarray, atol: float = 2e-6) -> float:
        """The largest absolute difference between the scores of the test rows now and those the run recorded;
        raises ConfigError above `atol` (the recorded scores are rounded to 6 decimals)."""
        got = self.scores(test_vecs)
        rec = np.asarray(recorded, dtype=np.float64)
        if got.shape != rec.shape:
            raise ConfigError(f"the run recorded {rec.shape} test scores, the loaded router gives {got.shape}")
        diff = float(np.max(np.abs(got - rec))) if got.size else 0.0
        if diff > atol:
            raise ConfigError(f"the loaded {self.router} router does not reproduce the run's recorded test scores "
                              f"(largest difference {diff:.2e})",
                              hint="the run was recorded by another version of rp, or its inputs changed; "
                                   "rerun it with --force")
        return diff


def _query_attention(conv, hm, hq):
    """[B, K] attention of queries hq over the models hm in one GATConv (mean over heads)."""
    import torch
    import torch.nn.functional as F

    heads, C = conv.heads, conv.out_channels
    W = conv.lin.weight.view(heads, C, -1)
    att_s, att_d = conv.att_src[0], conv.att_dst[0]
    U = torch.bmm(torch.stack([att_s, att_d], dim=1), W).permute(2, 1, 0).reshape(W.shape[2], 2 * heads)
    am_s = (hm @ U)[:, :heads]
    aq = hq @ U
    aq_s, aq_d = aq[:, :heads], aq[:, heads:]
    e = torch.cat([(aq_s + aq_d).unsqueeze(1), am_s.unsqueeze(0) + aq_d.unsqueeze(1)], dim=1)
    a = torch.softmax(F.leaky_relu(e, conv.negative_slope), dim=1)  # [B, 1 + K, heads]
    return a[:, 1:].mean(dim=2)


def checkpoint_file(run_dir: Path, seed: int, n_seeds: int) -> Path:
    return Path(run_dir) / ("ckpt.pt" if n_seeds == 1 else f"ckpt.seed{seed}.pt")


def predictions_file(run_dir: Path, seed: int, n_seeds: int) -> Path:
    return Path(run_dir) / ("predictions.jsonl" if n_seeds == 1 else f"predictions.seed{seed}.jsonl")


def recorded_scores(run_dir: Path, models: list, seed: int = 0, n_seeds: int = 1) -> np.ndarray:
    """[N, K] the test-row scores a run recorded (predictions.jsonl, rounded to 6 decimals)."""
    path = predictions_file(run_dir, seed, n_seeds)
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                s = json.loads(line)["scores"]
                rows.append([s[m] for m in models])
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(models))


def load_router(run_dir, *, router: str, models: list, profile_vecs, seed: int = 0, n_seeds: int = 1,
                train=None, train_vecs=None, test_vecs=None, device: str = "cpu") -> LoadedRouter:
    """The router of the run in `run_dir` for `seed` (one of the run's `n_seeds` seeds).

    Args:
        router: "sim", "mlp" or "graph" (the run's params["router"]).
        models, profile_vecs: the candidates in profile order and their profile vectors [K, Dp].
        train, train_vecs: graph only: the run's TrainingSignal (rebuilt from its dataset, mode, query text and
            label source) and its query embeddings [Q, Dq] (raw, as the encoder gives them).
        test_vecs: graph transductive only: the test rows' embeddings [N, Dq] (members of its training graph).
    """
    if router not in ROUTERS:
        raise ConfigError(f"cannot load a {router!r} router (known: {', '.join(ROUTERS)})")
    vecs = np.asarray(profile_vecs, dtype=np.float32)
    if vecs.shape[0] != len(models):
        raise ConfigError(f"{len(models)} candidates but {vecs.shape[0]} profile vectors")
    lr = LoadedRouter(router=router, models=list(models), profile_vecs=vecs, seed=int(seed), device=device)
    if router == "sim":
        return lr
    path = checkpoint_file(Path(run_dir), seed, n_seeds)
    if not path.is_file():
        raise ConfigError(f"{path} is absent: the run has no checkpoint for seed {seed}")
    if router == "mlp":
        from rpcli.core.routers.mlp import load_checkpoint
    else:
        from rpcli.core.routers.graph import load_checkpoint
    net, ck = load_checkpoint(path)
    if list(ck.get("model_names", [])) != list(models):
        raise ConfigError(f"{path} was trained on candidates {ck.get('model_names')}, not {list(models)}")
    lr.net, lr.config = net.to(device), dict(ck["config"])
    if router == "graph":
        lr._graph["hm"] = _graph_model_states(lr, train, train_vecs, test_vecs)
    return lr


def _graph_model_states(lr: LoadedRouter, train, train_vecs, test_vecs) -> list:
    """The models' states before each GAT layer and after the last ([L + 1] x [K, H]) on the run's training graph:
    the member queries (the seed's training split, labeled queries only; transductive: every training query and
    every test row) exchange messages with the models."""
    import torch
    import torch.nn.functional as F

    from rpcli.core.routers.graph import _gat_bipartite, _unit
    from rpcli.core.routers.training import split_queries

    if train is None or train_vecs is None:
        raise ConfigError("a graph run needs its training signal and training-query embeddings to be loaded")
    cfg = lr.config
    labels = np.asarray(train.labels)
    Q = labels.shape[0]
    if len(train_vecs) != Q:
        raise ConfigError(f"{len(train_vecs)} training-query embeddings for {Q} training queries")
    tr_q, _ = split_queries(Q, float(cfg.get("val_split", 0.1)), lr.seed)
    tr_q = tr_q[(~np.isnan(labels[tr_q])).any(axis=1)]
    member_vecs = np.asarray(train_vecs, dtype=np.float32)[tr_q]
    if cfg.get("transductive"):
        if test_vecs is None:
            raise ConfigError("a transductive graph run needs its test rows' embeddings to be loaded")
        member_vecs = np.concatenate([np.asarray(train_vecs, dtype=np.float32), np.asarray(test_vecs, np.float32)])
    net = lr.net
    dev = torch.device(lr.device)
    with torch.no_grad():
        hm = net.m_proj(torch.as_tensor(lr.profile_vecs, device=dev))
        hq = net.q_proj(torch.as_tensor(_unit(member_vecs), device=dev))
        out = [hm]
        for i, conv in enumerate(net.convs):
            hm, hq = _gat_bipartite(conv, hm, hq, None, None, False)
            if i < len(net.convs) - 1:
                hm, hq = F.elu(hm), F.elu(hq)
            out.append(hm)
    return out


def rank(scores, cal: dict | None = None, costs=None, lam: float | None = None, lo: float | None = None,
         hi: float | None = None):
    """(order [B, K] best first, utility [B, K]) of raw router scores [B, K].

    lam None: the run's own rule (raw score, ties to the first candidate). Otherwise the cost-quality curve's rule
    (rpcli.core.eval.cost_quality): the calibrated quality `cal(score)` plus 1e-6 * (score - lo) / (hi - lo) (ties
    follow the raw score; lo/hi: the run's test-score range) minus lam * cost ([B, K] dollars per query)."""
    raw = np.asarray(scores, dtype=np.float64)
    if lam is None:
        util = raw
    else:
        from rpcli.core.eval.metrics import apply_calibration

        if cal is None:
            raise ConfigError("this run has no cost-quality calibration (no training signal to calibrate on)",
                              hint="route without --lambda")
        util = apply_calibration(cal, raw)
        if lo is not None and hi is not None and hi > lo:
            util = util + 1e-6 * (raw - lo) / (hi - lo)
        if lam != 0:
            c = np.asarray(costs, dtype=np.float64)
            if np.isnan(c).any():
                raise ConfigError("--lambda needs every candidate's cost, and a candidate has no price",
                                  hint="give every candidate an input and output price")
            util = util - lam * c
    order = np.argsort(-util, axis=1, kind="stable")
    return order, util
