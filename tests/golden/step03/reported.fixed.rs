use tonic::{Code, Status};
use connectrpc::{ConnectError, ErrorCode};

use crate::pb::ledger_server::Ledger;

pub struct LedgerService;

impl LedgerService {
    fn classify(&self, code: ErrorCode) -> &'static str {
        match code {
            Code::Ok => "fine",
            ErrorCode::NotFound => "missing",
            _ => "other",
        }
    }

    fn legacy(&self) -> ConnectError {
        // connect-migrate: ignore
        let kept = Status::internal("left for later");
        let _ = kept;
        Status::with_details(ErrorCode::Aborted, "with details", Default::default())
    }
}
