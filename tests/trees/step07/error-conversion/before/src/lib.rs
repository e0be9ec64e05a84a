pub mod errors;
pub mod sdk;
