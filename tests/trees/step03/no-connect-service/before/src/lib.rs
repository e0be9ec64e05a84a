//! A crate whose stubs step 1 could not see (checked in elsewhere), with its own tonic-shaped
//! service trait on top of them: step 2 converted no handler, so step 3 must not change the
//! errors these methods return (the trait still wants tonic's Status), and says so once per file.

pub mod retry;

use tonic::{Request, Status};

/// A higher-level service, implemented by users, served by a tonic server elsewhere.
#[tonic::async_trait]
pub trait LedgerSql: Send + Sync + 'static {
    async fn begin(&self, request: Request<String>) -> Result<u64, Status>;
}

pub struct Memory;

#[tonic::async_trait]
impl LedgerSql for Memory {
    async fn begin(&self, request: Request<String>) -> Result<u64, Status> {
        if request.get_ref().is_empty() {
            return Err(Status::invalid_argument("empty transaction name"));
        }
        Ok(1)
    }
}
