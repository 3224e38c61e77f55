//! Scale-out: shards, standard input, Parquet and CSV, merging, and nothing left behind.
//! Runs the real binary with the fast tier on 30 articles of the shared corpus.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_slant"));
    c.env_remove("JOB_COMPLETION_INDEX").env_remove("SLURM_ARRAY_TASK_ID").env_remove("SLURM_ARRAY_TASK_MIN").env_remove("SLURM_ARRAY_TASK_COUNT").env_remove("SLANT_SHARD_COUNT");
    c
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("slant-scale-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// 30 articles of the shared corpus as JSONL.
fn corpus(d: &Path) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/allsides-geo.jsonl");
    let text = std::fs::read_to_string(&src).expect("../shared/corpus/allsides-geo.jsonl beside the repository");
    let out = d.join("corpus.jsonl");
    std::fs::write(&out, text.lines().take(30).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    out
}

fn score(input: &Path, out: &Path, extra: &[&str]) -> Output {
    ok(bin().arg("score").arg(input).arg("-o").arg(out).args(["--model", "fast", "--no-cache", "--threads", "2"]).args(extra).output().unwrap())
}

fn sorted_lines(paths: &[PathBuf]) -> Vec<String> {
    let mut v: Vec<String> = paths.iter().flat_map(|p| std::fs::read_to_string(p).unwrap().lines().map(str::to_string).collect::<Vec<_>>()).collect();
    v.sort();
    v
}

#[test]
fn three_shards_cover_the_input_exactly_once_and_merge_to_the_single_run_profile() {
    let d = tmp("shards");
    let input = corpus(&d);
    let whole = d.join("whole.jsonl");
    score(&input, &whole, &[]);
    let shards: Vec<PathBuf> = (1..=3).map(|i| d.join(format!("shard{i}.jsonl"))).collect();
    for (i, s) in shards.iter().enumerate() {
        score(&input, s, &["--shard", &format!("{}/3", i + 1)]);
    }
    // same records, each once (duplicates would show up as extra lines)
    assert_eq!(sorted_lines(&shards), sorted_lines(std::slice::from_ref(&whole)));
    let docs = |p: &Path| std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["doc_id"].as_str().unwrap().to_string()).collect::<std::collections::BTreeSet<_>>();
    let sets: Vec<_> = shards.iter().map(|s| docs(s)).collect();
    assert!(sets.iter().all(|s| !s.is_empty()), "every shard gets documents");
    assert!(sets[0].is_disjoint(&sets[1]) && sets[1].is_disjoint(&sets[2]) && sets[0].is_disjoint(&sets[2]));
    // the merged profile of the shards (a glob, a Parquet shard and JSONL mixed) equals the single run's
    let pq = d.join("shard3.parquet");
    score(&input, &pq, &["--shard", "3/3"]);
    let single = ok(bin().args(["profile"]).arg(&whole).args(["--by", "source"]).output().unwrap()).stdout;
    let merged = ok(bin().args(["profile", &format!("{}/shard[12].jsonl", d.display())]).arg(&pq).args(["--by", "source"]).output().unwrap()).stdout;
    assert_eq!(String::from_utf8_lossy(&single), String::from_utf8_lossy(&merged));
    // the same shard twice is refused
    let o = bin().args(["profile"]).arg(&shards[0]).arg(&shards[0]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("duplicate record") && err.contains("help:"), "{err}");
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_variables() {
    let d = tmp("auto");
    let input = corpus(&d);
    score(&input, &d.join("two.jsonl"), &["--shard", "2/3"]);
    let expected = std::fs::read(d.join("two.jsonl")).unwrap();
    // Slurm: array 5-7, this task 6 -> shard 2 of 3
    let out = d.join("slurm.jsonl");
    ok(bin().arg("score").arg(&input).arg("-o").arg(&out).args(["--model", "fast", "--no-cache", "--shard", "auto"]).envs([("SLURM_ARRAY_TASK_ID", "6"), ("SLURM_ARRAY_TASK_MIN", "5"), ("SLURM_ARRAY_TASK_COUNT", "3")]).output().unwrap());
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    // Kubernetes Indexed Job: index 1 (from 0) of 3 completions -> shard 2 of 3
    let out = d.join("k8s.jsonl");
    ok(bin().arg("score").arg(&input).arg("-o").arg(&out).args(["--model", "fast", "--no-cache", "--shard", "auto/3"]).env("JOB_COMPLETION_INDEX", "1").output().unwrap());
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    // neither: a clear error, nothing written
    let out = d.join("none.jsonl");
    let o = bin().arg("score").arg(&input).arg("-o").arg(&out).args(["--shard", "auto"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("SLURM_ARRAY_TASK_ID") && err.contains("JOB_COMPLETION_INDEX") && err.contains("help:"), "{err}");
    assert!(!out.exists() && !d.join("none.jsonl.partial").exists());
    let o = bin().arg("score").arg(&input).args(["--shard", "4/3"]).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("out of range"));
}

#[test]
fn streaming_from_stdin_equals_file_input() {
    let d = tmp("stdin");
    let input = corpus(&d);
    let file_out = d.join("file.jsonl");
    score(&input, &file_out, &[]);
    let mut child = bin().args(["score", "-", "--model", "fast", "--no-cache", "--threads", "2"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let data = std::fs::read(&input).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = ok(child.wait_with_output().unwrap());
    writer.join().unwrap().unwrap();
    // the records of a document carry the file's name as origin only in ids made from it: these have ids
    assert_eq!(String::from_utf8_lossy(&out.stdout), std::fs::read_to_string(&file_out).unwrap());
}

fn python() -> String {
    std::env::var("SLANT_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[test]
fn parquet_and_csv_round_trip_and_read_in_pyarrow() {
    let d = tmp("parquet");
    let input = corpus(&d);
    let jsonl = d.join("s.jsonl");
    let pq = d.join("s.parquet");
    let csv = d.join("s.csv");
    score(&input, &jsonl, &[]);
    score(&input, &pq, &[]);
    score(&input, &csv, &[]);
    assert!(!d.join("s.parquet.partial").exists());
    // read back with the crate: the same records as the JSONL
    let a = slant::score::merge::read_file(&jsonl).unwrap();
    let b = slant::score::merge::read_file(&pq).unwrap();
    assert_eq!(a.len(), b.len());
    assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap());
    // and with a reader other than the writer (pyarrow, installed by scripts/test.sh)
    let script = format!(
        "import pyarrow.parquet as pq, csv, json\nt = pq.read_table({:?})\nrows = t.to_pylist()\nprint(json.dumps({{'rows': len(rows), 'cols': t.column_names, 'kinds': sorted(set(r['kind'] for r in rows)), 'p': [r['p_favor'] for r in rows if r['kind']=='stance'][:3], 'mentions': [r['mentions'] for r in rows if r['kind']=='stance'][0], 'model': rows[0]['model'], 'csv_rows': sum(1 for _ in csv.DictReader(open({:?}, newline='')))}}))",
        pq.display().to_string(),
        csv.display().to_string()
    );
    let o = Command::new(python()).arg("-c").arg(&script).output().expect("python3");
    assert!(o.status.success(), "pyarrow must be installed (scripts/test.sh installs it; set SLANT_TEST_PYTHON): {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"].as_u64().unwrap() as usize, a.len());
    assert_eq!(v["csv_rows"].as_u64().unwrap() as usize, a.len());
    let cols: Vec<&str> = v["cols"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for c in ["kind", "doc_id", "target", "p_against", "p_neutral", "p_favor", "score", "label", "editorial_p_favor", "register_p_opinion", "loaded_p_yes", "loaded_spans", "mentions", "model"] {
        assert!(cols.contains(&c), "column {c} in {cols:?}");
    }
    assert_eq!(v["kinds"], serde_json::json!(["paragraph", "stance"]));
    assert!(v["mentions"].as_array().is_some_and(|m| !m.is_empty() && m[0]["start"].is_number()));
    assert!(v["model"]["sha256"].as_str().is_some_and(|s| s.len() == 64));
    // Parquet input: the corpus as Parquet (written by pyarrow) scores like the JSONL
    let in_pq = d.join("in.parquet");
    let o = Command::new(python()).arg("-c").arg(format!("import pyarrow as pa, pyarrow.parquet as pq, json\nrows=[json.loads(l) for l in open({:?})]\npq.write_table(pa.Table.from_pylist([{{'doc': r['id'], 'body': r['text'], 'source': r['source'], 'title': r['title'], 'source_leaning': r['source_leaning'], 'date': r.get('date'), 'url': r.get('url')}} for r in rows]), {:?})", input.display().to_string(), in_pq.display().to_string())).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_pq = d.join("from_pq.jsonl");
    score(&in_pq, &from_pq, &["--text-column", "body", "--id-column", "doc"]);
    assert_eq!(std::fs::read_to_string(&from_pq).unwrap(), std::fs::read_to_string(&jsonl).unwrap());
    // resume is a JSONL feature
    let o = bin().arg("score").arg(&input).arg("-o").arg(d.join("r.parquet")).args(["--resume"]).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("JSON lines output only"));
}

#[test]
fn malformed_parquet_and_missing_text_column_are_clear_errors() {
    let d = tmp("badpq");
    let bad = d.join("bad.parquet");
    std::fs::write(&bad, b"PAR1 this is not parquet").unwrap();
    let o = bin().arg("score").arg(&bad).arg("-o").arg(d.join("o.jsonl")).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("bad.parquet") && err.contains("not a readable Parquet file") && err.contains("help:"), "{err}");
    assert!(!d.join("o.jsonl").exists() && !d.join("o.jsonl.partial").exists(), "nothing left behind");
    let input = corpus(&d);
    let pq = d.join("nocol.parquet");
    let o = Command::new(python()).arg("-c").arg(format!("import pyarrow as pa, pyarrow.parquet as pq\npq.write_table(pa.table({{'id': ['a'], 'content': ['NATO met.']}}), {:?})", pq.display().to_string())).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin().arg("score").arg(&pq).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no text column \"text\"") && err.contains("content") && err.contains("--text-column"), "{err}");
    let _ = input;
}

#[test]
fn fatal_errors_before_the_first_record_leave_nothing_behind() {
    let d = tmp("nothing");
    std::fs::write(d.join("a.txt"), "NATO allies met in Brussels.").unwrap();
    std::fs::write(d.join("empty.txt"), "").unwrap();
    std::fs::write(d.join("bin.txt"), [0u8, 1, 2]).unwrap();
    std::fs::write(d.join("t.toml"), "[[target]]\nname = \n").unwrap();
    let a = d.join("a.txt");
    let cases: Vec<Vec<String>> = vec![
        vec!["score".into(), d.join("missing.txt").display().to_string()],
        vec!["score".into(), a.display().to_string(), "--targets".into(), d.join("t.toml").display().to_string()],
        vec!["score".into(), a.display().to_string(), "--model".into(), d.join("nomodel").display().to_string()],
        vec!["score".into(), d.join("empty.txt").display().to_string()],
        vec!["score".into(), d.join("bin.txt").display().to_string()],
    ];
    for (i, args) in cases.iter().enumerate() {
        for ext in ["jsonl", "parquet", "csv"] {
            let out = d.join(format!("out{i}.{ext}"));
            let o = bin().args(args).arg("-o").arg(&out).args(["--no-cache"]).output().unwrap();
            assert!(!o.status.success(), "case {i} {args:?} should fail");
            assert!(!out.exists() && !slant::score::partial_path(&out).exists(), "case {i} ({ext}) left a file behind");
        }
    }
    // a missing ONNX Runtime, too
    let out = d.join("ort.jsonl");
    let o = bin().arg("score").arg(&a).arg("-o").arg(&out).args(["--no-cache"]).env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so").output().unwrap();
    assert!(!o.status.success() && !out.exists() && !slant::score::partial_path(&out).exists());
    // a report directory is atomic too
    let rep = d.join("report");
    let o = bin().args(["report"]).arg(d.join("missing.txt")).arg("-o").arg(&rep).output().unwrap();
    assert!(!o.status.success() && !rep.exists() && !slant::score::partial_path(&rep).exists());
}
