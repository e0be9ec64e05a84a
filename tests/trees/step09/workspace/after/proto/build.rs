use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    connectrpc_build::Config::new()
        .files(&["proto/echo/v1/echo.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    Ok(())
}
