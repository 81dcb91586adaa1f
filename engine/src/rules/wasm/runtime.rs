//! The process's one wasmtime engine: configuration, the deny-all linker, compiled plugins
//! by content hash, the bound on live instances, and the epoch ticker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig, Store,
};

use super::errors::{LoadError, classify};
use super::rule::WasmRule;
use super::slots::Slots;
use super::state::PluginState;
use super::{
    ALLOWED_IMPORTS, CacheStats, ContentHash, EPOCH_TICK, KEEP_RESIDENT_BYTES, PER_PLUGIN,
    WasmConfig, WasmLimits, bindings, convert, no_wait,
};
use crate::rules::{Plan, RuleError, RuleLimits};

pub(super) type RulePre = bindings::RulePre<PluginState>;
pub(super) type WitInput = bindings::latchkey::rules::types::RuleInput;

/// The shared engine, linker, compiled plugins and epoch ticker. Create one per process.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<PluginState>,
    limits: WasmLimits,
    rule_limits: RuleLimits,
    cache: Option<Cache>,
    compiled: Mutex<HashMap<ContentHash, RulePre>>,
    pub(super) slots: Slots,
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
        Ok(WasmRule::new(Arc::clone(self), pre, hash))
    }

    /// The on-disk cache's hits and misses since start; `None` without a cache.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|c| CacheStats {
            hits: c.cache_hits(),
            misses: c.cache_misses(),
        })
    }

    fn compiled(&self) -> std::sync::MutexGuard<'_, HashMap<ContentHash, RulePre>> {
        // Entries are only ever inserted whole, so the map is consistent even after a panic
        // elsewhere.
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

    /// Refuses an input larger than [`WasmLimits::max_input_bytes`] in the plugin's
    /// memory.
    pub(super) fn check_input(&self, input: &WitInput) -> Result<(), RuleError> {
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
    pub(super) fn store(&self) -> Store<PluginState> {
        let mut store = Store::new(&self.engine, PluginState::new(&self.limits));
        store.limiter(|state| &mut state.limiter);
        store
    }

    /// Fills the fuel tank and sets the deadline, counted from now.
    pub(super) fn arm(&self, store: &mut Store<PluginState>) -> Result<(), RuleError> {
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| RuleError::Runtime(e.to_string()))?;
        let ticks =
            u64::try_from(self.rule_limits.deadline.as_millis() / EPOCH_TICK.as_millis().max(1))
                .unwrap_or(u64::MAX);
        store.set_epoch_deadline(ticks.max(1));
        Ok(())
    }

    /// A trap, as the rule error Rhai would give.
    pub(super) fn trapped(&self, e: &wasmtime::Error) -> RuleError {
        classify(e, &self.limits, &self.rule_limits)
    }

    /// The plan, the plugin's own error, or the trap, as the rule errors Rhai gives.
    pub(super) fn finish(
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
            Err(e) => Err(self.trapped(&e)),
        }
    }
}
