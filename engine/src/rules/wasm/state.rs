//! What a plugin's `Store` holds: a WASI context that grants nothing, the memory limiter,
//! and the plugin's log.

use std::time::Duration;

use rand_wasi::SeedableRng;
use rand_wasi::rngs::StdRng;
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::WasmLimits;
use super::bindings::RuleImports;

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
    pub(super) limits: StoreLimits,
    pub(super) log: Vec<String>,
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
            .instances(32)
            .tables(32)
            .memories(8)
            .trap_on_grow_failure(true)
            .build();
        PluginState {
            wasi,
            table: ResourceTable::new(),
            limits,
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
