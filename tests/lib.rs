//! Support for the black-box tests in `it/`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The example partner plugin (`examples/plugin-hotel`), built from source once per test
/// run for `wasm32-wasip2` (`rustup target add wasm32-wasip2`).
///
/// # Panics
/// When the plugin does not build, with cargo's message.
pub fn example_plugin() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/plugin-hotel");
        let out = Command::new(env!("CARGO"))
            .args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"])
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
        Ok(dir.join("target/wasm32-wasip2/release/plugin_hotel.wasm"))
    });
    match built {
        Ok(path) => path.clone(),
        Err(e) => panic!("{e}"),
    }
}
