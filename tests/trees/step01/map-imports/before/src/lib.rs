pub mod pb {
    tonic::include_proto!("ping.v1");
}

pub mod kept;
pub mod only;
pub mod unused;
