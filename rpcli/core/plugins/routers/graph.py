"""GraphRouter (spec §5.4): a query-model GAT with an edge predictor, trained on per-query multi-hot labels.

Loading: a checkpoint written since model states are saved carries them (`states_from == "checkpoint"`), so a
query is scored from the checkpoint alone. Otherwise (runs recorded before, or a new candidate set) they are
recomputed (`states_from == "training graph"`) from the members of the run's training graph: the seed's training
split (labeled queries only), transductive runs every training query and every test row.
"""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, Router, option
from rpcli.core.plugins.routers._torch import TrainOptions, load_net
from rpcli.core.routers.graph_preset import PRESETS, RECOMMENDED, describe
from rpcli.errors import ConfigError


@dataclass
class GraphOptions(TrainOptions):
    epochs: int = option(100, "Training epochs (the original's default is 100).", min=1)
    hidden: int = option(256, "Hidden width.", min=1)
    layers: int = option(2, "GATConv layers.", min=1)
    heads: int = option(4, "Attention heads per layer (averaged).", min=1)
    transductive: bool = option(False, "Faithful: put the test queries in the graph during training (default: "
                                "attach them at inference).", flag="--transductive")
    labels: str = option("pairs", "pairs: per-query labels derived from the pairwise file; scores: "
                         "route_data/routing_train_data.json rows.", choices=("pairs", "scores"))
    patience: int = option(0, "Stop after this many epochs without a better val_perf (0: never, faithful).", min=0)
    residual: bool = option(False, "Fix: each GAT layer adds a linear map of its input (PyG GATConv "
                            "residual=True), so a query keeps its own features against the models' messages.",
                            flag="--residual")
    member_sample: int = option(0, "Speed: each training step encodes the graph on this many sampled member "
                                "queries plus the batch (0: all of them, faithful).", min=0, late=True)
    full_batch: bool = option(False, "Each optimiser step trains on every training query at once (one step per "
                              "epoch) instead of batches of --batch-size.", flag="--full-batch", late=True)
    profile_norm: str = option("raw", "Model node features: raw: the profiles as they are (faithful); zscore: each "
                               "dimension centred and scaled over the candidates.", choices=("raw", "zscore"),
                               late=True)
    preset: str = option("faithful", "faithful: the original's settings. recommended: "
                         f"{describe(RECOMMENDED)}, chosen by cross-validation on training queries "
                         "(docs/fidelity.md); an option you set away from its faithful default keeps your value.",
                         choices=PRESETS, late=True)


class _Scorer:
    def __init__(self, lr, states) -> None:
        self.lr = lr
        self.states = states
        self.att = lr.net.attached_cache(states)
        self.query_dim = int(lr.ckpt["config"]["q_in_dim"])

    def _xq(self, q):
        import numpy as np
        import torch

        from rpcli.core.routers.graph import unit_f32

        return torch.as_tensor(unit_f32(np.asarray(q, dtype=np.float32)), device=self.lr.device)

    def scores(self, q, tasks=None):
        import torch

        with torch.inference_mode():
            return self.lr.net.attached_logits(self.states, self._xq(q), self.att).double().cpu().numpy()

    def attention(self, q):
        import torch

        with torch.inference_mode():
            return self.lr.net.attached_attention(self._xq(q), self.att).cpu().numpy()

    def checkpoint(self):
        return {**self.lr.ckpt, "model_names": list(self.lr.models),
                "trained_on_models": list(self.lr.ckpt.get("model_names", [])),
                "model_states": [h.detach().cpu().clone() for h in self.states]}


def _model_states(lr, ctx) -> list:
    """The models' states entering each GAT layer and leaving the last ([L + 1] x [K, H]) on the run's training
    graph: the member queries (the seed's training split, labeled queries only; transductive: every training query
    and every test row) exchange messages with the models."""
    import numpy as np
    import torch

    from rpcli.core.routers.graph import model_features, unit_f32
    from rpcli.core.routers.training import split_queries

    train = ctx.train
    if train is None:
        raise ConfigError("a graph run whose checkpoint has no model states needs its training signal and "
                          "training-query embeddings to be loaded")
    train_vecs = ctx.train_vecs()
    cfg = lr.config
    labels = np.asarray(train.labels)
    Q = labels.shape[0]
    if len(train_vecs) != Q:
        raise ConfigError(f"{len(train_vecs)} training-query embeddings for {Q} training queries")
    tr_q, _ = split_queries(Q, float(cfg.get("val_split", 0.1)), lr.seed)
    tr_q = tr_q[(~np.isnan(labels[tr_q])).any(axis=1)]
    lr.n_train_members = int(tr_q.size)
    member_vecs = np.asarray(train_vecs, dtype=np.float32)[tr_q]
    if cfg.get("transductive"):
        member_vecs = np.concatenate([np.asarray(train_vecs, dtype=np.float32),
                                      np.asarray(ctx.test_vecs(), np.float32)])
    dev = torch.device(lr.device)
    xm = torch.as_tensor(model_features(lr.profile_vecs, cfg.get("profile_norm", "raw")), device=dev)
    xq = torch.as_tensor(unit_f32(member_vecs), device=dev)
    return lr.net.model_states(xm, xq, torch.arange(len(member_vecs), device=dev))


class GraphRouter(Router):
    name = "graph"
    Config = GraphOptions
    caps = Capabilities(seeded=True, checkpoint=True, device=True, labels=True, new_model="profile")
    order = 30
    title = "Graph"
    summary = "GraphRouter: a query-model GAT with an edge predictor, trained on per-query labels."
    description = ("GraphRouter: a query-model GAT with an edge predictor, trained on per-query multi-hot labels."
                   "\n\n--preset recommended trains a stable, fast variant (docs/fidelity.md); the default stays "
                   "the original's settings.\n\nLabels come from the mode's pairwise file (the best models of each query are positives, "
                   "beaten ones negatives, unmentioned ones masked). Test queries are attached at inference unless "
                   "--transductive. One self-describing ckpt.pt is written per seed; the best val_perf checkpoint "
                   "is kept.")
    example = "rp route graph --profile profile-0d9e --preset recommended --seeds 0,1,2"

    def run(self, ctx, opts, seed):
        from rpcli.core.routers.graph import run

        return run(ctx, opts, seed)

    def load(self, run_dir, ctx, *, seed=0, n_seeds=1, opts=None, recorded=None, new_candidates=False):
        import torch

        from rpcli.core.routers.graph import load_checkpoint

        lr = load_net(run_dir, seed, n_seeds, self.name, ctx, new_candidates, load_checkpoint)
        dev = torch.device(lr.device)
        with torch.no_grad():
            states = None if new_candidates else lr.ckpt.get("model_states")
            if states:
                lr.states_from = "checkpoint"
                states = [torch.as_tensor(h, device=dev) for h in states]
            else:
                lr.states_from = "training graph"
                states = _model_states(lr, ctx)
            lr.scorer = _Scorer(lr, states)
        return lr

    def reroute_info(self, lr, recorded: dict) -> dict:
        want = (recorded or {}).get("n_train_queries")
        if want is not None and int(want) != lr.n_train_members:
            raise ConfigError(f"the GraphRouter was trained on {want} training queries, the new data gives "
                              f"{lr.n_train_members}: its training graph cannot be rebuilt")
        return {"layout": "transductive" if lr.config.get("transductive") else "inductive",
                "new_model_nodes_attached": True}


ROUTER = GraphRouter()
