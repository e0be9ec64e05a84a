fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .buffa_config({
            let mut config = connectrpc_build::CodeGenConfig::default();
            config.generate_json = true;
            // `Eq` / `Hash` on messages (map keys, `Eq` / `Hash` types, derive attributes; prost
            // derived them): buffa derives them only without the unknown-fields member, which
            // prost never kept either.
            config.preserve_unknown_fields = false;
            config.message_attributes.push((".grid.v1.Area".into(), "#[derive(Eq)]".into()));
            config.message_attributes.push((".grid.v1.Cell".into(), "#[derive(Eq, Hash)]".into()));
            config
        })
        .files(&["proto/grid.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        .out_dir(out_dir.join("tonic"))
        .extern_path(".grid.v1", "crate::connect::grid::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/grid.proto"], &["proto"])?;
    Ok(())
}
