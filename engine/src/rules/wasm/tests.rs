use std::sync::Arc;

use super::*;

fn runtime() -> Arc<WasmRuntime> {
    WasmRuntime::new(WasmConfig::default()).expect("wasmtime starts")
}

#[test]
fn a_component_importing_the_filesystem_is_refused_by_name() {
    let wat = r#"(component (import "wasi:filesystem/types@0.2.0" (instance)))"#;
    let err = runtime().load(wat.as_bytes()).expect_err("must be refused");
    assert!(
        err.to_string().contains("wasi:filesystem/types@0.2.0"),
        "{err}"
    );
    let wat = r#"(component (import "wasi:sockets/tcp@0.2.0" (instance)))"#;
    let err = runtime().load(wat.as_bytes()).expect_err("must be refused");
    assert!(err.to_string().contains("wasi:sockets/tcp@0.2.0"), "{err}");
}

#[test]
fn garbage_a_core_module_and_the_wrong_world_are_refused() {
    let rt = runtime();
    let err = rt
        .load(b"\0asm but not really")
        .expect_err("must be refused");
    assert!(
        err.to_string()
            .contains("not a valid WebAssembly component"),
        "{err}"
    );
    let err = rt.load(b"(module)").expect_err("must be refused");
    assert!(
        err.to_string()
            .contains("not a valid WebAssembly component"),
        "{err}"
    );
    let err = rt.load(b"(component)").expect_err("must be refused");
    assert!(
        err.to_string().contains("does not implement world"),
        "{err}"
    );
}

#[test]
fn an_oversized_component_is_refused_before_compiling() {
    let rt = WasmRuntime::new(WasmConfig {
        limits: WasmLimits {
            max_component_bytes: 16,
            ..WasmLimits::default()
        },
        ..WasmConfig::default()
    })
    .expect("wasmtime starts");
    let err = rt.load(&[0u8; 17]).expect_err("must be refused");
    assert!(
        err.to_string().contains("more than the limit of 16"),
        "{err}"
    );
}
