use std::{env, fs, io};

const PROTOS: &[&str] = &["proto/fx/types.proto", "proto/fx/store.proto"];

fn main() {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(PROTOS)
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()
        .expect("codegen");
    tonic_prost_build::configure()
        .build_server(false)
        .extern_path(".fx.types", "crate::connect::fx::types")
        .extern_path(".fx.store.v1", "crate::connect::fx::store::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
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
