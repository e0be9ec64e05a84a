use std::{env, fs, io};

const PROTOS: &[&str] = &["proto/fx/types.proto", "proto/fx/store.proto"];

fn main() {
    tonic_prost_build::configure()
        .build_server(false)
        .compile_protos(PROTOS, &["proto"])
        .expect("codegen");
    // The service's references to the shared types are rewritten to crate paths.
    patch("fx.store.v1").expect("patched");
}

fn patch(module: &str) -> Result<(), io::Error> {
    let path = format!("{}/{}.rs", env::var("OUT_DIR").unwrap(), module);
    let text = fs::read_to_string(&path)?.replace("super::super::types", "crate::types");
    fs::write(path, text)
}
