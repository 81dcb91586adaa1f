//! A compiled plugin, and the evaluation of one input in a fresh instance.

use std::sync::Arc;

use wasmtime::Store;

use super::runtime::{RulePre, WasmRuntime};
use super::state::PluginState;
use super::{ContentHash, bindings, convert};
use crate::rules::{Plan, Rule, RuleError, RuleInput};

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
    pub(super) fn new(runtime: Arc<WasmRuntime>, pre: RulePre, hash: ContentHash) -> WasmRule {
        WasmRule { runtime, pre, hash }
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
    /// evaluation leaves in the plugin's memory would reach the next. A warm instance holds
    /// one of the pool's instance slots outside the bound on live instances.
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
            .map_err(|e| rt.trapped(&e))?;
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

impl Rule for WasmRule {
    fn plan(&self, input: &RuleInput) -> Result<Plan, RuleError> {
        self.run(input).0
    }

    fn plan_with_log(&self, input: &RuleInput) -> (Result<Plan, RuleError>, Vec<String>) {
        self.run(input)
    }
}
