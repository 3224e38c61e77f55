//! Every failure a user can cause: a short error naming the file (and line/column), a hint, a
//! non-zero exit, no panic or backtrace. Runs the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn slant(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_slant"));
    c.args(args).env("RUST_BACKTRACE", "1");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run slant")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("slant-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with a message containing every `needle`, a help line, and no panic.
fn assert_clean_failure(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success; stderr:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("stack backtrace"), "panic:\n{err}");
    assert!(err.starts_with("error: "), "error line first:\n{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
}

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/stance-minilm-l6")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn nonexistent_path() {
    let o = slant(&["score", "/no/such/file.txt"], &[]);
    assert_clean_failure(&o, &["/no/such/file.txt", "no such file", "help:"]);
}

#[test]
fn empty_file() {
    let d = tmp("empty");
    std::fs::write(d.join("a.txt"), "  \n\n").unwrap();
    assert_clean_failure(&slant(&["score", p(&d.join("a.txt"))], &[]), &["a.txt", "empty", "help:"]);
}

#[test]
fn binary_file() {
    let d = tmp("binary");
    std::fs::write(d.join("a.txt"), [0x7f, b'E', b'L', b'F', 0, 0, 1, 2]).unwrap();
    assert_clean_failure(&slant(&["score", p(&d.join("a.txt"))], &[]), &["a.txt", "binary", "help:"]);
}

#[test]
fn invalid_utf8_is_lossy_with_a_warning_and_refused_with_strict() {
    let d = tmp("utf8");
    let mut bytes = b"NATO allies met in Brussels on Monday and agreed to spend more. ".to_vec();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b" The alliance said so.\n");
    std::fs::write(d.join("a.txt"), &bytes).unwrap();
    let o = slant(&["score", p(&d.join("a.txt")), "--no-cache"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("invalid UTF-8 at byte 64"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains('\u{FFFD}'));
    assert_clean_failure(&slant(&["score", p(&d.join("a.txt")), "--strict"], &[]), &["a.txt", "invalid UTF-8 at byte 64", "iconv"]);
}

#[test]
fn a_one_megabyte_paragraph_is_windowed() {
    let d = tmp("huge");
    let sentence = "The committee discussed budgets, procurement and logistics at length. ";
    let mut text = String::from("NATO said this. ");
    while text.len() < 1_000_000 {
        text.push_str(sentence);
    }
    std::fs::write(d.join("a.txt"), &text).unwrap();
    let o = slant(&["score", p(&d.join("a.txt")), "--no-cache", "--batch-size", "64"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let rec: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert!(rec["windows"].as_u64().unwrap() > 500, "windows: {}", rec["windows"]);
    assert_eq!(rec["text"].as_str().unwrap().len(), text.trim_end().len(), "not truncated");
}

#[test]
fn malformed_jsonl_line_is_skipped_with_its_line_number_or_fatal_with_strict() {
    let d = tmp("jsonl");
    let f = d.join("a.jsonl");
    std::fs::write(&f, "{\"id\": \"1\", \"source\": \"X\", \"text\": \"NATO met.\"}\n{\"id\": 2, \"text\": \n{\"id\": \"3\", \"source\": \"X\", \"text\": \"The EU met.\"}\n").unwrap();
    let o = slant(&["score", p(&f), "--no-cache"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("a.jsonl: line 2: malformed JSON"), "{}", stderr(&o));
    // two documents: a paragraph record and a stance record each
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 4);
    assert_clean_failure(&slant(&["score", p(&f), "--strict"], &[]), &["a.jsonl:2:", "malformed JSON", "help:"]);
}

#[test]
fn jsonl_record_without_text() {
    let d = tmp("notext");
    let f = d.join("a.jsonl");
    std::fs::write(&f, "{\"id\": \"1\", \"source\": \"X\", \"title\": \"NATO\"}\n").unwrap();
    assert_clean_failure(&slant(&["score", p(&f)], &[]), &["a.jsonl", "no readable records", "help:"]);
    assert_clean_failure(&slant(&["score", p(&f), "--strict"], &[]), &["a.jsonl:1:", "no \"text\" field"]);
}

#[test]
fn unknown_eval_format() {
    let o = slant(&["eval", concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/fixtures/seeds.jsonl"), "--format", "xml"], &[]);
    assert_clean_failure(&o, &["unknown --format \"xml\"", "slant, newsmtsc, semeval, vast, ruw"]);
}

#[test]
fn bad_targets_toml_gives_line_and_column() {
    let d = tmp("targets");
    let t = d.join("t.toml");
    std::fs::write(&t, "[[target]]\nname = \"Russia\"\naliases = [\"Russia\",, \"Kremlin\"]\n").unwrap();
    std::fs::write(d.join("a.txt"), "Russia said.").unwrap();
    assert_clean_failure(&slant(&["score", p(&d.join("a.txt")), "--targets", p(&t)], &[]), &["t.toml:3:", "invalid targets file"]);
}

#[test]
fn model_directory_missing_a_file_and_a_model_with_the_wrong_sha() {
    let d = tmp("model");
    let m = d.join("model");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::copy(model_dir().join("manifest.json"), m.join("manifest.json")).unwrap();
    std::fs::write(d.join("a.txt"), "NATO met.").unwrap();
    let o = slant(&["score", p(&d.join("a.txt")), "--model", p(&m)], &[]);
    assert_clean_failure(&o, &["model.onnx is missing", "help:"]);
    std::fs::copy(model_dir().join("tokenizer.json"), m.join("tokenizer.json")).unwrap();
    std::fs::write(m.join("model.onnx"), b"corrupted").unwrap();
    let o = slant(&["score", p(&d.join("a.txt")), "--model", p(&m)], &[]);
    assert_clean_failure(&o, &["sha256", "manifest.json expects", "help:"]);
}

#[test]
fn onnx_runtime_missing_or_not_onnx_runtime() {
    let d = tmp("ort");
    std::fs::write(d.join("a.txt"), "NATO met.").unwrap();
    let o = slant(&["score", p(&d.join("a.txt")), "--no-cache"], &[("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")]);
    assert_clean_failure(&o, &["ORT_DYLIB_PATH", "not a file", "help:"]);
    // a shared library that is not ONNX Runtime (or too old to export the API) is refused cleanly
    let not_ort = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libc.so.6"].into_iter().find(|f| Path::new(f).exists()).expect("a system library");
    let o = slant(&["score", p(&d.join("a.txt")), "--no-cache"], &[("ORT_DYLIB_PATH", not_ort)]);
    assert_clean_failure(&o, &["could not load", "OrtGetApiBase", "help:"]);
}

#[test]
fn onnx_runtime_of_the_wrong_version() {
    // a stand-in libonnxruntime that reports version 1.20.0 through the real entry point
    let d = tmp("ortver");
    let c = d.join("fake.c");
    std::fs::write(&c, "#include <stddef.h>\ntypedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } OrtApiBase;\nstatic const void* get_api(unsigned v) { (void)v; return NULL; }\nstatic const char* version(void) { return \"1.20.0\"; }\nstatic const OrtApiBase base = { get_api, version };\nconst OrtApiBase* OrtGetApiBase(void) { return &base; }\n").unwrap();
    let lib = d.join("libonnxruntime.so.1.20.0");
    let cc = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&c).status().expect("a C compiler (gcc) to build the stand-in library");
    assert!(cc.success());
    std::fs::write(d.join("a.txt"), "NATO met.").unwrap();
    let o = slant(&["score", p(&d.join("a.txt")), "--no-cache"], &[("ORT_DYLIB_PATH", p(&lib))]);
    assert_clean_failure(&o, &["could not load", "1.20.0", "1.31", "help:"]);
}

#[test]
fn a_directory_run_reports_bad_files_and_scores_the_rest() {
    let d = tmp("dir");
    std::fs::write(d.join("good.txt"), "NATO allies met in Brussels.").unwrap();
    std::fs::write(d.join("empty.txt"), "").unwrap();
    std::fs::write(d.join("bin.txt"), [0u8, 1, 2]).unwrap();
    let o = slant(&["score", p(&d), "--no-cache"], &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("skipped: ") && err.contains("empty.txt") && err.contains("bin.txt"), "{err}");
    assert!(err.contains("1 documents") && err.contains("2 files skipped"), "{err}");
    // the paragraph's record and its NATO stance record
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 2);
}

#[test]
fn unknown_section_and_resume_without_output() {
    assert_clean_failure(&slant(&["score", "datasets/seeds", "--sections", "body,footer"], &[]), &["unknown section \"footer\""]);
    let o = slant(&["score", "datasets/seeds", "--resume"], &[]);
    assert!(!o.status.success());
    assert!(!stderr(&o).contains("panicked"));
}
