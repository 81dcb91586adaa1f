//! Support for the black-box tests in `it/`: plugins built from source for `wasm32-wasip2`
//! (`rustup target add wasm32-wasip2`), once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The example partner plugin (`examples/plugin-hotel`): the hotel policy of
/// `rules/default.rhai`.
///
/// # Panics
/// When the plugin does not build, with cargo's message.
pub fn example_plugin() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    built(&BUILT, "../examples/plugin-hotel", "plugin_hotel")
}

/// The hostile plugin (`tests/fixtures/plugins/hostile`): misbehaves as its input's
/// reservation id says (`loop`, `memory-bomb`, `recursion`, `oversized-output`, `trap`,
/// `slow`, `log-flood`), and plans every lock for the stay otherwise.
///
/// # Panics
/// When the plugin does not build, with cargo's message.
pub fn hostile_plugin() -> PathBuf {
    fixture("plugin_hostile")
}

/// The escaping plugin (`tests/fixtures/plugins/escape`): reads a file and opens a socket,
/// so it imports `wasi:filesystem` and `wasi:sockets`.
///
/// # Panics
/// When the plugin does not build, with cargo's message.
pub fn escape_plugin() -> PathBuf {
    fixture("plugin_escape")
}

/// A plugin of the fixtures workspace, which builds all of them at once.
fn fixture(artifact: &str) -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let hostile = built(&BUILT, "fixtures/plugins", "plugin_hostile");
    hostile.with_file_name(format!("{artifact}.wasm"))
}

/// The `--target-dir` for the plugin in `dir`, given explicitly so that the path read is
/// the path cargo wrote. With `CARGO_TARGET_DIR` set, `wasm-plugins/` in the test binary's
/// target directory (`<target>/<profile>/deps/it-…`): the variable may be relative to a
/// directory this process does not know. Otherwise the plugin's own `target/`, where its
/// README and the rule benchmark look.
fn target_dir(dir: &Path) -> Result<PathBuf, String> {
    if std::env::var_os("CARGO_TARGET_DIR").is_none_or(|v| v.is_empty()) {
        return Ok(dir.join("target"));
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the test binary: {e}"))?;
    exe.ancestors()
        .nth(3)
        .map(|target| target.join("wasm-plugins"))
        .ok_or_else(|| format!("{} is not in a cargo target directory", exe.display()))
}

fn built(cell: &OnceLock<Result<PathBuf, String>>, dir: &str, artifact: &str) -> PathBuf {
    let result = cell.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let target = target_dir(&dir)?;
        let out = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"])
            .arg("--target-dir")
            .arg(&target)
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "building {} failed (is the wasm32-wasip2 target installed?):\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(target.join(format!("wasm32-wasip2/release/{artifact}.wasm")))
    });
    match result {
        Ok(path) => path.clone(),
        Err(e) => panic!("{e}"),
    }
}
