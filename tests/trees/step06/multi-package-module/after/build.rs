const PROTOS: &[&str] = &["proto/fx/alpha.proto", "proto/fx/beta.proto"];

fn main() {
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
        .extern_path(".fx.alpha.v1", "crate::connect::fx::alpha::v1")
        .extern_path(".fx.beta.v1", "crate::connect::fx::beta::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(PROTOS, &["proto"])
        .expect("codegen");
}
