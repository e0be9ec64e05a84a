//! Generates three trees from `../tests/proto/shimtest.proto`, each in its own `OUT_DIR`
//! subfolder (a shared folder lets generators overwrite each other's files silently):
//! - `connect/`: buffa messages + connect stubs (connectrpc-build);
//! - `tonic_buffa/`: tonic stubs on those buffa messages through `connect_shim::codec::BuffaCodec`;
//! - `tonic_prost/`: plain tonic + prost, the baseline for the codec benchmark.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        // Safe: build scripts are single-threaded at this point.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let proto = "../tests/proto/shimtest.proto";
    let includes = ["../tests/proto"];
    println!("cargo:rerun-if-changed={proto}");

    for sub in ["connect", "tonic_buffa", "tonic_prost"] {
        std::fs::create_dir_all(out.join(sub))?;
    }

    connectrpc_build::Config::new()
        .files(&[proto])
        .includes(&includes)
        .out_dir(out.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;

    tonic_prost_build::configure()
        .out_dir(out.join("tonic_buffa"))
        .extern_path(".shimtest.v1", "crate::connect::shimtest::v1")
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::buffa_types::google::protobuf")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&[proto], &includes)?;

    tonic_prost_build::configure()
        .out_dir(out.join("tonic_prost"))
        .compile_protos(&[proto], &includes)?;
    Ok(())
}
