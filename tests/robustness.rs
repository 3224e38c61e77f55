//! Same answer every time (whatever --threads and --batch-size), and a killed run resumed with
//! --resume ends with exactly what an uninterrupted run writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_slant"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("slant-rob-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datasets/seeds")
}

fn score(input: &Path, out: &Path, extra: &[&str]) {
    let o = bin().arg("score").arg(input).arg("-o").arg(out).args(["--no-cache"]).args(extra).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn output_is_byte_identical_across_threads_and_batch_sizes() {
    let d = tmp("det");
    let runs = [("1", "1"), ("2", "32"), ("2", "7"), ("1", "64")];
    let mut outputs = Vec::new();
    for (threads, bs) in runs {
        let out = d.join(format!("t{threads}-b{bs}.jsonl"));
        score(&seeds(), &out, &["--threads", threads, "--batch-size", bs]);
        outputs.push(std::fs::read(&out).unwrap());
    }
    for (o, (t, b)) in outputs.iter().zip(runs).skip(1) {
        assert!(o == &outputs[0], "--threads {t} --batch-size {b} differs from --threads 1 --batch-size 1");
    }
}

/// Many copies of the seeds under distinct names: a run long enough to kill in the middle.
fn big_input(d: &Path) -> PathBuf {
    let input = d.join("input");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..8 {
        for e in std::fs::read_dir(seeds()).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "txt") {
                std::fs::copy(&p, input.join(format!("copy{i}_{}", p.file_name().unwrap().to_str().unwrap()))).unwrap();
            }
        }
    }
    input
}

#[test]
fn a_killed_run_resumes_to_the_same_output() {
    let d = tmp("resume");
    let input = big_input(&d);
    let reference = d.join("reference.jsonl");
    // the fast tier: the resume logic is the same for both, and this run is 40 documents long
    score(&input, &reference, &["--threads", "2", "--model", "fast"]);

    let out = d.join("out.jsonl");
    let partial = d.join("out.jsonl.partial");
    let mut child = bin().arg("score").arg(&input).arg("-o").arg(&out).args(["--no-cache", "--threads", "2", "--model", "fast"]).stderr(Stdio::null()).spawn().unwrap();
    // kill it (SIGKILL) once it has written part of its output
    let started = Instant::now();
    loop {
        let lines = std::fs::read(&partial).map(|b| b.iter().filter(|&&c| c == b'\n').count()).unwrap_or(0);
        if lines >= 20 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "run finished before it could be killed");
        assert!(started.elapsed() < Duration::from_secs(300), "no output after 300 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed run leaves no file that looks complete");
    let written = std::fs::read(&partial).unwrap();
    let reference_bytes = std::fs::read(&reference).unwrap();
    assert!(written.len() < reference_bytes.len(), "killed before the end");

    let o = bin().arg("score").arg(&input).arg("-o").arg(&out).args(["--no-cache", "--threads", "2", "--model", "fast", "--resume"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("resuming after"), "{err}");
    assert!(!partial.exists());
    assert!(std::fs::read(&out).unwrap() == reference_bytes, "resumed output differs from an uninterrupted run");
}

#[test]
fn resume_refuses_a_partial_file_from_other_input() {
    let d = tmp("mismatch");
    let out = d.join("out.jsonl");
    let line = r#"{"doc_id":"zzz","source":"s","title":null,"paragraph":0,"section":"body","start":0,"end":4,"target":"NATO","mentions":[],"text":"NATO","probs":{"against":0.1,"neutral":0.8,"favor":0.1},"score":0.0,"label":"neutral","windows":1,"model":{"name":"m","sha256":"x"}}"#;
    std::fs::write(d.join("out.jsonl.partial"), format!("{line}\n")).unwrap();
    let o = bin().arg("score").arg(seeds()).arg("-o").arg(&out).args(["--no-cache", "--resume"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--resume") && err.contains("delete the .partial file"), "{err}");
}
