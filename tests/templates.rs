//! The code the tool writes into users' crates (`templates/`, see its README) compiles: every
//! template is put, as the tool writes it, into one scratch crate with the dependencies the tool
//! gives a migrated crate, and built in the shared fixture target directory (like the fixture
//! builds; `CONNECT_MIGRATE_FIXTURE_TARGET` shares it between checkouts).
//!
//! `templates/connect-shim/` and `templates/demo/` are whole crates built by their own tests
//! (`connect-shim`'s tests and `tests/demo_build.rs`); this test covers the files that become
//! modules of a user's crate.

mod support;

use std::path::Path;

/// The module templates, as (module name, text the tool writes).
fn module_templates() -> Vec<(&'static str, String)> {
    use cargo_connect_migrate::steps;
    vec![
        (
            "connect_compat",
            steps::step09::hosting::MODULE_TEXT.to_string(),
        ),
        ("google_rpc", steps::details::module_text()),
    ]
}

/// Every `.rs` file of `templates/` (outside the crates `connect-shim/` and `demo/`) is one
/// that the tool embeds: a new template without this test's attention fails here.
#[test]
fn every_module_template_is_embedded_by_the_tool() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let embedded: String = module_templates()
        .into_iter()
        .map(|(_, t)| t)
        .chain([metadata_helpers()])
        .collect();
    let mut found = 0;
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel == "connect-shim" || rel == "demo" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if rel.ends_with(".rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(
                    embedded.contains(text.trim_end()),
                    "templates/{rel} is not what the tool writes (not embedded, or changed on the way)"
                );
                found += 1;
            }
        }
    }
    assert_eq!(
        found, 4,
        "connect_compat, google_rpc/{{compat,messages}}, metadata_helpers"
    );
}

/// The binary-metadata helpers step 6 inserts into a function's file (free functions).
fn metadata_helpers() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/metadata_helpers.rs"),
    )
    .unwrap()
}

#[test]
fn module_templates_compile_in_a_crate_with_the_dependencies_the_tool_adds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).unwrap();
    // What steps 1, 3, 5 and 9 add to a crate's manifest for this code.
    std::fs::write(
        d.join("Cargo.toml"),
        r#"[package]
name = "templates-check"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
axum = { version = "0.8", features = ["http1", "http2", "tokio"] }
buffa = { version = "0.9", features = ["json"] }
buffa-types = { version = "0.9", features = ["json"] }
connectrpc = { version = "0.9", features = ["client", "server"] }
tokio = { version = "1", features = ["full"] }
"#,
    )
    .unwrap();
    let mut lib = String::from("#![allow(dead_code)]\n");
    for (module, text) in module_templates() {
        std::fs::write(d.join("src").join(format!("{module}.rs")), text).unwrap();
        lib.push_str(&format!("pub mod {module};\n"));
    }
    std::fs::write(d.join("src/metadata_helpers.rs"), metadata_helpers()).unwrap();
    lib.push_str("mod metadata_helpers;\n");
    std::fs::write(d.join("src/lib.rs"), lib).unwrap();
    let out = support::cargo(d).args(["build", "--lib"]).output().unwrap();
    assert!(
        out.status.success(),
        "the module templates do not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
