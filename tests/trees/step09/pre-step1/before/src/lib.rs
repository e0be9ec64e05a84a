//! Still on tonic 0.13 and prost: step 9 has nothing to remove before step 1.

pub mod pb {
    tonic::include_proto!("greet.v1");
}
