"""Compare training runs on dev and record the comparison in the shipped model's manifest.

    python compare_runs.py --shipped WORK_SHIPPED --other WORK_OTHER [--other ...] --manifest models/NAME/manifest.json

Each WORK is a --work folder of multitask.py (training.json, history.json). The figures are the dev
metrics of each run's best epoch (PyTorch, before export), the same ones multitask.py selects
epochs by, so runs compare on equal terms; the manifest's `training.compared_with` keeps them and
the model card shows them. Used for the fast tier's distillation trial (plain vs distilled).
"""
import argparse
import json
import os

from multitask import headline, selection_score


def summary(work):
    tr = json.load(open(os.path.join(work, "training.json")))
    hist = json.load(open(os.path.join(work, "history.json")))
    best = next(h for h in hist if h["epoch"] == tr["best_epoch"])
    return {"distill": tr["distill"], "epochs": tr["epochs"], "best_epoch": tr["best_epoch"],
            "batches_per_epoch": [h["sample"]["batches"] for h in hist],
            "wall_time_seconds": tr["wall_time_seconds"], "threads": tr["threads"], "precision": tr["precision"],
            "selection_score": round(selection_score(best["dev"]), 4),
            "dev": {k: round(v, 4) for k, v in headline(best["dev"]).items()}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shipped", required=True)
    ap.add_argument("--other", action="append", required=True)
    ap.add_argument("--manifest", required=True)
    args = ap.parse_args()
    runs = [{"shipped": True, **summary(args.shipped)}] + [{"shipped": False, **summary(w)} for w in args.other]
    best = max(runs, key=lambda r: r["selection_score"])
    if not best["shipped"]:
        raise SystemExit(f"error: a run that is not shipped scores higher on dev ({best['selection_score']} > "
                         f"{runs[0]['selection_score']}); ship that one (multitask.py --finish --work IT)")
    m = json.load(open(args.manifest))
    m["training"]["compared_with"] = {
        "rule": "keep the run with the higher mean of in-domain dev F1s (stance, editorial, register, loaded) at its best epoch",
        "runs": runs}
    with open(args.manifest, "w", encoding="utf-8") as f:
        json.dump(m, f, indent=2)
        f.write("\n")
    for r in runs:
        print(("shipped " if r["shipped"] else "other   ") + json.dumps({k: r[k] for k in ("distill", "epochs", "selection_score", "dev")}))


if __name__ == "__main__":
    main()
