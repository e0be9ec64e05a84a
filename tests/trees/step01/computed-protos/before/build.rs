use std::path::PathBuf;

// The schema's directory is computed when the script runs: the tool cannot read the paths.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("proto");
    let files: Vec<PathBuf> = ["inv/stock.proto", "inv/audit.proto"]
        .iter()
        .map(|name| root.join(name))
        .collect();
    tonic_prost_build::configure()
        .build_server(true)
        .compile_protos(&files, &[root])?;
    Ok(())
}
