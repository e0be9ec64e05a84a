//! The bundled demo workspace: the `greeter` fixture's step-0 tree, shipped inside the binary.
//!
//! The files come from `templates/demo/`, a copy of `fixtures/greeter/step-0/` (its manifest
//! stored as `Cargo.toml.in`: `cargo package` leaves out folders holding a `Cargo.toml`, so the
//! packaged crate could not include the fixture itself). `tests/cli.rs` checks that the copy
//! equals the fixture byte for byte.

use std::path::Path;

/// (relative path, contents) of every file of the demo workspace.
pub const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/demo/Cargo.toml.in"),
    ),
    ("build.rs", include_str!("../templates/demo/build.rs")),
    (
        "proto/helloworld.proto",
        include_str!("../templates/demo/proto/helloworld.proto"),
    ),
    ("src/lib.rs", include_str!("../templates/demo/src/lib.rs")),
    (
        "src/bin/greeter-server.rs",
        include_str!("../templates/demo/src/bin/greeter-server.rs"),
    ),
    (
        "src/bin/greeter-client.rs",
        include_str!("../templates/demo/src/bin/greeter-client.rs"),
    ),
];

/// Write the demo workspace into `dir` (created if needed).
pub fn write(dir: &Path) -> std::io::Result<()> {
    for (rel, text) in FILES {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, text)?;
    }
    Ok(())
}
