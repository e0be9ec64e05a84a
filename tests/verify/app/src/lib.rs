use tonic::Status;

pub mod pb {
    pub mod store_server {
        pub trait Store {
            fn get(&self) -> Result<(), tonic::Status>;
        }
    }
}

pub struct Svc;

impl pb::store_server::Store for Svc {
    fn get(&self) -> Result<(), Status> {
        Err(Status::internal("no store"))
    }
}
