"""`python -m minilvdm train-evaluators`: retrain the evaluator networks and rewrite
minilvdm/weights/ (weights, held-out accuracy and CHECKSUMS.json).

The committed weights come from exactly this command (fixed steps, any profile). On the
same torch version and thread count a CPU rerun reproduces them; elsewhere the numbers
differ slightly and the held-out accuracy test is the check.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..eval.evaluators import KINDS, WEIGHTS_DIR, WEIGHTS_ENV, save_evaluator, sha256, weights_dir
from ..eval.train_evaluators import held_out_metrics, train_evaluator


def add_arguments(parser):
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--steps", type=int, default=None, help="override the fixed step count (smoke tests)")
    parser.add_argument(
        "--out", default=None, help=f"weights folder (default ${WEIGHTS_ENV} or {WEIGHTS_DIR})"
    )


def run(args):
    out = Path(args.out) if args.out else weights_dir()
    sums_path = out / "CHECKSUMS.json"
    for kind in args.kinds:
        print(f"== {kind}", flush=True)
        model, trainer = train_evaluator(kind, steps=args.steps)
        metrics = held_out_metrics(model)
        metrics |= {
            "train_steps": trainer.step,
            "train_seconds_cpu": round(trainer.seconds, 1),
            "torch": str(torch.__version__),
            "threads": torch.get_num_threads(),
        }
        path = save_evaluator(model, out / f"{kind}.pt", metrics)
        sums = json.loads(sums_path.read_text()) if sums_path.is_file() else {}  # read late: runs may overlap
        sums[path.name] = sha256(path)
        print(json.dumps(metrics, indent=1))
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, sha256 {sums[path.name][:16]}...)")
        sums_path.write_text(json.dumps(dict(sorted(sums.items())), indent=1) + "\n")
    return 0
