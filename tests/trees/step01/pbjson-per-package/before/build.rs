use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::var("OUT_DIR").unwrap();
    let out_dir = Path::new(&out_dir);
    std::fs::create_dir_all(out_dir.join("common"))?;
    std::fs::create_dir_all(out_dir.join("gateway"))?;

    // Each package in its own directory, the second reading the first's types from its module.
    tonic_prost_build::configure()
        .out_dir(out_dir.join("common"))
        .file_descriptor_set_path(out_dir.join("common").join("descriptor.bin"))
        .compile_protos(&["proto/common.proto"], &["proto"])?;
    tonic_prost_build::configure()
        .out_dir(out_dir.join("gateway"))
        .file_descriptor_set_path(out_dir.join("gateway").join("descriptor.bin"))
        .extern_path(".common", "crate::common")
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
