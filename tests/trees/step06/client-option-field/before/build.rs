fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Connect stubs and buffa messages, then tonic's client on top of them.
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/tally.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        .out_dir(out_dir.join("tonic"))
        .extern_path(".tally.v1", "crate::connect::tally::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/tally.proto"], &["proto"])?;
    Ok(())
}
