"""Python reference for the benchmark: Hugging Face transformers on the fp32 weights of the same
fine-tuned model, batch 16, 2 threads, over exactly the (paragraph, target) pairs slant scored,
with the same windows for long paragraphs and the same calibrated softmax.

    python reference.py --model models/stance-minilm-l6 --scores scores.jsonl --out ref.json
"""
import argparse
import json
import os
import re
import resource
import time

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

US_CAPS = re.compile(r"\bUS\b")  # the manifest's "us_caps_to_u.s." preprocessing, as slant applies it
WINDOW_OVERLAP = 64  # slant's default (ModelOptions::window_overlap)


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
    ap.add_argument("--labels-out", help="write the reference's label per pair, one per line, in input order")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    manifest = json.load(open(os.path.join(args.model, "manifest.json")))
    labels = manifest["labels"]
    max_len = manifest["max_seq_len"]
    target_labels = {"NATO": "NATO", "US": "the United States", "Europe": "Europe"}
    pairs = [json.loads(l) for l in open(args.scores)]

    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(os.path.join(args.model, "hf"))
    model = AutoModelForSequenceClassification.from_pretrained(os.path.join(args.model, "hf"), torch_dtype=torch.float32)
    model.eval()
    t_load = time.perf_counter() - t0

    firsts = [target_labels.get(p["target"], p["target"]) for p in pairs]
    texts = [US_CAPS.sub("U.S.", p["text"]) for p in pairs]
    temperature = manifest.get("calibration", {}).get("temperature", 1.0)
    t1 = time.perf_counter()
    # Same input as slant: long texts are cut into the same overlapping token windows (never
    # truncated) and window probabilities are averaged weighted by window length.
    windows = []  # (pair index, input ids, token type ids, weight)
    for i, (first, text) in enumerate(zip(firsts, texts)):
        a = tok(first, add_special_tokens=False)["input_ids"]
        b = tok(text, add_special_tokens=False)["input_ids"]
        budget = max(16, max_len - len(a) - 3)
        for r in window_ranges(len(b), budget, min(WINDOW_OVERLAP, budget // 2)):
            ids = [tok.cls_token_id] + a + [tok.sep_token_id] + b[r.start : r.stop] + [tok.sep_token_id]
            windows.append((i, ids, [0] * (len(a) + 2) + [1] * (len(ids) - len(a) - 2), max(1, r.stop - r.start)))
    windows.sort(key=lambda w: len(w[1]))  # length-sorted batches, as any careful script would do
    sums = torch.zeros(len(pairs), len(labels))
    weights = torch.zeros(len(pairs), 1)
    with torch.inference_mode():
        for k in range(0, len(windows), args.batch_size):
            batch = windows[k : k + args.batch_size]
            width = max(len(w[1]) for w in batch)
            ids = torch.tensor([w[1] + [tok.pad_token_id] * (width - len(w[1])) for w in batch])
            types = torch.tensor([w[2] + [0] * (width - len(w[2])) for w in batch])
            mask = torch.tensor([[1] * len(w[1]) + [0] * (width - len(w[1])) for w in batch])
            probs = torch.softmax(model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits / temperature, -1)
            for w, p in zip(batch, probs):
                sums[w[0]] += w[3] * p
                weights[w[0]] += w[3]
    preds = (sums / weights).argmax(-1).tolist()
    t_infer = time.perf_counter() - t1
    agree = sum(labels[k] == p["label"] for k, p in zip(preds, pairs)) / max(1, len(pairs))
    single_window = [(labels[k] == p["label"]) for k, p in zip(preds, pairs) if p.get("windows", 1) == 1]
    if args.labels_out:
        with open(args.labels_out, "w") as f:
            f.writelines(labels[k] + "\n" for k in preds)
    json.dump({
        "pairs": len(pairs),
        "paragraphs": len({(p["doc_id"], p["paragraph"]) for p in pairs}),
        "load_seconds": t_load,
        "infer_seconds": t_infer,
        "seconds": t_load + t_infer,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "label_agreement_with_slant": agree,
        "label_agreement_single_window": sum(single_window) / max(1, len(single_window)),
        "windows": len(windows),
    }, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
