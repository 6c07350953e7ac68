"""Texts per second of each encoder path on the released data's queries, and its agreement with the torch path.

Texts: the distinct formatted texts of the test rows and of the standard mode's training queries (what the routers
embed), i.e. 1,612 texts on the released data. Every path encodes them with the embedding cache bypassed (the raw
encoder, no CachedEncoder), after one warm-up call that loads the model (and, for the ONNX paths, exports and
quantises it on first use; that one-off cost is reported separately as load_s). The paths are measured
interleaved, `--repeats` times each, in one run, so their ratios are comparable on a shared machine; the table
reports the best repeat and the CPU seconds (user + system of this process) of that repeat.

Agreement: per-text cosine between each path's vectors and the torch path's (today's default): min and mean, and
the maximum absolute difference of any coordinate.

Usage:
  python bench/encoder_speed.py [--data ../shared/data/routeprofile] [--paths minilm-torch,minilm-onnx,minilm-int8]
                                [--limit N] [--repeats 2] [--out bench/results/encoder_speed.json]
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
PATHS = ("minilm-torch", "minilm-onnx", "minilm-int8")




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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated encoder specs; the first is the "
                    "reference for agreement unless --reference says otherwise")
    ap.add_argument("--reference", default="minilm-torch", help="the spec whose vectors the others are compared to")
    ap.add_argument("--limit", type=int, default=None, help="every k-th text so that about N remain (a quick run)")
    ap.add_argument("--repeats", type=int, default=2)
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
    encoders, load_s, ids = {}, {}, {}
    for p in paths:
        t0 = time.perf_counter()
        # cache_dir only places the ONNX export (cache_root/onnx); the embedding cache is bypassed via .inner
        enc = resolve_encoder(p, cache_root / "emb")
        enc.inner.encode(texts[:2])
        load_s[p] = time.perf_counter() - t0
        encoders[p], ids[p] = enc.inner, enc.id
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
    rows = []
    for p in paths:
        c = cosines(vecs[p], ref)
        b = best[p]
        rows.append({"path": p, "id": ids[p], "texts": len(texts), "tokens": n_tokens,
                     "wall_s": round(b["wall_s"], 3), "cpu_s": round(b["cpu_s"], 3),
                     "texts_per_s": round(len(texts) / b["wall_s"], 1),
                     "texts_per_cpu_s": round(len(texts) / max(b["cpu_s"], 1e-9), 1),
                     "threads": torch.get_num_threads(),
                     "speedup": round(best[args.reference]["wall_s"] / b["wall_s"], 2),
                     "load_s": round(load_s[p], 2), "cos_min": float(c.min()), "cos_mean": float(c.mean()),
                     "max_abs_diff": float(np.abs(vecs[p] - ref).max())})
    print(f"| encoder | id | texts/s | texts per CPU s | x {args.reference} | cosine min | cosine mean | "
          "max abs diff | load s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['path']} | {r['id']} | {r['texts_per_s']:.1f} | {r['texts_per_cpu_s']:.1f} | "
              f"{r['speedup']:.2f} | {r['cos_min']:.6f} | {r['cos_mean']:.6f} | {r['max_abs_diff']:.2e} | "
              f"{r['load_s']:.1f} |")
    print(f"\n{len(texts)} texts, {n_tokens} tokens; torch threads {torch.get_num_threads()}; {os.cpu_count()} CPUs; "
          f"load average (1 min) per round {loads}")
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
