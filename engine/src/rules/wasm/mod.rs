//! Rules as WebAssembly components (the WIT world `latchkey:rules/rule` in `rules/wit/`).
//!
//! One [`WasmRuntime`] per process holds the shared wasmtime `Engine` (Cranelift, with the
//! pooling allocator and copy-on-write memory images), the linker, the compiled plugins by
//! content hash, and a thread that advances the engine's epoch every millisecond. Loading
//! a plugin compiles it once (through the on-disk cache when one is configured) into an
//! `InstancePre`; every evaluation instantiates it into a fresh `Store` with a fuel budget
//! (deterministic), an epoch deadline (wall clock) and a memory cap, so a plugin that loops,
//! recurses, allocates or sleeps without end fails that one evaluation with a
//! [`RuleError`] and nothing else.
//!
//! Plugins may import only the world's own interface and `log`, and the WASI interfaces a
//! Rust guest drags in without using them (`wasi:cli`, `wasi:io`, `wasi:clocks`,
//! `wasi:random`). They are linked against a context that grants nothing: no preopened
//! directories, no environment, no arguments, stdio discarded, fixed stand-ins for clocks
//! and randomness (so the same input always gives the same plan), and clocks that refuse to
//! be waited on.

mod convert;
mod errors;
mod no_wait;
mod rule;
mod runtime;
mod slots;
mod state;

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::RuleLimits;
pub use errors::LoadError;
pub use rule::{WarmPlugin, WasmRule};
pub use runtime::WasmRuntime;

/// Host bindings for the WIT world `latchkey:rules/rule`.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../rules/wit",
        world: "rule",
    });
}

/// Import name prefixes a plugin may have: the world's own (its types and `log`) and the
/// WASI interfaces a Rust guest imports without using them. Anything else (filesystem,
/// sockets, HTTP) is refused at load with its name.
const ALLOWED_IMPORTS: [&str; 5] = [
    "latchkey:rules/",
    "wasi:cli/",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
];

/// How often the epoch advances; the deadline is counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How much of a plugin's memory (and of each table) is reset in place when its slot is
/// reused, instead of being handed back to the kernel. Resetting in place spares the
/// `madvise` calls, which take the process's memory-map lock and interrupt the other cores,
/// so evaluations on several cores no longer slow each other down.
const KEEP_RESIDENT_BYTES: usize = 4 * 1024 * 1024;

/// What one plugin instance may hold. A Rust guest built for `wasm32-wasip2` is one core
/// module with one memory plus a few shim modules with a table each.
struct PerPlugin {
    core_instances: u32,
    memories: u32,
    tables: u32,
}

const PER_PLUGIN: PerPlugin = PerPlugin {
    core_instances: 16,
    memories: 2,
    tables: 16,
};

/// Limits specific to WebAssembly, beside the shared [`RuleLimits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmLimits {
    /// Fuel per evaluation (about one unit per WebAssembly instruction).
    pub fuel: u64,
    /// Largest linear memory, in bytes.
    pub max_memory_bytes: usize,
    /// Most table elements.
    pub max_table_elements: usize,
    /// Largest input handed to a plugin, in bytes of its memory (strings plus 16 bytes per
    /// string, list element and record).
    pub max_input_bytes: usize,
    /// Largest component accepted, in bytes.
    pub max_component_bytes: usize,
    /// Plugin instances alive at once across the runtime; further evaluations wait for a
    /// free one. Also sizes the pooling allocator.
    pub max_concurrent: u32,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits {
            fuel: 500_000_000,
            max_memory_bytes: 64 * 1024 * 1024,
            max_table_elements: 100_000,
            max_input_bytes: 1024 * 1024,
            max_component_bytes: 10 * 1024 * 1024,
            max_concurrent: 32,
        }
    }
}

/// How a [`WasmRuntime`] is set up.
#[derive(Debug, Clone, Default)]
pub struct WasmConfig {
    /// Limits on plugins.
    pub limits: WasmLimits,
    /// The limits every rule has, whatever its runtime (the deadline and the plan's size).
    pub rule_limits: RuleLimits,
    /// Where compiled code is kept between runs, keyed by the component's content hash
    /// and wasmtime's version and settings (wasmtime's own cache). `None` compiles every
    /// component on each start. Must be an absolute path.
    pub cache_dir: Option<PathBuf>,
}

/// A component's SHA-256: how plugins are told apart and cached.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// The hash of a component's bytes.
    pub fn of(bytes: &[u8]) -> ContentHash {
        ContentHash(Sha256::digest(bytes).into())
    }
}

impl std::fmt::Display for ContentHash {
    /// Lower-case hex, 64 characters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

/// Counts of the on-disk cache of compiled code since the runtime started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Components found compiled on disk.
    pub hits: usize,
    /// Components compiled (and then written to the cache).
    pub misses: usize,
}

#[cfg(test)]
mod tests;
