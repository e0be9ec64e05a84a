fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/inventory.proto", "proto/billing.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        .build_server(false)
        .out_dir(out_dir.join("tonic"))
        .extern_path(".shop.inventory", "crate::connect::shop::inventory")
        .extern_path(".shop.billing", "crate::connect::shop::billing")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/inventory.proto", "proto/billing.proto"], &["proto"])?;
    Ok(())
}
