fn main() {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/money.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile().unwrap();
    std::fs::create_dir_all(out_dir.join("tonic")).expect("cannot create OUT_DIR/tonic");
    tonic_prost_build::configure()
        .out_dir(out_dir.join("tonic"))
        .extern_path(".money", "crate::pb::connect::money")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/money.proto"], &["proto"]).unwrap();
}
