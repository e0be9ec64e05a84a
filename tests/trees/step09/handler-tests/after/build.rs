fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/greet.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .emit_descriptor_set("greet_descriptor.bin")
        .compile()?;
    println!("cargo:rerun-if-changed=proto/greet.proto");
    Ok(())
}
