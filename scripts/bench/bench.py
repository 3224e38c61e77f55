"""slant throughput benchmark, all figures from one run on one machine.

For each model tier (accurate, fast): `slant score` (default targets, paragraph records included)
on the first N paragraphs' worth of articles of ../shared/corpus/allsides-geo.jsonl, then the
Python reference (PyTorch fp32, batch 16, 2 threads) on exactly the inputs slant scored; inputs/s
(pairs + paragraph records), pairs/s, peak RSS, label agreement. For the default tier also cold and
cache-warm re-runs and 1k/2k/4k paragraphs for linearity; with --levers, ONNX Runtime settings
(one session vs the session pool, spinning, graph optimisation level, 1 thread, and the fp32
export where scripts/train ran here). Prints what
the machine offers (CPU model and flags, ONNX Runtime version, and what an int8 GEMM gains over an
fp32 one on it: kernels.py) so two machines can be compared.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TIERS = {"accurate": "stance-mpnet-base", "fast": "stance-minilm-l6"}
HIDDEN = {"accurate": 768, "fast": 384}  # the encoders' widths: the GEMM shapes kernels.py times


def run(cmd, env=None):
    """Run a command; return wall seconds and the peak RSS of that process in MB (wait4)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{err.decode(errors='replace')}")
    return secs, ru.ru_maxrss / 1024


def subset(corpus, n_paragraphs, path):
    """The first articles of the corpus until they hold at least n paragraphs."""
    total, docs = 0, 0
    with open(corpus, encoding="utf-8") as f, open(path, "w", encoding="utf-8") as out:
        for line in f:
            rec = json.loads(line)
            out.write(line)
            docs += 1
            total += sum(1 for p in rec["text"].split("\n") if p.strip())
            if total >= n_paragraphs:
                break
    return docs, total


def counts(path):
    recs = [json.loads(l) for l in open(path)]
    return len(recs), sum(1 for r in recs if r.get("kind", "stance") == "stance")


def fp32_model_dir(tier, model, work):
    """The tier's fp32 export (same weights and folded offsets as model.onnx, before int8), as a model
    folder slant can load; None where scripts/train has not run on this machine."""
    import hashlib

    fp32 = os.path.join(REPO, ".cache", "train-work", tier, "model.fp32.onnx")
    if not os.path.exists(fp32):
        return None
    d = os.path.join(work, f"{tier}-fp32")
    os.makedirs(d, exist_ok=True)
    m = json.load(open(os.path.join(model, "manifest.json")))
    h = hashlib.sha256()
    with open(fp32, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    m["sha256"] = h.hexdigest()
    json.dump(m, open(os.path.join(d, "manifest.json"), "w"))
    os.symlink(fp32, os.path.join(d, m["model_file"]))
    shutil.copy(os.path.join(model, m["tokenizer_file"]), os.path.join(d, m["tokenizer_file"]))
    return d


def machine(py):
    info = {}
    try:
        cpu = open("/proc/cpuinfo").read()
        info["cpu"] = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("model name")), "?")
        flags = next((l.split(":", 1)[1].split() for l in cpu.splitlines() if l.startswith("flags")), [])
        info["flags"] = sorted(f for f in flags if f.startswith(("avx", "amx", "fma", "f16c")) or f in ("sse4_2", "vnni"))
    except OSError:
        pass
    info["cores"] = os.cpu_count()
    info["onnxruntime"] = subprocess.run([py, "-c", "import onnxruntime; print(onnxruntime.__version__)"], capture_output=True, text=True).stdout.strip()
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(REPO, "..", "shared", "corpus", "allsides-geo.jsonl"))
    ap.add_argument("--tiers", default="accurate,fast")
    ap.add_argument("--paragraphs", type=int, default=1000)
    ap.add_argument("--sizes", default="500,1000,2000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "target", "bench", "bench.json"))
    ap.add_argument("--levers", action="store_true", help="also measure ONNX Runtime settings on the first tier")
    ap.add_argument("--write-manifest", action="store_true", help="store each tier's figures in its manifest.json (`speed`) and rewrite its model card")
    args = ap.parse_args()

    slant = os.path.join(REPO, "target", "release", "slant")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    py = os.environ.get("SLANT_BENCH_PYTHON", os.path.join(REPO, ".venv-train", "bin", "python"))
    work = tempfile.mkdtemp(prefix="slant-bench-")
    env = dict(os.environ, SLANT_CACHE_DIR=os.path.join(work, "cache"))
    results = {"threads": args.threads, "corpus": args.corpus, "machine": machine(py), "tiers": {}}
    # the int8 GEMM's gain over fp32 on this CPU: the end-to-end ratio cannot go far beyond it
    kern = os.path.join(work, "kernels.json")
    tiers = args.tiers.split(",")
    subprocess.run([py, os.path.join(HERE, "kernels.py"), "--out", kern, "--hidden", ",".join(str(HIDDEN[t]) for t in tiers)],
                   check=True, stdout=subprocess.DEVNULL)
    results["kernels"] = json.load(open(kern))
    gemm_gain = dict(zip(tiers, results["kernels"]["gemms"]))
    main_in = os.path.join(work, f"corpus-{args.paragraphs}.jsonl")
    docs, paras = subset(args.corpus, args.paragraphs, main_in)

    def slant_run(inp, out, model, *extra, run_env=None):
        return run([slant, "score", inp, "-o", out, "--threads", str(args.threads), "--model", model, *extra], env=run_env or env)

    for tier in tiers:
        model = os.path.join(REPO, "models", TIERS[tier])
        # find/fetch ONNX Runtime once, outside the timings
        slant_run(os.path.join(REPO, "datasets", "seeds"), os.path.join(work, "warmup.jsonl"), model, "--no-cache")
        scores = os.path.join(work, f"{tier}.jsonl")
        secs, rss = slant_run(main_in, scores, model, "--no-cache")
        n_rec, n_pairs = counts(scores)
        r = {"documents": docs, "paragraphs": paras, "records": n_rec, "pairs": n_pairs, "seconds": secs, "peak_rss_mb": rss,
             "inputs_per_s": n_rec / secs, "pairs_per_s": n_pairs / secs}
        ref_out = os.path.join(work, f"{tier}-ref.json")
        secs_py, rss_py = run([py, os.path.join(HERE, "reference.py"), "--model", model, "--scores", scores, "--out", ref_out, "--threads", str(args.threads)])
        ref = json.load(open(ref_out))
        ref.update(wall_seconds=secs_py, peak_rss_mb=rss_py, inputs_per_s=ref["records"] / ref["seconds"], pairs_per_s=ref["pairs"] / ref["seconds"])
        results["tiers"][tier] = {"slant": r, "python_reference": ref, "speedup": r["inputs_per_s"] / ref["inputs_per_s"]}

    first = tiers[0]
    model = os.path.join(REPO, "models", TIERS[first])
    cache = os.path.join(work, "bench-cache.sqlite")
    cold, _ = slant_run(main_in, os.path.join(work, "cold.jsonl"), model, "--cache", cache)
    warm, warm_rss = slant_run(main_in, os.path.join(work, "warm.jsonl"), model, "--cache", cache)
    same = open(os.path.join(work, "cold.jsonl"), "rb").read() == open(os.path.join(work, "warm.jsonl"), "rb").read()
    results["cache"] = {"tier": first, "cold_seconds": cold, "warm_seconds": warm, "warm_speedup": cold / warm, "warm_peak_rss_mb": warm_rss, "identical_output": same}
    lin = []
    for n in [int(x) for x in args.sizes.split(",")]:
        inp = os.path.join(work, f"lin-{n}.jsonl")
        d, p = subset(args.corpus, n, inp)
        out = os.path.join(work, f"lin-{n}-scores.jsonl")
        s, rr = slant_run(inp, out, model, "--no-cache")
        k, _ = counts(out)
        lin.append({"paragraphs": p, "documents": d, "records": k, "seconds": s, "peak_rss_mb": rr, "ms_per_input": 1000 * s / k})
    results["linearity"] = lin

    if args.levers:
        levers = []
        base = results["tiers"][first]["slant"]
        variants = [
            ("session pool, 2 single-threaded sessions (default)", {}, ["--threads", str(args.threads)]),
            ("one session, 2 intra-op threads", {"SLANT_ORT_ONE_SESSION": "1"}, ["--threads", str(args.threads)]),
            ("spinning off", {"SLANT_ORT_SPINNING": "0"}, ["--threads", str(args.threads)]),
            ("graph optimisation basic", {"SLANT_ORT_OPT": "basic"}, ["--threads", str(args.threads)]),
            ("1 thread", {}, ["--threads", "1"]),
        ]
        fp32 = fp32_model_dir(first, model, work)
        if fp32:
            variants.append(("fp32 ONNX (no quantization)", {}, ["--threads", str(args.threads)], fp32))
        for name, extra_env, flags, *alt in variants:
            out = os.path.join(work, "lever.jsonl")
            s, rr = run([slant, "score", main_in, "-o", out, "--model", alt[0] if alt else model, "--no-cache", *flags], env=dict(env, **extra_env))
            levers.append({"lever": name, "seconds": s, "inputs_per_s": base["records"] / s, "peak_rss_mb": rr})
        results["levers"] = levers

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=2)
    shutil.rmtree(work, ignore_errors=True)

    m = results["machine"]
    kernel_line = {tier: f"GEMM {'x'.join(map(str, g['shape']))} ({tier}), 1 thread: PyTorch fp32 {g['torch_fp32_gmac_s']} GMAC/s, "
                         f"ORT fp32 {g['ort_fp32_gmac_s']}, ORT int8 {g['ort_int8_gmac_s']} -> int8 {g['int8_over_torch_fp32']:.2f}x PyTorch fp32"
                   for tier, g in gemm_gain.items()}
    lines = [f"machine: {m.get('cpu')}, {m.get('cores')} cores; flags {' '.join(m.get('flags', []))}; onnxruntime {m.get('onnxruntime')}",
             *kernel_line.values(),
             f"input: first {docs} articles = {paras} paragraphs of the corpus; {args.threads} threads",
             f"{'':44}{'seconds':>8}{'inputs/s':>10}{'pairs/s':>9}{'RSS MB':>8}"]
    for tier, t in results["tiers"].items():
        s, r = t["slant"], t["python_reference"]
        lines.append(f"{tier + ': slant (int8, no cache)':44}{s['seconds']:8.1f}{s['inputs_per_s']:10.1f}{s['pairs_per_s']:9.1f}{s['peak_rss_mb']:8.0f}")
        lines.append(f"{tier + ': Python reference (fp32, bs 16)':44}{r['seconds']:8.1f}{r['inputs_per_s']:10.1f}{r['pairs_per_s']:9.1f}{r['peak_rss_mb']:8.0f}")
        agr = r.get("label_agreement_with_slant")
        agr_s = ", ".join(f"{k} {v:.4f}" for k, v in agr.items() if v is not None) if agr else "not measured (no trained weights here)"
        lines.append(f"  {tier}: slant/Python {t['speedup']:.2f}x ({s['records']} inputs: {s['pairs']} pairs + {s['records'] - s['pairs']} paragraphs); label agreement: {agr_s}")
        lines.append(f"  {tier}: the int8 GEMM alone is {gemm_gain[tier]['int8_over_torch_fp32']:.2f}x PyTorch's fp32 GEMM here; slant reaches {t['speedup'] / gemm_gain[tier]['int8_over_torch_fp32']:.0%} of that")
    c = results["cache"]
    lines.append(f"cache ({c['tier']}): cold {c['cold_seconds']:.2f}s, warm {c['warm_seconds']:.2f}s -> {c['warm_speedup']:.1f}x, identical output: {c['identical_output']}")
    lines.append("linearity: " + "; ".join(f"{x['paragraphs']} para / {x['records']} inputs: {x['seconds']:.1f}s ({x['ms_per_input']:.1f} ms/input, {x['peak_rss_mb']:.0f} MB)" for x in lin))
    for l in results.get("levers", []):
        lines.append(f"lever {l['lever']:52} {l['seconds']:7.1f}s {l['inputs_per_s']:7.1f} inputs/s {l['peak_rss_mb']:6.0f} MB")
    print("\n".join(lines))
    print(f"figures written to {args.out}")
    if args.write_manifest:
        for tier, t in results["tiers"].items():
            folder = os.path.join(REPO, "models", TIERS[tier])
            path = os.path.join(folder, "manifest.json")
            m = json.load(open(path))
            s, r = t["slant"], t["python_reference"]
            # a run on a machine with other CPU flags does not replace that machine's figures: int8
            # speed depends on the instructions (VNNI, AVX-512), so both stay comparable side by side
            others = [o for o in m.get("speed_other_machines", []) if o["machine"]["flags"] != results["machine"]["flags"]]
            if m.get("speed") and m["speed"]["machine"]["flags"] != results["machine"]["flags"]:
                others.append(m["speed"])
            if others:
                m["speed_other_machines"] = others
            m["speed"] = {
                "measured_by": "scripts/bench/run (one run, both tiers, same machine)",
                "machine": results["machine"], "threads": args.threads,
                "inputs": s["records"], "pairs": s["pairs"],
                "slant_inputs_per_s": round(s["inputs_per_s"], 1), "slant_pairs_per_s": round(s["pairs_per_s"], 1),
                "slant_peak_rss_mb": round(s["peak_rss_mb"]),
                "python_reference_inputs_per_s": round(r["inputs_per_s"], 1), "python_reference_peak_rss_mb": round(r["peak_rss_mb"]),
                "speedup": round(t["speedup"], 2),
                "label_agreement_with_python": r.get("label_agreement_with_slant"),
                "gemm": gemm_gain[tier],
                "table": "\n".join(l for l in lines if l.startswith((tier, "  " + tier, "machine", "input")) or l == kernel_line[tier]),
            }
            with open(path, "w", encoding="utf-8") as f:
                json.dump(m, f, indent=2)
                f.write("\n")
            subprocess.run([py, os.path.join(REPO, "scripts", "train", "model_card.py"), folder], check=True)


if __name__ == "__main__":
    main()
