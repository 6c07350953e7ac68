"""Time the synthetic dataset generator at scale and print the size of every file it writes.

    python bench/synth_scale.py                    # 120 models, 12 tasks x 9,000 training queries (108k)
    python bench/synth_scale.py --train 20000      # any flag of generate_dataset can be changed
    python bench/synth_scale.py --out /tmp/big     # keep the files (default: a temporary directory, removed)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rpcli.core.data.synth import generate_dataset  # noqa: E402


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run(out: Path, args) -> dict:
    t0 = time.perf_counter()
    summary = generate_dataset(out, seed=args.seed, n_models=args.models, n_candidates=args.candidates,
                               n_tasks=args.tasks, n_domains=args.domains, train_queries_per_task=args.train,
                               test_queries_per_task=args.test, pairs_per_task=args.pairs)
    secs = time.perf_counter() - t0
    print(f"generate_dataset: {secs:.2f} s  (models={summary['n_models']}, candidates={summary['n_candidates']}, "
          f"tasks={len(summary['routing_tasks'])}, training queries={summary['n_train_queries']:,}, "
          f"test rows={summary['n_test_rows']:,}, pairs={summary['pairs']})")
    total = 0
    for rel in summary["files"]:
        n = (out / rel).stat().st_size
        total += n
        print(f"  {rel:48s} {_size(n):>10s}")
    print(f"  {'total':48s} {_size(total):>10s}")
    san = summary["sanity"]
    print(f"sanity: best single {san['best_single']['score']:.4f} ({san['best_single']['model']}), "
          f"per-task best {san['per_task_best']['score']:.4f}, oracle {san['oracle']:.4f}, "
          f"held-out {summary['held_out']} best on {san['held_out_best_rows']} rows")
    return {"seconds": secs, "bytes": total, "summary": summary}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=120)
    ap.add_argument("--candidates", type=int, default=6)
    ap.add_argument("--tasks", type=int, default=12)
    ap.add_argument("--domains", type=int, default=4)
    ap.add_argument("--train", type=int, default=9000, help="training queries per task")
    ap.add_argument("--test", type=int, default=200, help="test queries per task")
    ap.add_argument("--pairs", type=int, default=80, help="pairs per task")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="keep the dataset here instead of a temporary directory")
    args = ap.parse_args(argv)
    if args.out is not None:
        run(args.out, args)
    else:
        with tempfile.TemporaryDirectory(prefix="rp-synth-") as tmp:
            run(Path(tmp), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
