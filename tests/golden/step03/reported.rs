use tonic::{Code, Status};

use crate::pb::ledger_server::Ledger;

pub struct LedgerService;

impl LedgerService {
    fn classify(&self, code: Code) -> &'static str {
        match code {
            Code::Ok => "fine",
            Code::NotFound => "missing",
            _ => "other",
        }
    }

    fn legacy(&self) -> Status {
        // connect-migrate: ignore
        let kept = Status::internal("left for later");
        let _ = kept;
        Status::with_details(Code::Aborted, "with details", Default::default())
    }
}
