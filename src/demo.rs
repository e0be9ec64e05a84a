//! The bundled demo workspace: the `greeter` fixture's step-0 tree, shipped inside the binary.

use std::path::Path;

/// (relative path, contents) of every file of the demo workspace.
pub const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../fixtures/greeter/step-0/Cargo.toml"),
    ),
    (
        "build.rs",
        include_str!("../fixtures/greeter/step-0/build.rs"),
    ),
    (
        "proto/helloworld.proto",
        include_str!("../fixtures/greeter/step-0/proto/helloworld.proto"),
    ),
    (
        "src/lib.rs",
        include_str!("../fixtures/greeter/step-0/src/lib.rs"),
    ),
    (
        "src/bin/greeter-server.rs",
        include_str!("../fixtures/greeter/step-0/src/bin/greeter-server.rs"),
    ),
    (
        "src/bin/greeter-client.rs",
        include_str!("../fixtures/greeter/step-0/src/bin/greeter-client.rs"),
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
