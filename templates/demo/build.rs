fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Generates `helloworld.rs` (messages + client + server) into OUT_DIR.
    tonic_prost_build::compile_protos("proto/helloworld.proto")?;
    Ok(())
}
