use connectrpc::ConnectError;
use crate::pb::a_server::A;

pub fn reject() -> ConnectError {
    ConnectError::aborted("stop")
}
