//! Rule files: a Rhai script (`.rhai`) or a WebAssembly component (`.wasm`), told apart by
//! extension, compiled once and used wherever a rule is (serve, `rules test`, replay).

use std::path::Path;
use std::sync::Arc;

use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::wasm::{WasmLimits, WasmRuntime};
use latchkey_engine::rules::{Rule, RuleLimits};

use crate::error::{Error, Result};

/// Reads and compiles the rule at `path` under `limits`.
///
/// # Errors
/// [`Error::Config`] naming the file: unreadable, an extension other than `.rhai` or
/// `.wasm`, or a rule that does not compile (with the compiler's message).
pub fn load(path: &Path, limits: &RuleLimits) -> Result<Arc<dyn Rule>> {
    let fail = |what: String| Error::Config(format!("{}: {what}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("rhai") => {
            let source =
                String::from_utf8(bytes).map_err(|_| fail("a Rhai script must be UTF-8".into()))?;
            let rule =
                RhaiRule::compile(&source, limits.clone()).map_err(|e| fail(e.to_string()))?;
            Ok(Arc::new(rule))
        }
        Some("wasm") => {
            let runtime = WasmRuntime::new(WasmLimits::default(), limits.clone())
                .map_err(|e| fail(e.to_string()))?;
            let rule = runtime.load(&bytes).map_err(|e| fail(e.to_string()))?;
            Ok(Arc::new(rule))
        }
        _ => Err(fail(
            "a rule is a Rhai script (.rhai) or a WebAssembly component (.wasm)".into(),
        )),
    }
}
