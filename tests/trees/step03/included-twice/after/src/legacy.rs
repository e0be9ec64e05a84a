pub mod errors {
    use connectrpc::RequestContext;

    /// The legacy error type: not tonic's.
    pub struct Status(pub String);

    impl Status {
        pub fn not_found(m: &str) -> Self {
            Status(m.into())
        }
    }

    include!("shared_errors.rs");
}
