fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two packages, each with a service named `Echo`: connect stubs and buffa messages, then
    // tonic's clients on top of them.
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/unary.proto", "proto/echo.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        .out_dir(out_dir.join("tonic"))
        .extern_path(".demo.echo", "crate::connect::demo::echo")
        .extern_path(".demo.unary", "crate::connect::demo::unary")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/unary.proto", "proto/echo.proto"], &["proto"])?;
    Ok(())
}
