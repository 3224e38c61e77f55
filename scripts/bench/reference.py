"""Python reference for the benchmark: Hugging Face transformers on the fp32 weights of the same
fine-tuned model, batch 16, 2 threads, over exactly the (paragraph, target) pairs slant scored.

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
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
    preds = []
    t1 = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(pairs), args.batch_size):
            enc = tok(firsts[i : i + args.batch_size], texts[i : i + args.batch_size], truncation="only_second",
                      max_length=max_len, padding=True, return_tensors="pt")
            preds.extend(model(**enc).logits.argmax(-1).tolist())
    t_infer = time.perf_counter() - t1
    agree = sum(labels[k] == p["label"] for k, p in zip(preds, pairs)) / max(1, len(pairs))
    single_window = [(labels[k] == p["label"]) for k, p in zip(preds, pairs) if p.get("windows", 1) == 1]
    json.dump({
        "pairs": len(pairs),
        "paragraphs": len({(p["doc_id"], p["paragraph"]) for p in pairs}),
        "load_seconds": t_load,
        "infer_seconds": t_infer,
        "seconds": t_load + t_infer,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "label_agreement_with_slant": agree,
        "label_agreement_single_window": sum(single_window) / max(1, len(single_window)),
    }, open(args.out, "w"), indent=2)


if __name__ == "__main__":
    main()
