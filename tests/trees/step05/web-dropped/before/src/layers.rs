//! The services.

pub struct Greeter;
