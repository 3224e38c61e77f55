"""Export the committed fp32 weights (models/…/hf) to an fp32 ONNX model folder, for the int8-vs-fp32
lever of the benchmark. Usage: python export_fp32.py MODEL_DIR OUT_DIR"""
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
m = json.load(open(os.path.join(src, "manifest.json")))
m["sha256"] = hashlib.sha256(open(path, "rb").read()).hexdigest()
m["name"] += "-fp32"
json.dump(m, open(os.path.join(out, "manifest.json"), "w"), indent=2)
