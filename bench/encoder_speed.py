"""Texts per second of each encoder path on the released data's queries, and its agreement with the torch path.

Texts: the distinct formatted texts of the test rows and of the standard mode's training queries (what the routers
embed), i.e. 1,612 texts on the released data. Every path encodes them with the embedding cache bypassed (the raw
encoder, no CachedEncoder), after one warm-up call that loads the model (and, for the ONNX paths, exports and
quantises it on first use, and for minilm-static distils the token vectors (a one-off build); that cost is
reported separately as load_s). The paths are measured interleaved, `--repeats` times each, in one run, so their
ratios are comparable on a shared machine; the table reports the best repeat and the CPU seconds (user + system of
this process) of that repeat.

Single queries: right after that warm-up call, `--single` texts (evenly spaced) are encoded one per call, as
`rp route query` and `rp serve` encode; `single` records p50 / p99 / mean ms of wall time per call (per-process
caches such as the static encoder's word cache warm up over these calls, as a server's would).

Agreement: per-text cosine between each path's vectors and the torch path's (today's default): min and mean, and
the maximum absolute difference of any coordinate; null for a path whose vectors live in another space (another
width, e.g. minilm-static's 256 PCA dimensions). For every path, on up to `--quality-texts` texts (evenly spaced):
sim_corr, the Pearson correlation of the pairwise cosine similarities with the reference's, and knn10_overlap, the
mean share of each text's 10 nearest neighbours (by cosine) that the reference also has among its 10.

Usage:
  python bench/encoder_speed.py [--data ../shared/data/routeprofile]
                                [--paths minilm-torch,minilm-onnx,minilm-int8,minilm-static]
                                [--limit N] [--repeats 2] [--single 200] [--out bench/results/encoder_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import commit  # noqa: E402  (one commit() for every bench)

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rpcli.core.data import load_dataset  # noqa: E402
from rpcli.core.encoder import resolve_encoder  # noqa: E402
from rpcli.core.routers.query_text import query_text  # noqa: E402
from rpcli.core.routers.training import training_signal  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "routeprofile"
PATHS = ("minilm-torch", "minilm-onnx", "minilm-int8", "minilm-static")




def released_texts(root: Path) -> list[str]:
    """The distinct texts the routers embed: test rows' formatted queries, then the standard training queries."""
    ds = load_dataset(root)
    test = [query_text(r, "formatted") for r in ds.test_rows]
    sig = training_signal(ds, "standard", list(ds.candidates), "formatted")
    train = list(sig.texts) if sig is not None else []
    return list(dict.fromkeys(test + train))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def structure_agreement(v: np.ndarray, ref: np.ndarray, k: int = 10) -> tuple[float, float]:
    """(Pearson correlation of the pairwise cosines, mean top-k neighbour overlap) of `v` against `ref` [N, *]."""
    def sims(x):
        x = x.astype(np.float64)
        x = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)
        return x @ x.T
    a, b = sims(v), sims(ref)
    iu = np.triu_indices(len(v), 1)
    corr = float(np.corrcoef(a[iu], b[iu])[0, 1])
    np.fill_diagonal(a, -np.inf)
    np.fill_diagonal(b, -np.inf)
    na, nb = np.argsort(-a, 1, kind="stable")[:, :k], np.argsort(-b, 1, kind="stable")[:, :k]
    return corr, float(np.mean([len(set(x) & set(y)) / k for x, y in zip(na, nb)]))


def single_times(enc, texts: list[str], n: int) -> dict | None:
    """Wall ms per call of `n` evenly spaced texts encoded one per call."""
    if n <= 0:
        return None
    picks = texts[::max(1, len(texts) // n)][:n]
    ms = []
    for t in picks:
        t0 = time.perf_counter()
        enc.encode([t])
        ms.append((time.perf_counter() - t0) * 1e3)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 4), "p99_ms": round(float(np.percentile(ms, 99)), 4),
            "mean_ms": round(float(np.mean(ms)), 4), "n": len(ms)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated encoder specs; the first is the "
                    "reference for agreement unless --reference says otherwise")
    ap.add_argument("--reference", default="minilm-torch", help="the spec whose vectors the others are compared to")
    ap.add_argument("--limit", type=int, default=None, help="every k-th text so that about N remain (a quick run)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--single", type=int, default=200, help="texts encoded one per call after the warm-up (0: none)")
    ap.add_argument("--quality-texts", type=int, default=400,
                    help="texts (evenly spaced) for sim_corr and knn10_overlap")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch and ONNX Runtime intra-op threads (default: torch's, i.e. the cores). On a shared "
                         "machine --threads 1 makes CPU seconds a fair measure: no thread spins waiting for another")
    ap.add_argument("--export-cache", type=Path, default=None,
                    help="folder for the ONNX exports (default: a temporary folder, so load_s includes the export)")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "encoder_speed.json",
                    help="write the results as JSON here")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"dataset not found: {args.data}", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    paths = [p for p in args.paths.split(",") if p]
    if args.reference not in paths:
        paths.insert(0, args.reference)
    texts = released_texts(args.data)
    if args.limit and args.limit < len(texts):
        step = -(-len(texts) // args.limit)
        texts = texts[::step]
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)  # the ONNX paths take their thread count from torch's
    tmp = tempfile.TemporaryDirectory(prefix="rp-bench-enc-")
    cache_root = args.export_cache or Path(tmp.name)
    encoders, load_s, ids, single = {}, {}, {}, {}
    for p in paths:
        t0 = time.perf_counter()
        # cache_dir only places the ONNX export (cache_root/onnx) and the static build (cache_root/static); the
        # embedding cache is bypassed via .inner
        enc = resolve_encoder(p, cache_root / "emb")
        enc.inner.encode(texts[:2])
        load_s[p] = time.perf_counter() - t0
        encoders[p], ids[p] = enc.inner, enc.id
        single[p] = single_times(enc.inner, texts, args.single)
        if single[p]:
            print(f"  single {p:14s} p50 {single[p]['p50_ms']:.3f} ms, p99 {single[p]['p99_ms']:.3f} ms "
                  f"({single[p]['n']} texts)", file=sys.stderr, flush=True)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(encoders[args.reference].model_dir), local_files_only=True)
    n_tokens = int(sum(len(x) for x in tok(texts)["input_ids"]))
    best: dict[str, dict] = {}
    vecs: dict[str, np.ndarray] = {}
    loads = [round(os.getloadavg()[0], 2)]
    for rep in range(args.repeats):
        for p in paths:
            c0, t0 = os.times(), time.perf_counter()
            v = encoders[p].encode(texts)
            wall = time.perf_counter() - t0
            c1 = os.times()
            cpu = (c1.user - c0.user) + (c1.system - c0.system)
            vecs[p] = v
            print(f"  repeat {rep} {p:14s} {len(texts) / wall:7.1f} texts/s ({wall:.1f} s wall, {cpu:.1f} s CPU, "
                  f"load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
            if p not in best or wall < best[p]["wall_s"]:
                best[p] = {"wall_s": wall, "cpu_s": cpu}
        loads.append(round(os.getloadavg()[0], 2))
    tmp.cleanup()
    ref = vecs[args.reference]
    qi = np.arange(0, len(texts), max(1, -(-len(texts) // args.quality_texts)))
    rows = []
    for p in paths:
        same_space = vecs[p].shape == ref.shape
        c = cosines(vecs[p], ref) if same_space else None
        sim_corr, knn = structure_agreement(vecs[p][qi], ref[qi])
        b = best[p]
        rows.append({"path": p, "id": ids[p], "texts": len(texts), "tokens": n_tokens,
                     "wall_s": round(b["wall_s"], 3), "cpu_s": round(b["cpu_s"], 3),
                     "texts_per_s": round(len(texts) / b["wall_s"], 1),
                     "texts_per_cpu_s": round(len(texts) / max(b["cpu_s"], 1e-9), 1),
                     "threads": torch.get_num_threads(),
                     "speedup": round(best[args.reference]["wall_s"] / b["wall_s"], 2),
                     "load_s": round(load_s[p], 2), "dim": int(vecs[p].shape[1]),
                     "cos_min": float(c.min()) if same_space else None,
                     "cos_mean": float(c.mean()) if same_space else None,
                     "max_abs_diff": float(np.abs(vecs[p] - ref).max()) if same_space else None,
                     "sim_corr": round(sim_corr, 4), "knn10_overlap": round(knn, 4), "quality_texts": len(qi),
                     **({"single": single[p]} if single[p] else {})})

    def f(x, spec):
        return "n/a" if x is None else format(x, spec)
    print(f"| encoder | id | dim | texts/s | texts per CPU s | x {args.reference} | ms/query p50 | cosine min | "
          "cosine mean | max abs diff | sim corr | kNN@10 | load s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['path']} | {r['id']} | {r['dim']} | {r['texts_per_s']:.1f} | {r['texts_per_cpu_s']:.1f} | "
              f"{r['speedup']:.2f} | {f(r.get('single', {}).get('p50_ms'), '.3f')} | {f(r['cos_min'], '.6f')} | "
              f"{f(r['cos_mean'], '.6f')} | {f(r['max_abs_diff'], '.2e')} | {r['sim_corr']:.3f} | "
              f"{r['knn10_overlap']:.3f} | {r['load_s']:.1f} |")
    print(f"\n{len(texts)} texts, {n_tokens} tokens; torch threads {torch.get_num_threads()}; {os.cpu_count()} CPUs; "
          f"load average (1 min) per round {loads}; sim corr and kNN@10 on {len(qi)} texts")
    if args.out is not None:
        doc = {"bench": "encoder_speed", "commit": commit(),
               "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "command": "python bench/encoder_speed.py " + " ".join(sys.argv[1:] if argv is None else argv),
               "data": str(args.data.resolve()), "reference": args.reference, "repeats": args.repeats,
               "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
               "onnxruntime": _version("onnxruntime"), "cpus": os.cpu_count(), "python": platform.python_version(),
               "load_average_per_round": loads, "rows": rows}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


def _version(mod: str):
    try:
        return __import__(mod).__version__
    except ImportError:
        return None


if __name__ == "__main__":
    sys.exit(main())
