// Text only (trees are not built): the crate as published also sets prost's
// `Config::enable_type_names()`, which `prost::Name` needs; step 1's build-script notes about it
// are covered elsewhere.
fn main() {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/fx/types.proto", "proto/fx/store.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()
        .unwrap();
    std::fs::create_dir_all(out_dir.join("tonic")).expect("cannot create OUT_DIR/tonic");
    tonic_prost_build::configure()
        .build_server(false)
        .out_dir(out_dir.join("tonic"))
        .extern_path(".fx.types", "crate::fx::connect::fx::types")
        .extern_path(".fx.store.v1", "crate::fx::connect::fx::store::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/fx/types.proto", "proto/fx/store.proto"], &["proto"])
        .unwrap();
}
