//! Plugins may not wait. WASI's `monotonic-clock.subscribe-*` would park the calling thread
//! on a real timer inside a host call, where the epoch deadline cannot interrupt it, so a
//! plugin calling `std::thread::sleep` could hold a worker for as long as it liked. Both
//! functions are redefined to trap instead.

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::DynPollable;

use super::state::PluginState;

/// The WASI clocks interface as wasmtime-wasi 48 names it; guests importing an older 0.2
/// release are matched to it by semver. The hostile-plugin tests fail if this goes stale.
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// The trap a plugin gets when it tries to wait.
#[derive(Debug, thiserror::Error)]
#[error("the plugin tried to wait on a clock ({0}); rules must not sleep or poll timers")]
pub(super) struct WaitRefused(&'static str);

/// Replaces the clock subscriptions in `linker` with functions that trap.
pub(super) fn forbid_waiting(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            Err(wasmtime::Error::new(WaitRefused("subscribe-duration")))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            Err(wasmtime::Error::new(WaitRefused("subscribe-instant")))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
