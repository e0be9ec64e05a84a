use tonic::transport::server::UdsConnectInfo;

pub struct Ledger;

/// Who is calling, as the socket says.
pub fn caller<T>(request: &tonic::Request<T>) -> Option<u32> {
    let info = request.extensions().get::<UdsConnectInfo>()?;
    info.peer_cred.map(|c| c.uid())
}
