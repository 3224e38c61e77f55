"""Score part of the corpus on a local Ray cluster: N workers, each running the slant binary on
one shard (`slant score --shard I/N`), then merge the shards with `slant report`.

    python deploy/ray_score.py --slant target/release/slant --input ../shared/corpus/allsides-geo.jsonl \
        --articles 100 --workers 2 --out out/ray

Ray is only the scheduler here: it places one task per shard on a free CPU, retries a task whose
worker dies, and collects the shard files. Any engine that can run a command per task (Spark's
RDD.pipe or mapPartitions, Dask, Slurm, Kubernetes) does the same with the same two commands.
On a real cluster, replace `ray.init(num_cpus=...)` with `ray.init(address="auto")` and put the
input and output on shared storage.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

import ray


@ray.remote(num_cpus=1, max_retries=2)
def score_shard(slant: str, inp: str, index: int, count: int, out_dir: str, model: str) -> dict:
    out = os.path.join(out_dir, f"scores-{index:04d}-of-{count:04d}.jsonl")
    t0 = time.time()
    # --no-cache: each worker computes its records; --threads 1: one core per Ray task
    subprocess.run([slant, "score", inp, "--shard", f"{index}/{count}", "--model", model, "--no-cache",
                    "--threads", "1", "-o", out], check=True, capture_output=True)
    return {"shard": index, "file": out, "seconds": round(time.time() - t0, 2),
            "records": sum(1 for _ in open(out, encoding="utf-8"))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slant", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--articles", type=int, default=100, help="score the first N articles of the input")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", default="fast")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    os.makedirs(os.path.join(args.out, "shards"), exist_ok=True)
    part = os.path.join(args.out, "input.jsonl")
    with open(args.input, encoding="utf-8") as f, open(part, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i >= args.articles:
                break
            g.write(line)

    t0 = time.time()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    started = time.time()
    slant = os.path.abspath(args.slant)
    results = ray.get([score_shard.remote(slant, os.path.abspath(part), i, args.workers,
                                          os.path.abspath(os.path.join(args.out, "shards")), args.model)
                       for i in range(1, args.workers + 1)])
    scored = time.time()
    ray.shutdown()
    # merge: report reads every shard (canonical order, duplicates refused) and finds the model by sha256
    subprocess.run([os.path.abspath(args.slant), "report", os.path.join(args.out, "shards"), "--by", "source",
                    "--model", args.model, "-o", os.path.join(args.out, "report")], check=True, capture_output=True)
    done = time.time()
    summary = {"engine": f"ray {ray.__version__}", "workers": args.workers, "articles": args.articles,
               "ray_start_seconds": round(started - t0, 2), "scoring_seconds": round(scored - started, 2),
               "merge_report_seconds": round(done - scored, 2), "total_seconds": round(done - t0, 2), "shards": results}
    json.dump(summary, open(os.path.join(args.out, "timing.json"), "w"), indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
