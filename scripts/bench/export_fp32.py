"""Export the committed weights (models/…/hf, fp16 on disk, run in fp32) to an fp32 ONNX model folder,
and a fully int8 one (no layer kept in fp32), for the quantization levers of the benchmark.
Usage: python export_fp32.py MODEL_DIR OUT_DIR [ALL_INT8_OUT_DIR]"""
import hashlib
import json
import os
import shutil
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
model = AutoModelForSequenceClassification.from_pretrained(os.path.join(src, "hf"), torch_dtype=torch.float32).eval()
tok = AutoTokenizer.from_pretrained(os.path.join(src, "hf"))
enc = tok(["NATO", "NATO"], ["The alliance met.", "Allies met in Brussels today."], padding=True, return_tensors="pt")
path = os.path.join(out, "model.onnx")
torch.onnx.export(model, (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]), path,
                  input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                  dynamic_axes={k: {0: "batch", 1: "sequence"} for k in ["input_ids", "attention_mask", "token_type_ids"]} | {"logits": {0: "batch"}},
                  opset_version=17)
shutil.copy(os.path.join(src, "tokenizer.json"), out)


def write_manifest(folder, path, suffix, quantization):
    m = json.load(open(os.path.join(src, "manifest.json")))
    m["sha256"] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    m["name"] += suffix
    m["quantization"] = quantization  # None: not batch-dependent, slant batches it
    json.dump(m, open(os.path.join(folder, "manifest.json"), "w"), indent=2)


write_manifest(out, path, "-fp32", None)
if len(sys.argv) > 3:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    q = sys.argv[3]
    os.makedirs(q, exist_ok=True)
    quantize_dynamic(path, os.path.join(q, "model.onnx"), per_channel=True, weight_type=QuantType.QInt8)
    shutil.copy(os.path.join(src, "tokenizer.json"), q)
    write_manifest(q, os.path.join(q, "model.onnx"), "-all-int8", "ONNX Runtime dynamic int8, per-channel weights (QInt8), all layers")
