//! Channels the step must leave on tonic: a helper's value kept in a struct field, a `Channel`
//! parameter read in a macro, and an interceptor computing a value per call. Nothing of the group changes; each site is listed.

use std::time::{SystemTime, UNIX_EPOCH};

use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status};

pub struct Pool {
    pub channel: Channel,
}

pub async fn open(url: &'static str) -> Channel {
    Endpoint::from_static(url).connect().await.unwrap()
}

pub async fn pool(url: &'static str) -> Pool {
    Pool {
        channel: open(url).await,
    }
}

/// Read inside a macro the step cannot follow.
pub fn describe(ch: Channel) -> String {
    format!("{ch:?}")
}

#[derive(Clone)]
pub struct Stamp;

impl Interceptor for Stamp {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        request
            .metadata_mut()
            .insert("x-sent-at", now.to_string().parse().unwrap());
        Ok(request)
    }
}
