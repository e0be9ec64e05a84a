use tonic_prost_build::Config;

const PROTOS: &[&str] = &["proto/fx/types.proto", "proto/fx/store.proto"];

fn main() {
    // A config set up behind a feature: step 1 passed it on as it was.
    #[allow(unused_mut)]
    let mut config = Config::new();
    #[cfg(feature = "vendored")]
    {
        config.protoc_executable("/opt/protoc");
    }
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(PROTOS)
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()
        .expect("codegen");
    std::fs::create_dir_all(out_dir.join("tonic")).expect("cannot create OUT_DIR/tonic");
    tonic_prost_build::configure()
        .build_server(false)
        .out_dir(out_dir.join("tonic"))
        .extern_path(".fx.types", "crate::connect::fx::types")
        .extern_path(".fx.store.v1", "crate::connect::fx::store::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_with_config(config, PROTOS, &["proto"])
        .expect("codegen");
}
