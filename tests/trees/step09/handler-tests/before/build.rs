fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/greet.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .emit_descriptor_set("greet_descriptor.bin")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        // For reflection.
        .file_descriptor_set_path(out_dir.join("greet_descriptor.bin"))
        .out_dir(out_dir.join("tonic"))
        .extern_path(".greet.v1", "crate::connect::greet::v1")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/greet.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto/greet.proto");
    Ok(())
}
