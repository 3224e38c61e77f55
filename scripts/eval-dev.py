"""Evaluate the model on every dev set in ../shared/datasets (native formats) and the seed
fixtures, before and after calibration, and print one table.

    python3 scripts/eval-dev.py [--model models/stance-minilm-l6] [--shared ../shared]

"Before" runs a copy of the model folder with the calibration removed from its manifest.
VAST dev trained the model (it is the only VAST split shipped): its row is not a held-out figure.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def evaluate(slant, model, paths):
    out = subprocess.run([slant, "eval", *paths, "--model", model, "--json"], check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "stance-minilm-l6"))
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    args = ap.parse_args()
    d = os.path.join(args.shared, "datasets")
    sets = [
        ("news-stance dev", os.path.join(d, "news-stance", "train.jsonl")),
        ("seed fixtures", os.path.join(REPO, "datasets", "fixtures", "seeds.jsonl")),
        ("NewsMTSC rw dev", os.path.join(d, "newsmtsc", "newsmtsc-rw-hf_dev.jsonl")),
        ("NewsMTSC mt dev", os.path.join(d, "newsmtsc", "newsmtsc-mt-hf_dev.jsonl")),
        ("RUW val", os.path.join(d, "ruw", "val.csv")),
        ("SemEval-2016 val", os.path.join(d, "semeval2016")),
        ("VAST dev (trained on)", os.path.join(d, "vast", "vast_dev.csv")),
    ]
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    slant = os.path.join(REPO, "target", "release", "slant")
    manifest = json.load(open(os.path.join(args.model, "manifest.json")))
    tmp = tempfile.mkdtemp()
    try:
        raw = os.path.join(tmp, "model")
        shutil.copytree(args.model, raw, ignore=shutil.ignore_patterns("hf"))
        m = dict(manifest, calibration=None)
        json.dump(m, open(os.path.join(raw, "manifest.json"), "w"), indent=2)
        before = evaluate(slant, raw, [p for _, p in sets])
        after = evaluate(slant, args.model, [p for _, p in sets]) if manifest.get("calibration") else None
    finally:
        shutil.rmtree(tmp)
    cal = manifest.get("calibration")
    print(f"model {manifest['name']} sha256 {manifest['sha256'][:12]}; calibration: " + (f"T={cal['temperature']:.2f} fitted on {', '.join(os.path.basename(f) for f in cal['fitted_on'])}" if cal else "none"))
    hdr = f"{'set':24}{'n':>6}{'macro-F1':>9}{'F_avg':>7}{'F1 ag':>7}{'F1 ne':>7}{'F1 fa':>7}{'ECE':>7}{'ECE cal':>8}{'base F1':>8}{'detect F1':>10}"
    print(hdr)
    for i, (name, _) in enumerate(sets):
        b = before[i]
        pc = b["per_class"]
        ece_after = f"{after[i]['ece']:8.3f}" if after else f"{'–':>8}"
        det = f"{b['detection']['f1']:10.3f}" if "detection" in b else f"{'–':>10}"
        print(f"{name:24}{b['n']:6d}{b['macro_f1']:9.3f}{b['f_avg']:7.3f}{pc['against']['f1']:7.3f}{pc['neutral']['f1']:7.3f}{pc['favor']['f1']:7.3f}{b['ece']:7.3f}{ece_after}{b['baseline']['macro_f1']:8.3f}{det}")


if __name__ == "__main__":
    main()
