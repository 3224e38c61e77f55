"""Training and dev data for the stance model, read from ../shared/datasets as published.

The out-of-domain loaders return Example(target, text, label, source) with label in
LABELS = (against, neutral, favor); the in-domain ones (news-stance, news-bias) return PairExample /
ParagraphExample with a label per output. Label mapping follows ../shared/datasets/README.md.
"""
from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import random
import re
from dataclasses import dataclass

LABELS = ("against", "neutral", "favor")
LABEL_ID = {l: i for i, l in enumerate(LABELS)}

# The string the model sees for each built-in target. "US" is avoided because the uncased
# tokenizer reads it as the pronoun "us"; the Rust targets file uses the same strings.
NEWS_TARGETS = {"NATO": "NATO", "US": "the United States", "Europe": "Europe"}

# SemEval-2016 Task 6 official target names, by tweeteval folder.
SEMEVAL_TARGETS = {
    "abortion": "Legalization of Abortion",
    "atheism": "Atheism",
    "climate": "Climate Change is a Real Concern",
    "feminist": "Feminist Movement",
    "hillary": "Hillary Clinton",
}

_US_CAPS = re.compile(r"\bUS\b")


def normalize_text(text: str) -> str:
    """Same rule as the Rust side (manifest `preprocess = ["us_caps_to_u.s."]`):
    capital "US" becomes "U.S." so the uncased tokenizer does not read the pronoun "us"."""
    return _US_CAPS.sub("U.S.", text)


@dataclass
class Example:
    target: str
    text: str
    label: int
    source: str


def _ex(target, text, label, source):
    return Example(normalize_text(target.strip()), normalize_text(text.strip()), LABEL_ID[label], source)


# --- in-domain -------------------------------------------------------------------------------

def dev_bucket(article_id: str) -> int:
    return int(hashlib.sha1(article_id.encode()).hexdigest()[:8], 16) % 1000


def is_dev_article(article_id: str, dev_fraction: float = 0.2) -> bool:
    """Deterministic split by article (never by paragraph): sha1 of the article id."""
    return dev_bucket(article_id) < dev_fraction * 1000


def dev_half_a(article_id: str) -> bool:
    """Dev half A (buckets 0-99) tunes prior offsets and temperatures; half B (100-199) is left
    for measuring what tuning must not see (slant calibrate's profile error)."""
    return dev_bucket(article_id) < 100


# --- out-of-domain ---------------------------------------------------------------------------

NEWSMTSC_ORIG = {2.0: "against", 4.0: "neutral", 6.0: "favor"}
NEWSMTSC_HF = {-1: "against", 0: "neutral", 1: "favor"}


def newsmtsc_orig_train(root: str) -> list[Example]:
    out = []
    with open(os.path.join(root, "newsmtsc", "orig_train.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            for t in r["targets"]:
                out.append(_ex(t["mention"], r["sentence_normalized"], NEWSMTSC_ORIG[t["polarity"]], "newsmtsc"))
    return out


def newsmtsc_hf(root: str, name: str) -> list[Example]:
    out = []
    with open(os.path.join(root, "newsmtsc", f"newsmtsc-{name}-hf_dev.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(_ex(r["mention"], r["sentence"], NEWSMTSC_HF[int(r["polarity"])], f"newsmtsc-{name}"))
    return out


RUW_MAP = {"FAVOR": "favor", "AGAINST": "against", "NONE": "neutral"}


def ruw(root: str, split: str) -> list[Example]:
    out = []
    with open(os.path.join(root, "ruw", f"{split}.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            for k in ("1", "2"):
                out.append(_ex(r[f"Target {k}"], r["Tweet"], RUW_MAP[r[f"Stance {k}"].strip()], "ruw"))
    return out


SEMEVAL_MAP = {"0": "neutral", "1": "against", "2": "favor"}  # mapping.txt: 0 none, 1 against, 2 favor


def semeval(root: str, split: str) -> list[Example]:
    out = []
    for folder, target in SEMEVAL_TARGETS.items():
        d = os.path.join(root, "semeval2016", folder)
        with open(os.path.join(d, f"{split}_text.txt"), encoding="utf-8") as ft, open(
            os.path.join(d, f"{split}_labels.txt"), encoding="utf-8"
        ) as fl:
            for text, lab in zip(ft, fl):
                out.append(_ex(target, text, SEMEVAL_MAP[lab.strip()], "semeval"))
    return out


VAST_MAP = {"0": "against", "1": "favor", "2": "neutral"}


def vast_dev(root: str) -> list[Example]:
    with open(os.path.join(root, "vast", "vast_dev.csv"), encoding="utf-8", newline="") as f:
        return [_ex(r["Target"], r["Tweet"], VAST_MAP[r["Stance"].strip()], "vast") for r in csv.DictReader(f)]


def basil(root: str) -> list[Example]:
    """Phrase-level polarity toward an entity, with the whole paragraph that holds the phrase as
    context: the longest news contexts among the out-of-domain sets."""
    out = []
    for ann_path in sorted(glob.glob(os.path.join(root, "basil", "annotations", "*", "*_ann.json"))):
        art_path = ann_path.replace("/annotations/", "/articles/").replace("_ann.json", ".json")
        if not os.path.exists(art_path):
            continue
        ann = json.load(open(ann_path, encoding="utf-8"))
        art = json.load(open(art_path, encoding="utf-8"))
        paragraphs = art.get("body-paragraphs", [])
        for p in ann.get("phrase-level-annotations", []):
            pol = {"pos": "favor", "neg": "against"}.get(p.get("polarity"))
            if not pol or not p.get("target"):
                continue
            para = next((" ".join(s) for s in paragraphs if any(p["txt"] in sent for sent in s)), None)
            if para is None:
                continue
            out.append(_ex(p["target"].replace("_", " "), para, pol, "basil"))
    return out


# --- v2: two outputs per pair (stance, editorial) and paragraph-level bias labels ---------------

IGNORE = -100  # "no label": left out of that output's loss and metrics

NEWS_STANCE_REAL = ("train.jsonl", "train-2.jsonl", "train-3.jsonl")


@dataclass
class PairExample:
    """(target, paragraph) with a label per output; IGNORE where an output has no label."""
    target: str        # the string the model sees ("the United States")
    key: str           # NATO / US / Europe, or the out-of-domain target
    text: str
    stance: int
    editorial: int
    holder: str
    source: str        # file or data set
    article_id: str


@dataclass
class ParagraphExample:
    text: str
    register: int
    loaded: int
    spans: list        # [(start, end)] character ranges in `text`, or None when unknown
    source: str
    article_id: str


def editorial_label(gold: str, holder: str) -> int:
    """Editorial = the stance in the author's own voice: the stance when held by the author (or
    author and quoted speakers together), neutral when only quoted speakers hold it."""
    if gold == "neutral":
        return LABEL_ID["neutral"]
    if holder in ("author", "mixed"):
        return LABEL_ID[gold]
    if holder == "quoted":
        return LABEL_ID["neutral"]
    return IGNORE  # "disputed" or missing: no editorial training signal


def _split_rows(path: str, split: str):
    """The JSON lines of `path` whose article falls in `split` (train | dev)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if is_dev_article(r["article_id"]) == (split == "dev"):
                yield r


def news_stance_v2(root: str, split: str, files=NEWS_STANCE_REAL) -> list[PairExample]:
    """Present pairs of the in-domain files, split by article (the tweets' article_id is their id).
    Synthetic text is train only: asking for its dev split returns nothing."""
    out = []
    for name in files:
        synthetic = name.startswith("synthetic")
        if synthetic and split == "dev":
            continue
        # synthetic text has no dev split: all of it is train
        path = os.path.join(root, "news-stance", name)
        rows = _split_rows(path, split) if not synthetic else (json.loads(l) for l in open(path, encoding="utf-8"))
        for r in rows:
            for key, target in NEWS_TARGETS.items():
                gold = r["gold"].get(key)
                if gold in (None, "absent"):
                    continue
                holder = (r.get("holder") or {}).get(key) or ""
                out.append(PairExample(normalize_text(target), key, normalize_text(r["text"].strip()), LABEL_ID[gold],
                                       editorial_label(gold, holder), holder, name, r["article_id"]))
    return out


REGISTERS = ("report", "analysis", "opinion")
REGISTER_ID = {r: i for i, r in enumerate(REGISTERS)}


def _span_ranges(text: str, spans: list[str]):
    """Verbatim loaded phrases -> character ranges (every occurrence); None if one cannot be found,
    so a paragraph with unlocatable spans teaches the token head nothing rather than something wrong."""
    ranges = []
    for s in spans:
        s = s.strip()
        if not s:
            continue
        start, found = 0, False
        while True:
            i = text.find(s, start)
            if i < 0:
                break
            ranges.append((i, i + len(s)))
            found, start = True, i + len(s)
        if not found:
            return None
    return ranges


def news_bias(root: str, split: str) -> list[ParagraphExample]:
    out = []
    for r in _split_rows(os.path.join(root, "news-bias", "train.jsonl"), split):
        # normalize_text keeps lengths except "US" -> "U.S." (+2): locate spans after normalizing
        text = normalize_text(r["text"].strip())
        loaded = {"yes": 1, "no": 0}.get(r.get("loaded"), IGNORE)
        spans = [] if loaded == 0 else _span_ranges(text, [normalize_text(s) for s in r.get("spans") or []])
        if loaded == 1 and not spans:
            spans = None
        out.append(ParagraphExample(text, REGISTER_ID.get(r.get("register"), IGNORE), loaded, spans, "news-bias", r["article_id"]))
    return out


def ood_pairs(root: str, caps: dict[str, int], rng: random.Random, pools=None) -> list[PairExample]:
    """A fresh capped sample of the out-of-domain stance sets (call once per epoch). Tweets and
    comments are the author's own voice, so their editorial label is their stance; news sentences
    (NewsMTSC, BASIL) say nothing about who holds a sentiment, so they train `stance` only."""
    pools = pools or ood_pools(root)
    author_voice = {"ruw", "semeval", "vast"}
    out = []
    for name, rows in pools.items():
        for e in rng.sample(rows, min(caps.get(name, 0), len(rows))):
            ed = e.label if name in author_voice else IGNORE
            out.append(PairExample(e.target, e.target, e.text, e.label, ed, "author" if name in author_voice else "", name, name))
    return out


def ood_pools(root: str):
    return {
        "newsmtsc": newsmtsc_orig_train(root),
        "ruw": ruw(root, "train"),
        "semeval": semeval(root, "train"),
        "vast": vast_dev(root),
        "basil": basil(root),
    }


def ood_dev_pairs(root: str) -> dict[str, list[PairExample]]:
    def conv(exs):
        return [PairExample(e.target, e.target, e.text, e.label, IGNORE, "", e.source, e.source) for e in exs]
    return {
        "newsmtsc-rw-dev": conv(newsmtsc_hf(root, "rw")),
        "newsmtsc-mt-dev": conv(newsmtsc_hf(root, "mt")),
        "ruw-val": conv(ruw(root, "val")),
        "semeval-val": conv(semeval(root, "val")),
    }
