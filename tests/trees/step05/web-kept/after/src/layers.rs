//! The gRPC-Web layer, for the tonic services of another binary.

pub use tonic_web::GrpcWebLayer;

pub struct Greeter;
