//! What a plugin's `Store` holds: a WASI context that grants nothing, the memory limiter,
//! and the plugin's log.

use std::time::Duration;

use rand_wasi::SeedableRng;
use rand_wasi::rngs::StdRng;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::RuleImports;
use super::{PER_PLUGIN, WasmLimits};

/// Lines a plugin may log per evaluation, and bytes per line.
const MAX_LOG_LINES: usize = 64;
const MAX_LOG_LINE: usize = 512;

/// A clock that always reads the epoch: plugins get `now` in their input instead, so
/// reading the clock cannot make two evaluations differ.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Per-evaluation state.
pub(super) struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limiter: Limiter,
    pub(super) log: Vec<String>,
}

/// wasmtime's [`StoreLimits`], with a refused growth turned into a [`GrowthRefused`] trap
/// that says which cap was hit (rather than an error message to match on).
pub(super) struct Limiter(StoreLimits);

/// The trap raised when a plugin grows its memory or a table past its cap.
#[derive(Debug, thiserror::Error)]
pub(super) enum GrowthRefused {
    /// Linear memory, in bytes.
    #[error("the plugin asked for {desired} bytes of memory")]
    Memory {
        /// The size it asked for, in bytes.
        desired: usize,
    },
    /// Table elements.
    #[error("the plugin asked for a table of {desired} elements")]
    Table {
        /// The size it asked for, in elements.
        desired: usize,
    },
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.0
            .memory_growing(current, desired, maximum)
            .map_err(|_| wasmtime::Error::new(GrowthRefused::Memory { desired }))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.0
            .table_growing(current, desired, maximum)
            .map_err(|_| wasmtime::Error::new(GrowthRefused::Table { desired }))
    }

    fn instances(&self) -> usize {
        self.0.instances()
    }

    fn tables(&self) -> usize {
        self.0.tables()
    }

    fn memories(&self) -> usize {
        self.0.memories()
    }
}

impl PluginState {
    pub(super) fn new(limits: &WasmLimits) -> PluginState {
        // The builder starts from nothing: no preopens, environment, arguments or network;
        // stdio discarded. Clocks and randomness get fixed stand-ins (`HashMap` seeds draw
        // from `wasi:random`), so evaluations are repeatable.
        let wasi = WasiCtxBuilder::new()
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .secure_random(StdRng::seed_from_u64(0))
            .insecure_random(StdRng::seed_from_u64(0))
            .insecure_random_seed(0)
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(limits.max_memory_bytes)
            .table_elements(limits.max_table_elements)
            .instances(PER_PLUGIN.core_instances as usize)
            .tables(PER_PLUGIN.tables as usize)
            .memories(PER_PLUGIN.memories as usize)
            .trap_on_grow_failure(true)
            .build();
        PluginState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter(limits),
            log: Vec::new(),
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl RuleImports for PluginState {
    fn log(&mut self, message: String) {
        if self.log.len() < MAX_LOG_LINES {
            self.log.push(message.chars().take(MAX_LOG_LINE).collect());
        }
    }
}

/// The `types` interface declares only types; its host side has nothing to implement.
impl super::bindings::latchkey::rules::types::Host for PluginState {}
