"""What this CPU's int8 kernels can give over fp32: one FFN-shaped GEMM (M tokens x hidden x
4*hidden, the shape that dominates both tiers' cost) timed on one thread three ways: PyTorch fp32
(what the Python reference runs, on one window and on a batch of them), ONNX Runtime fp32, and ONNX
Runtime dynamic int8 (DynamicQuantizeLinear + MatMulInteger with int8 weights, the ops slant's int8
graph runs).

Why: slant's speed-up over the reference is bounded by how much faster an int8 GEMM runs than an
fp32 one on the CPU at hand, and that differs by instruction set (measured: about 2x on an AVX2-only
CPU, where int8 multiply-adds go through vpmaddubsw + vpmaddwd; more where VNNI fuses them). The
benchmark prints this next to the end-to-end ratio so two machines' figures can be told apart.

    python kernels.py [--tokens 96] [--hidden 384,768] [--batch 16] [--out kernels.json]
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper


def best_seconds(f, reps=50, rounds=5):
    f()
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        best = min(best, (time.perf_counter() - t) / reps)
    return best


def ort_session(nodes, inits, m, n, k):
    graph = helper.make_graph(nodes, "gemm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def measure(m, k, n, batch):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((k, n)).astype(np.float32)
    x = rng.standard_normal((m, k)).astype(np.float32)
    fp32 = ort_session([helper.make_node("MatMul", ["x", "w"], ["y"])], [numpy_helper.from_array(w, "w")], m, n, k)
    scale = np.abs(w).max(0) / 127  # per output channel, as the shipped models' weights
    wq = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    int8 = ort_session([helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
                        helper.make_node("MatMulInteger", ["xq", "wq", "xz"], ["acc"]),
                        helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
                        helper.make_node("Mul", ["accf", "xs"], ["xsw"]),
                        helper.make_node("Mul", ["xsw", "ws"], ["y"])],
                       [numpy_helper.from_array(wq, "wq"), numpy_helper.from_array(scale.astype(np.float32), "ws")], m, n, k)
    # the reference multiplies batches of windows at once (more rows per GEMM); per row it may run
    # faster than on one window, so its rate is the better of the two shapes
    xt, xb, wt = torch.from_numpy(x), torch.from_numpy(np.tile(x, (batch, 1))), torch.from_numpy(w)
    with torch.inference_mode():
        t_torch = min(best_seconds(lambda: xt @ wt), best_seconds(lambda: xb @ wt, reps=5) / batch)
    t_fp32 = best_seconds(lambda: fp32.run(None, {"x": x}))
    t_int8 = best_seconds(lambda: int8.run(None, {"x": x}))
    macs = m * k * n
    return {"shape": [m, k, n], "torch_fp32_gmac_s": round(macs / t_torch / 1e9, 1), "ort_fp32_gmac_s": round(macs / t_fp32 / 1e9, 1),
            "ort_int8_gmac_s": round(macs / t_int8 / 1e9, 1), "int8_over_torch_fp32": round(t_torch / t_int8, 2),
            "int8_over_ort_fp32": round(t_fp32 / t_int8, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=96, help="rows of the GEMM: a typical window's length")
    ap.add_argument("--hidden", default="384,768", help="hidden sizes (fast tier, accurate tier)")
    ap.add_argument("--batch", type=int, default=16, help="windows per batch in the Python reference")
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(1)
    res = {"threads": 1, "gemms": [measure(args.tokens, h, 4 * h, args.batch) for h in map(int, args.hidden.split(","))]}
    text = json.dumps(res, indent=2)
    if args.out:
        open(args.out, "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
