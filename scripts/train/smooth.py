"""SmoothQuant-style rescaling of the inputs of chosen MatMuls in an fp32 ONNX graph, before dynamic
int8 quantization.

Why: dynamic int8 quantizes each MatMul's activation with one scale per tensor. In MPNet the FFN
output projections read GELU outputs with a few channels hundreds of times larger than the rest,
so one scale flattens every other channel to a handful of levels (measured on the base model: those
12 MatMuls alone cause ~90% of the int8 logit error). Dividing the activation's channel k by s_k and
multiplying row k of the weight by s_k leaves the fp32 function unchanged and moves the outlier into
the weights, which are quantized per output channel and tolerate it better (Xiao et al., 2023,
SmoothQuant). A post-LayerNorm encoder cannot fold 1/s into a LayerNorm (its output is also the
residual stream), and GELU sits before these MatMuls, so the division stays in the graph as one Mul.

Used by multitask.py's quantization sweep (`quantize`, recipes in `quant_candidates`); no command line.
"""
import re

import numpy as np


def matmul_inputs(model, pattern):
    """(node, activation input, weight initializer) for MatMuls whose name matches the pattern."""
    inits = {t.name: t for t in model.graph.initializer}
    out = []
    for n in model.graph.node:
        if n.op_type == "MatMul" and re.search(pattern, n.name) and n.input[1] in inits:
            out.append((n, n.input[0], inits[n.input[1]]))
    return out


def channel_maxima(fp32_path, tensors, feeds, threads=2):
    """Per-channel max |x| of the named intermediate tensors over the calibration feeds."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(fp32_path)
    known = {o.name for o in model.graph.output}
    for t in tensors:
        if t not in known:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(t))
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    # keep intermediate tensors addressable: no fusion may swallow them
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    maxima = {t: None for t in tensors}
    for feed in feeds:
        for t, v in zip(tensors, sess.run(list(tensors), feed)):
            m = np.abs(v).reshape(-1, v.shape[-1]).max(0)
            maxima[t] = m if maxima[t] is None else np.maximum(maxima[t], m)
    return maxima


def smooth(fp32_path, out_path, pattern, feeds, alpha=0.5, threads=2):
    """Write a function-equivalent fp32 graph whose matching MatMuls read x / s with weights s * W.
    Returns how many MatMuls were rescaled and the largest scale applied."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(fp32_path)
    targets = matmul_inputs(model, pattern)
    maxima = channel_maxima(fp32_path, sorted({x for _, x, _ in targets}), feeds, threads)
    largest = 0.0
    for node, x, w_init in targets:
        w = numpy_helper.to_array(w_init).astype(np.float32)  # (K, N): y = x @ w
        a = np.maximum(maxima[x], 1e-5)
        wmax = np.maximum(np.abs(w).max(1), 1e-5)
        s = (a ** alpha / wmax ** (1 - alpha)).astype(np.float32)
        s = np.clip(s, 1e-2, 1e3)
        largest = max(largest, float(s.max()))
        w_init.CopyFrom(numpy_helper.from_array((w * s[:, None]).astype(np.float32), w_init.name))
        inv = numpy_helper.from_array((1.0 / s).astype(np.float32), f"{node.name}/smooth_inv_scale")
        model.graph.initializer.append(inv)
        scaled = f"{x}/smoothed_for_{node.name}"
        mul = onnx.helper.make_node("Mul", [x, inv.name], [scaled], name=f"{node.name}/smooth")
        node.input[0] = scaled
        model.graph.node.insert(list(model.graph.node).index(node), mul)
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    return len(targets), largest
