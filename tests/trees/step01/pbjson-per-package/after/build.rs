use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::var("OUT_DIR").unwrap();
    let out_dir = Path::new(&out_dir);
    std::fs::create_dir_all(out_dir.join("common"))?;
    std::fs::create_dir_all(out_dir.join("gateway"))?;

    // Each package in its own directory, the second reading the first's types from its module.
    let cargo_out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/common.proto"])
        .files(&["proto/gateway.proto"])
        .includes(&["proto"])
        .out_dir(cargo_out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .emit_descriptor_set("descriptor.bin")
        .compile()?;
    tonic_prost_build::configure()
        .out_dir(out_dir.join("common"))
        .file_descriptor_set_path(out_dir.join("common").join("descriptor.bin"))
        .extern_path(".common", "crate::connect::common")
        .extern_path(".gateway", "crate::connect::gateway")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/common.proto"], &["proto"])?;
    let cargo_out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    tonic_prost_build::configure()
        .out_dir(out_dir.join("gateway"))
        .file_descriptor_set_path(out_dir.join("gateway").join("descriptor.bin"))
        .extern_path(".common", "crate::common")
        .extern_path(".gateway", "crate::connect::gateway")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/gateway.proto"], &["proto"])?;

    // JSON for the prost types.
    for pkg in ["common", "gateway"] {
        let set = std::fs::read(out_dir.join(pkg).join("descriptor.bin"))?;
        pbjson_build::Builder::new()
            .register_descriptors(&set)?
            .out_dir(out_dir.join(pkg))
            .extern_path(".common", "crate::common")
            .build(&[format!(".{pkg}")])?;
    }
    Ok(())
}
