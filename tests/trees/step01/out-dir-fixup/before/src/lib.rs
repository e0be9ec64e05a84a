pub mod types {
    tonic::include_proto!("fx.types");
}

pub mod store {
    tonic::include_proto!("fx.store.v1");
}
