use tonic::Status;
use crate::pb::a_server::A;

pub fn reject( -> Status {
    Status::aborted("stop")
}
