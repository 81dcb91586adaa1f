//! Rules as WebAssembly components (the WIT world `latchkey:rules/rule` in `rules/wit/`).
//!
//! One [`WasmRuntime`] per process holds the shared wasmtime `Engine` (Cranelift), the
//! linker, and a thread that advances the engine's epoch every millisecond. Each plugin is
//! compiled once into a [`WasmRule`] holding its `InstancePre`; every evaluation gets a
//! fresh `Store` with a fuel budget (deterministic), an epoch deadline (wall clock) and a
//! memory cap, so a plugin that loops, recurses or allocates without end fails that one
//! evaluation with a [`RuleError`] and nothing else.
//!
//! Plugins may import only the world's own interface and `log`, and the WASI interfaces a
//! Rust guest drags in without using them (`wasi:cli`, `wasi:io`, `wasi:clocks`,
//! `wasi:random`). They are
//! linked against a context that grants nothing: no preopened directories, no environment,
//! no arguments, stdio discarded, and fixed stand-ins for clocks and randomness, so the same
//! input always gives the same plan.

mod convert;
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, Trap};

use super::{Plan, Rule, RuleError, RuleInput, RuleLimits};
use state::PluginState;

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

/// Limits specific to WebAssembly, beside the shared [`RuleLimits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmLimits {
    /// Fuel per evaluation (about one unit per WebAssembly instruction).
    pub fuel: u64,
    /// Largest linear memory, in bytes.
    pub max_memory_bytes: usize,
    /// Most table elements.
    pub max_table_elements: usize,
    /// Largest serialized input handed to a plugin, in bytes (checked on the JSON form).
    pub max_input_bytes: usize,
    /// Largest component accepted, in bytes.
    pub max_component_bytes: usize,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits {
            fuel: 500_000_000,
            max_memory_bytes: 64 * 1024 * 1024,
            max_table_elements: 100_000,
            max_input_bytes: 1024 * 1024,
            max_component_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The shared engine, linker and epoch ticker. Create one per process.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<PluginState>,
    limits: WasmLimits,
    rule_limits: RuleLimits,
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
    /// Builds the engine (Cranelift, fuel, epochs) and the deny-all linker, and starts the
    /// epoch ticker.
    ///
    /// # Errors
    /// [`RuleError::Runtime`] when wasmtime cannot be configured on this machine.
    pub fn new(limits: WasmLimits, rule_limits: RuleLimits) -> Result<Arc<WasmRuntime>, RuleError> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .wasm_component_model(true);
        let engine = Engine::new(&config)
            .map_err(|e| RuleError::Runtime(format!("cannot start wasmtime: {e}")))?;
        let mut linker = Linker::<PluginState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| RuleError::Runtime(format!("cannot link WASI: {e}")))?;
        bindings::Rule::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| RuleError::Runtime(format!("cannot link the rule world: {e}")))?;
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
            limits,
            rule_limits,
            ticking,
        }))
    }

    /// Compiles and checks a component: its size, that it compiles, that it imports nothing
    /// it may not, and that it implements the `rule` world.
    ///
    /// # Errors
    /// [`RuleError::Compile`] naming what is wrong: too large, not a component, a forbidden
    /// import (by name), or the wrong world.
    pub fn load(self: &Arc<Self>, bytes: &[u8]) -> Result<WasmRule, RuleError> {
        if bytes.len() > self.limits.max_component_bytes {
            return Err(RuleError::Compile(format!(
                "component is {} bytes, more than the limit of {}",
                bytes.len(),
                self.limits.max_component_bytes
            )));
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| RuleError::Compile(format!("not a valid WebAssembly component: {e:#}")))?;
        for (name, _) in component.component_type().imports(&self.engine) {
            if name != "log" && !ALLOWED_IMPORTS.iter().any(|p| name.starts_with(p)) {
                return Err(RuleError::Compile(format!(
                    "component imports `{name}`, which plugins may not use (allowed: log, {})",
                    ALLOWED_IMPORTS.join(", ")
                )));
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(bindings::RulePre::new)
            .map_err(|e| {
                RuleError::Compile(format!(
                    "component does not implement world latchkey:rules/rule: {e:#}"
                ))
            })?;
        Ok(WasmRule {
            runtime: Arc::clone(self),
            pre,
        })
    }
}

/// A compiled plugin, ready to evaluate. Cheap to clone.
#[derive(Clone)]
pub struct WasmRule {
    runtime: Arc<WasmRuntime>,
    pre: bindings::RulePre<PluginState>,
}

impl std::fmt::Debug for WasmRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmRule").finish_non_exhaustive()
    }
}

impl Rule for WasmRule {
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError> {
        let rt = &self.runtime;
        let size = serde_json::to_vec(input)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > rt.limits.max_input_bytes {
            return Err(RuleError::Limit {
                limit: "input size",
                detail: format!(
                    "input is {size} bytes, more than {}",
                    rt.limits.max_input_bytes
                ),
            });
        }
        let mut store = Store::new(&rt.engine, PluginState::new(&rt.limits));
        store.limiter(|state| &mut state.limits);
        store
            .set_fuel(rt.limits.fuel)
            .map_err(|e| RuleError::Runtime(e.to_string()))?;
        let ticks =
            u64::try_from(rt.rule_limits.deadline.as_millis() / EPOCH_TICK.as_millis().max(1))
                .unwrap_or(u64::MAX);
        store.set_epoch_deadline(ticks.max(1));
        let outcome = self
            .pre
            .instantiate(&mut store)
            .and_then(|rule| rule.call_plan(&mut store, &convert::input(input)));
        match outcome {
            Ok(Ok(plan)) => convert::plan(plan),
            Ok(Err(e)) => Err(convert::plugin_error(e)),
            Err(e) => Err(classify(&e, &rt.limits, &rt.rule_limits)),
        }
    }
}

/// Turns a trap into the same errors Rhai rules give.
fn classify(e: &wasmtime::Error, limits: &WasmLimits, rule_limits: &RuleLimits) -> RuleError {
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
        Some(trap) => RuleError::Runtime(format!("plugin trapped: {trap}")),
        None if format!("{e:#}").contains("memory") => RuleError::Limit {
            limit: "memory",
            detail: format!("{e:#} (cap {} bytes)", limits.max_memory_bytes),
        },
        None => RuleError::Runtime(format!("plugin failed: {e:#}")),
    }
}

#[cfg(test)]
mod tests;
