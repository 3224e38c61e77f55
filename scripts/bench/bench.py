"""slant throughput benchmark, all figures from one run on one machine.

Measures slant end to end (`slant score`, default targets) on the first N paragraphs' worth of
articles of ../shared/corpus/allsides-geo.jsonl, the Python reference (transformers, fp32, batch 16,
2 threads) on exactly the pairs slant scored, cold and cache-warm slant re-runs, and slant at
1k/2k/4k paragraphs for linearity. Prints a table and writes JSON. See README "Benchmark".
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


def agreement(scores, ref_labels):
    labels = [json.loads(l)["label"] for l in open(scores)]
    assert len(labels) == len(ref_labels), "slant and the reference scored different pairs"
    return sum(a == b for a, b in zip(labels, ref_labels)) / len(labels)


def count(path):
    with open(path) as f:
        return sum(1 for _ in f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(REPO, "..", "shared", "corpus", "allsides-geo.jsonl"))
    ap.add_argument("--model", default=os.path.join(REPO, "models", "stance-minilm-l6"))
    ap.add_argument("--paragraphs", type=int, default=2000)
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "target", "bench", "bench.json"))
    ap.add_argument("--levers", action="store_true", help="also measure threads, fp32 at three batch sizes, and all-layers int8")
    args = ap.parse_args()

    slant = os.path.join(REPO, "target", "release", "slant")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    work = tempfile.mkdtemp(prefix="slant-bench-")
    env = dict(os.environ, SLANT_CACHE_DIR=os.path.join(work, "cache"))
    # fetch/locate ONNX Runtime once, outside the timings
    subprocess.run([slant, "score", os.path.join(REPO, "datasets", "seeds"), "--no-cache", "--model", args.model, "-o", os.path.join(work, "warmup.jsonl")], env=env, check=True, stderr=subprocess.DEVNULL)
    results = {"threads": args.threads, "model": args.model, "corpus": args.corpus}

    def slant_run(inp, out, *extra, model=None):
        return run([slant, "score", inp, "-o", out, "--threads", str(args.threads), "--model", model or args.model, *extra], env=env)

    # main comparison at N paragraphs
    main_in = os.path.join(work, f"corpus-{args.paragraphs}.jsonl")
    docs, paras = subset(args.corpus, args.paragraphs, main_in)
    scores = os.path.join(work, "scores.jsonl")
    secs, rss = slant_run(main_in, scores, "--no-cache")
    pairs = count(scores)
    results["slant"] = {"documents": docs, "paragraphs": paras, "pairs": pairs, "seconds": secs, "peak_rss_mb": rss,
                        "paragraphs_per_s": paras / secs, "pairs_per_s": pairs / secs}

    py = os.environ.get("SLANT_BENCH_PYTHON", os.path.join(REPO, ".venv-train", "bin", "python"))
    ref_out = os.path.join(work, "ref.json")
    t0 = time.perf_counter()
    secs_py, rss_py = run([py, os.path.join(HERE, "reference.py"), "--model", args.model, "--scores", scores, "--out", ref_out, "--threads", str(args.threads),
                           "--labels-out", os.path.join(work, "ref-labels.txt")])
    ref_labels = open(os.path.join(work, "ref-labels.txt")).read().split()
    ref = json.load(open(ref_out))
    ref["wall_seconds"] = secs_py
    ref["peak_rss_mb"] = rss_py
    ref["pairs_per_s"] = ref["pairs"] / ref["seconds"]
    ref["paragraphs_per_s"] = paras / ref["seconds"]
    results["python_reference"] = ref
    results["speedup_pairs_per_s"] = results["slant"]["pairs_per_s"] / ref["pairs_per_s"]

    # cache: cold (empty cache, fills it) then warm
    cache = os.path.join(work, "bench-cache.sqlite")
    cold, _ = slant_run(main_in, os.path.join(work, "cold.jsonl"), "--cache", cache)
    warm, warm_rss = slant_run(main_in, os.path.join(work, "warm.jsonl"), "--cache", cache)
    same = open(os.path.join(work, "cold.jsonl"), "rb").read() == open(os.path.join(work, "warm.jsonl"), "rb").read()
    results["cache"] = {"cold_seconds": cold, "warm_seconds": warm, "warm_speedup": cold / warm, "warm_peak_rss_mb": warm_rss, "identical_output": same}

    # linearity
    lin = []
    for n in [int(x) for x in args.sizes.split(",")]:
        inp = os.path.join(work, f"lin-{n}.jsonl")
        d, p = subset(args.corpus, n, inp)
        out = os.path.join(work, f"lin-{n}-scores.jsonl")
        s, r = slant_run(inp, out, "--no-cache")
        k = count(out)
        lin.append({"paragraphs": p, "documents": d, "pairs": k, "seconds": s, "peak_rss_mb": r, "ms_per_pair": 1000 * s / k})
    results["linearity"] = lin

    if args.levers:
        levers = []
        s, r = run([slant, "score", main_in, "-o", os.path.join(work, "t1.jsonl"), "--threads", "1", "--model", args.model, "--no-cache"], env=env)
        levers.append({"lever": "threads 1 (int8)", "seconds": s, "pairs_per_s": pairs / s, "peak_rss_mb": r})
        fp32_dir, int8_all_dir = os.path.join(work, "fp32-model"), os.path.join(work, "all-int8-model")
        subprocess.run([py, os.path.join(HERE, "export_fp32.py"), args.model, fp32_dir, int8_all_dir], check=True,
                       stderr=subprocess.DEVNULL)
        # Dynamically quantized models always run one window at a time (batch-independent output),
        # so batch size is a lever only for the fp32 model.
        variants = [(f"fp32 ONNX, batch {bs}", fp32_dir, bs) for bs in (1, 8, 32)]
        variants.append(("int8 all layers (no fp32 nodes)", int8_all_dir, 32))
        for name, folder, bs in variants:
            out = os.path.join(work, f"{os.path.basename(folder)}-{bs}.jsonl")
            s, r = slant_run(main_in, out, "--no-cache", "--batch-size", str(bs), model=folder)
            levers.append({"lever": name, "seconds": s, "pairs_per_s": pairs / s, "peak_rss_mb": r,
                           "label_agreement_with_python": agreement(out, ref_labels)})
        results["levers"] = levers

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=2)
    shutil.rmtree(work, ignore_errors=True)

    s, r = results["slant"], results["python_reference"]
    print(f"corpus: first {s['documents']} articles = {s['paragraphs']} paragraphs, {s['pairs']} (paragraph, target) pairs; {args.threads} threads")
    print(f"{'':34}{'seconds':>9}{'para/s':>9}{'pairs/s':>9}{'peak RSS MB':>13}")
    print(f"{'slant score (int8, no cache)':34}{s['seconds']:9.1f}{s['paragraphs_per_s']:9.1f}{s['pairs_per_s']:9.1f}{s['peak_rss_mb']:13.0f}")
    print(f"{'Python reference (fp32, bs 16)':34}{r['seconds']:9.1f}{r['paragraphs_per_s']:9.1f}{r['pairs_per_s']:9.1f}{r['peak_rss_mb']:13.0f}")
    print(f"slant / Python, pairs/s: {results['speedup_pairs_per_s']:.2f}x   label agreement slant vs Python: {r['label_agreement_with_slant']:.4f} (single-window pairs {r['label_agreement_single_window']:.4f})")
    c = results["cache"]
    print(f"cache: cold {c['cold_seconds']:.2f}s, warm {c['warm_seconds']:.2f}s -> {c['warm_speedup']:.1f}x faster, identical output: {c['identical_output']}")
    print("linearity: " + "; ".join(f"{x['paragraphs']} para / {x['pairs']} pairs: {x['seconds']:.1f}s ({x['ms_per_pair']:.1f} ms/pair, {x['peak_rss_mb']:.0f} MB)" for x in lin))
    for l in results.get("levers", []):
        extra = f", agreement with Python {l['label_agreement_with_python']:.4f}" if "label_agreement_with_python" in l else ""
        print(f"lever {l['lever']:34} {l['seconds']:7.1f}s {l['pairs_per_s']:7.1f} pairs/s {l['peak_rss_mb']:6.0f} MB{extra}")
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
