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
mod no_wait;
mod slots;
mod state;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig, Store, Trap,
};

use super::{Plan, Rule, RuleError, RuleInput, RuleLimits};
use slots::Slots;
use state::{GrowthRefused, PluginState};

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

/// Why a component was refused at load. Each maps to [`RuleError::Compile`] with the same
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Larger than [`WasmLimits::max_component_bytes`].
    #[error("component is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Its size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// Not a WebAssembly component (garbage, a core module, or a component that does not
    /// validate or compile).
    #[error("not a valid WebAssembly component: {0}")]
    NotAComponent(String),
    /// Imports interfaces plugins may not use.
    #[error("component imports {}, which plugins may not use (allowed: log, {allowed})", quoted(.imports))]
    ForbiddenImport {
        /// Every forbidden import's full name, e.g. `wasi:filesystem/types@0.2.0`.
        imports: Vec<String>,
        /// The allowed prefixes, comma-separated.
        allowed: String,
    },
    /// Does not export `plan` with the world's signature.
    #[error("component does not implement world latchkey:rules/rule: {0}")]
    WrongWorld(String),
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<LoadError> for RuleError {
    fn from(e: LoadError) -> RuleError {
        RuleError::Compile(e.to_string())
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

type RulePre = bindings::RulePre<PluginState>;
type WitInput = bindings::latchkey::rules::types::RuleInput;

/// The shared engine, linker, compiled plugins and epoch ticker. Create one per process.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<PluginState>,
    limits: WasmLimits,
    rule_limits: RuleLimits,
    cache: Option<Cache>,
    compiled: Mutex<HashMap<ContentHash, RulePre>>,
    slots: Slots,
    ticking: Arc<AtomicBool>,
}

impl std::fmt::Debug for WasmRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmRuntime")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Drop for WasmRuntime {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::Relaxed);
    }
}

impl WasmRuntime {
    /// Builds the engine (Cranelift, fuel, epochs, the pooling allocator sized by
    /// [`WasmLimits::max_concurrent`], the compiled-code cache) and the deny-all linker,
    /// and starts the epoch ticker.
    ///
    /// # Errors
    /// [`RuleError::Runtime`] when wasmtime cannot be configured on this machine (for
    /// example when the pool's address space cannot be reserved, or the cache directory
    /// cannot be created).
    pub fn new(config: WasmConfig) -> Result<Arc<WasmRuntime>, RuleError> {
        let WasmConfig {
            limits,
            rule_limits,
            cache_dir,
        } = config;
        let fail = |what: &str, e: wasmtime::Error| RuleError::Runtime(format!("{what}: {e:#}"));
        let n = limits.max_concurrent.max(1);
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n)
            .total_core_instances(n * PER_PLUGIN.core_instances)
            .max_core_instances_per_component(PER_PLUGIN.core_instances)
            .total_memories(n * PER_PLUGIN.memories)
            .max_memories_per_component(PER_PLUGIN.memories)
            .total_tables(n * PER_PLUGIN.tables)
            .max_tables_per_component(PER_PLUGIN.tables)
            .max_memory_size(limits.max_memory_bytes)
            .table_elements(limits.max_table_elements)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(KEEP_RESIDENT_BYTES)
            .pagemap_scan(Enabled::Auto);
        let cache = match cache_dir {
            Some(dir) => {
                let mut cache_config = CacheConfig::new();
                cache_config.with_directory(dir);
                Some(
                    Cache::new(cache_config)
                        .map_err(|e| fail("cannot open the compiled-code cache", e))?,
                )
            }
            None => None,
        };
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .wasm_component_model(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .memory_init_cow(true)
            .cache(cache.clone());
        let engine = Engine::new(&config).map_err(|e| fail("cannot start wasmtime", e))?;
        let mut linker = Linker::<PluginState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| fail("cannot link WASI", e))?;
        no_wait::forbid_waiting(&mut linker).map_err(|e| fail("cannot restrict WASI clocks", e))?;
        bindings::Rule::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| fail("cannot link the rule world", e))?;
        let ticking = Arc::new(AtomicBool::new(true));
        {
            let (engine, ticking) = (engine.clone(), Arc::clone(&ticking));
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || {
                    while ticking.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| RuleError::Runtime(format!("cannot start the epoch ticker: {e}")))?;
        }
        Ok(Arc::new(WasmRuntime {
            engine,
            linker,
            slots: Slots::new(n as usize),
            limits,
            rule_limits,
            cache,
            compiled: Mutex::new(HashMap::new()),
            ticking,
        }))
    }

    /// Compiles and checks a component, or finds it already compiled by its content hash:
    /// its size, that it compiles, that it imports nothing it may not, and that it
    /// implements the `rule` world. Loading the same bytes again is cheap.
    ///
    /// # Errors
    /// [`LoadError`] naming what is wrong: too large, not a component, a forbidden import
    /// (by name), or the wrong world.
    pub fn load(self: &Arc<Self>, bytes: &[u8]) -> Result<WasmRule, LoadError> {
        if bytes.len() > self.limits.max_component_bytes {
            return Err(LoadError::TooLarge {
                size: bytes.len(),
                limit: self.limits.max_component_bytes,
            });
        }
        let hash = ContentHash::of(bytes);
        let known = self.compiled().get(&hash).cloned();
        let pre = match known {
            Some(pre) => pre,
            None => {
                let pre = self.compile(bytes)?;
                self.compiled().insert(hash, pre.clone());
                pre
            }
        };
        Ok(WasmRule {
            runtime: Arc::clone(self),
            pre,
            hash,
        })
    }

    /// The on-disk cache's hits and misses since start; `None` without a cache.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|c| CacheStats {
            hits: c.cache_hits(),
            misses: c.cache_misses(),
        })
    }

    fn compiled(&self) -> std::sync::MutexGuard<'_, HashMap<ContentHash, RulePre>> {
        // The map is only inserted into and removed from whole, so it is consistent even
        // after a panic elsewhere.
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn compile(&self, bytes: &[u8]) -> Result<RulePre, LoadError> {
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| LoadError::NotAComponent(format!("{e:#}")))?;
        let forbidden: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name)
            .filter(|name| *name != "log" && !ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p)))
            .map(str::to_owned)
            .collect();
        if !forbidden.is_empty() {
            return Err(LoadError::ForbiddenImport {
                imports: forbidden,
                allowed: ALLOWED_IMPORTS.join(", "),
            });
        }
        self.linker
            .instantiate_pre(&component)
            .and_then(bindings::RulePre::new)
            .map_err(|e| LoadError::WrongWorld(format!("{e:#}")))
    }
}

/// A compiled plugin, ready to evaluate. Cheap to clone.
#[derive(Clone)]
pub struct WasmRule {
    runtime: Arc<WasmRuntime>,
    pre: RulePre,
    hash: ContentHash,
}

impl std::fmt::Debug for WasmRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmRule")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl WasmRule {
    /// The SHA-256 of the component this rule was loaded from.
    pub fn content_hash(&self) -> ContentHash {
        self.hash
    }

    /// Evaluates in a fresh instance, waiting for a free instance slot first.
    fn run(&self, input: &RuleInput) -> (Result<Plan, RuleError>, Vec<String>) {
        let rt = &self.runtime;
        let wit_input = convert::input(input);
        if let Err(e) = rt.check_input(&wit_input) {
            return (Err(e), Vec::new());
        }
        let mut store = rt.store();
        let _slot = rt.slots.take();
        // Fuel and the deadline count from here, not from before the wait for a slot.
        if let Err(e) = rt.arm(&mut store) {
            return (Err(e), Vec::new());
        }
        let outcome = self
            .pre
            .instantiate(&mut store)
            .and_then(|rule| rule.call_plan(&mut store, &wit_input));
        (
            rt.finish(outcome),
            std::mem::take(&mut store.data_mut().log),
        )
    }

    /// An instance kept between calls, to measure the cost of a call alone
    /// (`engine/benches/rules.rs`). The service never reuses an instance: whatever one
    /// evaluation leaves in the plugin's memory would reach the next.
    ///
    /// # Errors
    /// [`RuleError`] when the plugin traps while starting.
    pub fn warm(&self) -> Result<WarmPlugin, RuleError> {
        let rt = &self.runtime;
        let mut store = rt.store();
        rt.arm(&mut store)?;
        let rule = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| classify(&e, &rt.limits, &rt.rule_limits))?;
        Ok(WarmPlugin {
            runtime: Arc::clone(rt),
            store,
            rule,
        })
    }
}

/// A plugin instance reused across calls; see [`WasmRule::warm`].
pub struct WarmPlugin {
    runtime: Arc<WasmRuntime>,
    store: Store<PluginState>,
    rule: bindings::Rule,
}

impl WarmPlugin {
    /// Plans `input` on the kept instance, with fresh fuel and a fresh deadline.
    ///
    /// # Errors
    /// As [`Rule::plan`]; after a trap the instance is unusable.
    pub fn plan(&mut self, input: &RuleInput) -> Result<Plan, RuleError> {
        let rt = &self.runtime;
        let wit_input = convert::input(input);
        rt.check_input(&wit_input)?;
        rt.arm(&mut self.store)?;
        let outcome = self.rule.call_plan(&mut self.store, &wit_input);
        rt.finish(outcome)
    }
}

impl WasmRuntime {
    /// Refuses an input larger than [`WasmLimits::max_input_bytes`] in the plugin's
    /// memory.
    fn check_input(&self, input: &WitInput) -> Result<(), RuleError> {
        let size = convert::size(input);
        if size > self.limits.max_input_bytes {
            return Err(RuleError::Limit {
                limit: "input size",
                detail: format!(
                    "input is {size} bytes, more than {}",
                    self.limits.max_input_bytes
                ),
            });
        }
        Ok(())
    }

    /// A fresh store with the memory and table caps.
    fn store(&self) -> Store<PluginState> {
        let mut store = Store::new(&self.engine, PluginState::new(&self.limits));
        store.limiter(|state| &mut state.limiter);
        store
    }

    /// Fills the fuel tank and sets the deadline, counted from now.
    fn arm(&self, store: &mut Store<PluginState>) -> Result<(), RuleError> {
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| RuleError::Runtime(e.to_string()))?;
        let ticks =
            u64::try_from(self.rule_limits.deadline.as_millis() / EPOCH_TICK.as_millis().max(1))
                .unwrap_or(u64::MAX);
        store.set_epoch_deadline(ticks.max(1));
        Ok(())
    }

    /// The plan, the plugin's own error, or the trap, as the rule errors Rhai gives.
    fn finish(
        &self,
        outcome: wasmtime::Result<
            Result<
                bindings::latchkey::rules::types::Plan,
                bindings::latchkey::rules::types::RuleError,
            >,
        >,
    ) -> Result<Plan, RuleError> {
        match outcome {
            Ok(Ok(plan)) => convert::plan(plan, &self.rule_limits),
            Ok(Err(e)) => Err(convert::plugin_error(e)),
            Err(e) => Err(classify(&e, &self.limits, &self.rule_limits)),
        }
    }
}

impl Rule for WasmRule {
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError> {
        self.run(input).0
    }

    fn plan_with_log(&self, input: &RuleInput) -> (Result<Plan, RuleError>, Vec<String>) {
        self.run(input)
    }
}

/// Turns a trap into the same errors Rhai rules give.
fn classify(e: &wasmtime::Error, limits: &WasmLimits, rule_limits: &RuleLimits) -> RuleError {
    if let Some(refused) = e.downcast_ref::<GrowthRefused>() {
        return match refused {
            GrowthRefused::Memory { desired } => RuleError::Limit {
                limit: "memory",
                detail: format!(
                    "asked for {desired} bytes, more than the cap of {}",
                    limits.max_memory_bytes
                ),
            },
            GrowthRefused::Table { desired } => RuleError::Limit {
                limit: "table size",
                detail: format!(
                    "asked for {desired} elements, more than the cap of {}",
                    limits.max_table_elements
                ),
            },
        };
    }
    if let Some(refused) = e.downcast_ref::<no_wait::WaitRefused>() {
        return RuleError::Runtime(refused.to_string());
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => RuleError::Limit {
            limit: "operations",
            detail: format!("ran out of its fuel budget of {}", limits.fuel),
        },
        Some(Trap::Interrupt) => RuleError::Limit {
            limit: "time",
            detail: format!(
                "still running after {} ms",
                rule_limits.deadline.as_millis()
            ),
        },
        Some(Trap::StackOverflow) => RuleError::Limit {
            limit: "call depth",
            detail: "the stack overflowed".into(),
        },
        Some(Trap::UnreachableCodeReached) => {
            RuleError::Runtime("plugin trapped: it panicked or reached `unreachable`".into())
        }
        Some(trap) => RuleError::Runtime(format!("plugin trapped: {trap}")),
        None => RuleError::Runtime(format!("plugin failed: {e:#}")),
    }
}

#[cfg(test)]
mod tests;
