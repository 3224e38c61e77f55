"""Write a model folder's README.md (model card) from its manifest.json, plus the recipe
comparison given as other manifests. Usage:
    python model_card.py MODEL_DIR [OTHER_RUN_MANIFEST.json ...]
"""
import json
import os
import sys

model_dir = sys.argv[1]
m = json.load(open(os.path.join(model_dir, "manifest.json")))
others = [json.load(open(p)) for p in sys.argv[2:]]
tr = m["training"]
size_mb = os.path.getsize(os.path.join(model_dir, "model.onnx")) / 1e6


def f(x):
    return "–" if x is None else f"{x:.3f}"


lines = [
    f"# {m['name']}: stance toward a target, paragraph by paragraph",
    "",
    "A target-conditioned cross-encoder: input `[CLS] target [SEP] text [SEP]`, output P(against), P(neutral), P(favor).",
    f"Base model {m['base_model']['name']} ({m['base_model']['licence']}, from {m['base_model']['obtained_from']}), all layers fine-tuned.",
    f"`model.onnx` is {m['quantization']} ({size_mb:.1f} MB); `hf/` holds the fine-tuned weights in fp16 with their config and tokenizer.",
    f"Max sequence length {m['max_seq_len']} tokens (slant windows longer paragraphs). Text preprocessing: capital \"US\" becomes \"U.S.\" (the uncased vocabulary reads \"US\" as \"us\"); the target for the United States is fed as \"the United States\".",
    "",
    "## Training",
    f"- Recipe `{tr['recipe']}`, seed {tr['seed']}, up to {tr['epochs']} in-domain epochs; best epoch by news-stance dev macro-F1: {tr['best_epoch']}.",
    f"- Wall time {tr['wall_time_seconds'] / 60:.0f} min on {tr['threads']} CPU threads (fp32, no autocast). Rebuild: `scripts/train/run.sh`.",
    "- Data mix (examples): " + ", ".join(f"{k} {v}" for k, v in tr["data_mix"].items()) + ".",
    "- news-stance is split train/dev by article (sha1 of article_id, 20% dev); only present (non-absent) targets are training pairs: absence is slant's mention detection's job.",
    "- Out-of-domain warm-up (recipe `warmup`): one epoch, max length 128, batch 32, lr 5e-5, over capped samples of NewsMTSC (sentiment toward a named entity, as the closest signal to stance: negative→against, positive→favor), RUW (Russia/Ukraine targets), SemEval-2016 (official target names), VAST dev, and BASIL phrase-level polarities with the whole paragraph as context (the longest news contexts available).",
    "- In-domain: news-stance train, max length 256, batch 16, lr 4e-5, linear warm-up/decay, cross-entropy weighted by inverse square-root class frequency.",
    "",
    "## Recipes compared (news-stance dev macro-F1 per epoch)",
    "",
    "| recipe | " + " | ".join(f"epoch {i}" for i in range(1, 7)) + " | best |",
    "|---|" + "---|" * 7,
]
for run in [m] + others:
    h = [x for x in run["training"]["history"] if x["stage"] == "news-stance"]
    cells = [f(x["dev"]["news-stance-dev"]["macro_f1"]) for x in h] + ["–"] * (6 - len(h))
    warm = [x for x in run["training"]["history"] if x["stage"] == "warmup"]
    swap = run["training"]["data_mix"].get("news-stance-swapped-to-NATO")
    label = run["training"]["recipe"] + (f" + {swap} swapped pairs" if swap else "") + (f" (after warm-up: {f(warm[0]['dev']['news-stance-dev']['macro_f1'])})" if warm else "")
    lines.append(f"| {label} | " + " | ".join(cells) + f" | {f(max(x['dev']['news-stance-dev']['macro_f1'] for x in h))} |")
lines += [
    "",
    "## Dev metrics (fp32 → int8)",
    "",
    "| dev set | n | macro-F1 fp32 | macro-F1 int8 | F1 against | F1 neutral | F1 favor (int8) | int8/fp32 agreement |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]
agree = m["int8_fp32_agreement"]
for name, x in m["metrics"]["fp32"].items():
    i8 = m["metrics"]["int8"][name]
    lines.append(f"| {name} | {x['n']} | {f(x['macro_f1'])} | {f(i8['macro_f1'])} | {f(i8['f1']['against'])} | {f(i8['f1']['neutral'])} | {f(i8['f1']['favor'])} | {agree['per_set'][name]['batch1']:.4f} |")
lines += [
    "",
    f"int8/fp32 decision agreement over all {sum(x['n'] for x in m['metrics']['fp32'].values())} dev pairs: {agree['overall']['batch1']:.4f} one text at a time (how slant runs it), {agree['overall']['batch32']:.4f} in padded batches of 32.",
    "The news-stance dev split also chose the best epoch and the recipe, so its figure is optimistic; the NewsMTSC, RUW and SemEval rows are out of domain (sentences and tweets; sentiment is not stance).",
    "`slant eval` and `scripts/eval-dev.py` reproduce these on the native files, plus the hand-labelled seed fixtures.",
    "",
    "## Limits",
    "- Trained on 2,511 in-domain pairs; favor and against are the minority classes (F1 well below neutral's).",
    "- Long opinion paragraphs in a register unlike wire news (seed 000) are read less reliably than news; read scores as evidence to check, with the quoted paragraphs.",
    "- Stance toward user-defined targets works through the same input format, but was only trained on the three product targets plus the out-of-domain targets.",
    "",
    "See NOTICE for the base model's and the data sets' licences.",
]
open(os.path.join(model_dir, "README.md"), "w").write("\n".join(lines) + "\n")
