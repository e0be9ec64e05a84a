// Text only (trees are not built): the crate as published also sets prost's
// `Config::enable_type_names()`, which `prost::Name` needs; step 1's build-script notes about it
// are covered elsewhere.
fn main() {
    tonic_prost_build::configure()
        .build_server(false)
        .compile_protos(&["proto/fx/types.proto", "proto/fx/store.proto"], &["proto"])
        .unwrap();
}
