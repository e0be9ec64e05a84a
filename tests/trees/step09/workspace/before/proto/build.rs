use std::path::PathBuf;
use tonic_prost_build::configure;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    connectrpc_build::Config::new()
        .files(&["proto/echo/v1/echo.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    let builder = configure()
        .out_dir(out_dir.join("tonic"))
        .extern_path(".echo.v1", "crate::connect::echo::v1")
        .codec_path("connect_shim::codec::BuffaCodec");
    builder.compile_protos(&["proto/echo/v1/echo.proto"], &["proto"])?;
    Ok(())
}
