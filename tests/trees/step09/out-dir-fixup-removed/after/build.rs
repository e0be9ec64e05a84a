const PROTOS: &[&str] = &["proto/fx/types.proto", "proto/fx/store.proto"];

fn main() {
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(PROTOS)
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()
        .expect("codegen");
}
