//! Compiling rules: a Rhai script (`.rhai`) or a WebAssembly component (`.wasm`), from a
//! file (told apart by extension) or from uploaded bytes, for every place a rule is used
//! (serve, `rules test`, replay, the plugin API).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use latchkey_engine::rules::rhai::RhaiRule;
use latchkey_engine::rules::wasm::{LoadError, WasmConfig, WasmLimits, WasmRule, WasmRuntime};
use latchkey_engine::rules::{Rule, RuleLimits};

use crate::error::{Error, Result};

/// Compiles rules under one set of limits. Holds the process's one WebAssembly runtime,
/// started the first time a component is loaded (so a Rhai-only service runs no epoch
/// ticker and reserves no instance pool). Cheap to clone.
#[derive(Debug, Clone)]
pub struct RuleLoader(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    limits: RuleLimits,
    cache_dir: Option<PathBuf>,
    wasm: Mutex<Option<Arc<WasmRuntime>>>,
}

impl RuleLoader {
    /// A loader applying `limits`; compiled components are cached in `cache_dir` (an
    /// absolute path, created if missing) when given.
    pub fn new(limits: RuleLimits, cache_dir: Option<PathBuf>) -> RuleLoader {
        RuleLoader(Arc::new(Inner {
            limits,
            cache_dir,
            wasm: Mutex::new(None),
        }))
    }

    /// The limits every rule runs under.
    pub fn limits(&self) -> &RuleLimits {
        &self.0.limits
    }

    /// Reads and compiles the rule at `path`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the file: unreadable, an extension other than `.rhai` or
    /// `.wasm`, or a rule that does not compile (with the compiler's message).
    pub fn file(&self, path: &Path) -> Result<Arc<dyn Rule>> {
        let fail = |what: String| Error::config(format!("{}: {what}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("rhai") => {
                let source = String::from_utf8(bytes)
                    .map_err(|_| fail("a Rhai script must be UTF-8".into()))?;
                let rule = RhaiRule::compile(&source, self.0.limits.clone())
                    .map_err(|e| fail(e.to_string()))?;
                Ok(Arc::new(rule))
            }
            Some("wasm") => {
                let rule = self.component(&bytes)?.map_err(|e| fail(e.to_string()))?;
                Ok(Arc::new(rule))
            }
            _ => Err(fail(
                "a rule is a Rhai script (.rhai) or a WebAssembly component (.wasm)".into(),
            )),
        }
    }

    /// Compiles a WebAssembly component (or finds it compiled, by content hash).
    ///
    /// # Errors
    /// The outer error when the WebAssembly runtime cannot start ([`Error::Config`]); the
    /// inner one when the component is refused.
    pub fn component(&self, bytes: &[u8]) -> Result<Result<WasmRule, LoadError>> {
        Ok(self.wasm()?.load(bytes))
    }

    /// [`RuleLoader::component`] on a blocking thread, for async callers: compiling a
    /// component takes from milliseconds (cached) to seconds.
    ///
    /// # Errors
    /// As [`RuleLoader::component`]; [`Error::Internal`] if the compilation panicked.
    pub async fn compile_component(
        &self,
        bytes: bytes::Bytes,
    ) -> Result<Result<WasmRule, LoadError>> {
        let loader = self.clone();
        tokio::task::spawn_blocking(move || loader.component(&bytes))
            .await
            .map_err(|e| Error::internal_from("plugin compilation panicked", e))?
    }

    /// The WebAssembly runtime, started on first use.
    ///
    /// # Errors
    /// [`Error::Config`] when wasmtime cannot start on this machine or the cache directory
    /// cannot be created.
    pub fn wasm(&self) -> Result<Arc<WasmRuntime>> {
        // Holding the lock while starting keeps two callers from starting two runtimes.
        let mut wasm = self.0.wasm.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(runtime) = wasm.as_ref() {
            return Ok(Arc::clone(runtime));
        }
        let runtime = WasmRuntime::new(WasmConfig {
            limits: WasmLimits::default(),
            rule_limits: self.0.limits.clone(),
            cache_dir: self.0.cache_dir.clone(),
        })
        .map_err(|e| Error::config_from("WebAssembly runtime", e))?;
        *wasm = Some(Arc::clone(&runtime));
        Ok(runtime)
    }
}
