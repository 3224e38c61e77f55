"""Which MatMuls to keep in fp32: int8/fp32 decision agreement over all dev pairs for several
choices, from a finished run's fp32 export. The figures behind train.py's FP32_NODES.

    python quant_sweep.py WORK_DIR [--shared ../shared]      (WORK_DIR holds model.fp32.onnx and tok/)
"""
import argparse
import os
import tempfile

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoTokenizer

import data
import train


def ffn_out(layers):
    return [f"/bert/encoder/layer.{l}/output/dense/MatMul" for l in layers]


VARIANTS = {
    "all int8": [],
    "fp32 FFN-out layer 0": ffn_out([0]),
    "fp32 FFN-out layers 0-1": ffn_out([0, 1]),
    "fp32 FFN-out layers 0-2": ffn_out([0, 1, 2]),
    "fp32 FFN-out layers 4-5": ffn_out([4, 5]),
    "fp32 FFN-out all layers": ffn_out(range(6)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
    args = ap.parse_args()
    fp32 = os.path.join(args.work, "model.fp32.onnx")
    names = {n.name for n in onnx.load(fp32).graph.node}
    tok = AutoTokenizer.from_pretrained(os.path.join(args.work, "tok"))
    max_len = 256
    devs = data.dev_sets(os.path.join(args.shared, "datasets"))
    ref = {k: train.predict_onnx(fp32, tok, v, max_len, 32).argmax(1) for k, v in devs.items()}
    total = sum(len(v) for v in devs.values())
    with tempfile.TemporaryDirectory() as tmp:
        for name, exclude in VARIANTS.items():
            missing = [n for n in exclude if n not in names]
            if missing:
                raise SystemExit(f"{fp32} has no node {missing[0]}: not a BERT-style export")
            out = os.path.join(tmp, "q.onnx")
            quantize_dynamic(fp32, out, per_channel=True, weight_type=QuantType.QInt8, nodes_to_exclude=exclude)
            # one text at a time, as slant runs dynamically quantized models
            agree = sum(int((train.predict_onnx(out, tok, v, max_len, 1).argmax(1) == ref[k]).sum()) for k, v in devs.items())
            print(f"{name:26} {os.path.getsize(out) / 1e6:5.1f} MB  agreement {agree / total:.4f}", flush=True)


if __name__ == "__main__":
    main()
