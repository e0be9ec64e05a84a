//! Handler tests whose tonic requests carry metadata and extensions, built by helpers of the
//! test module or in the test itself, in other spellings than the platform fixture's.

use std::sync::Arc;

use crate::pb::{Greeter, HelloRequest};

pub struct MyGreeter;

#[derive(Clone)]
pub struct Tenant(pub Arc<str>);

#[cfg(test)]
mod tests {
    use super::*;
    use connect_shim::tonic_call_connect as call;
    use tonic::metadata::{BinaryMetadataValue, MetadataValue};
    use tonic::Request as TonicRequest;

    const TOKEN: &str = "Bearer t";

    // A helper on a concrete message type, with its own names.
    fn authed(hello: HelloRequest) -> TonicRequest<HelloRequest> {
        let mut req = tonic::Request::new(hello);
        req.metadata_mut()
            .insert("authorization", MetadataValue::from_static(TOKEN));
        req.extensions_mut().insert(Tenant("acme".into()));
        req.metadata_mut()
            .insert_bin("x-trace-bin", BinaryMetadataValue::from_bytes(b"\x01\x02"));
        req
    }

    // A generic helper with a second parameter.
    fn with_tenant<M>(tenant: &str, message: M) -> TonicRequest<M> {
        let mut request = TonicRequest::new(message);
        request.extensions_mut().insert(Tenant(tenant.into()));
        request
    }

    #[tokio::test]
    async fn tenant_helper() {
        let a = call!(MyGreeter, say_hello, with_tenant("a", HelloRequest::default())).await;
        let b = call!(MyGreeter, say_hello, with_tenant("b", HelloRequest { name: "b".into(), ..Default::default() })).await;
        assert!(a.is_ok() && b.is_ok());
    }

    #[tokio::test]
    async fn binary_metadata_on_the_chain() {
        let trace = call!(MyGreeter, say_hello, authed(HelloRequest::default()))
            .await
            .unwrap()
            .metadata()
            .get_bin("x-trace-bin")
            .unwrap()
            .to_bytes()
            .unwrap();
        assert_eq!(&trace[..], b"\x01\x02");
    }

    // A helper that makes the message itself.
    fn hello_from(name: &str) -> TonicRequest<HelloRequest> {
        let mut request = TonicRequest::new(HelloRequest {
            name: name.into(),
            ..Default::default()
        });
        request.metadata_mut().insert("x-from", name.parse().unwrap());
        request
    }

    #[tokio::test]
    async fn message_made_by_the_helper() {
        let reply = call!(MyGreeter, say_hello, hello_from("ann")).await.unwrap();
        assert_eq!(reply.get_ref().message, "Hello ann!");
    }

    // Used outside handler calls too: it stays, and so do the calls through it.
    fn traced<T>(message: T) -> tonic::Request<T> {
        let mut request = TonicRequest::new(message);
        request.extensions_mut().insert(7u32);
        request
    }

    #[tokio::test]
    async fn through_an_authed_helper() {
        let reply = call!(MyGreeter, say_hello, authed(HelloRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.message, "Hello !");
    }

    #[tokio::test]
    async fn local_request_with_extensions() {
        let svc = MyGreeter;
        let mut req = TonicRequest::new(HelloRequest {
            name: "x".into(),
            ..Default::default()
        });
        req.extensions_mut().insert(Tenant("local".into()));
        req.metadata_mut().insert("x-id", "7".parse().expect("ascii"));
        let res = call!(svc, say_hello, req).await.unwrap();
        let trace = res.metadata().get_bin("x-trace-bin").expect("trace").to_bytes().unwrap();
        assert_eq!(&trace[..], b"\x01\x02");
        assert_eq!(res.metadata().get("x-id").unwrap(), "7");
    }

    #[tokio::test]
    async fn helper_also_used_elsewhere() {
        let res = call!(MyGreeter, say_hello, traced(HelloRequest::default())).await;
        assert!(res.is_ok());
        let r = traced(());
        assert!(r.extensions().get::<u32>().is_some());
    }

    #[tokio::test]
    async fn request_read_after_the_call() {
        let mut req = TonicRequest::new(HelloRequest::default());
        req.metadata_mut().insert("x-id", "1".parse().unwrap());
        let res = call!(MyGreeter, say_hello, req.clone()).await;
        assert!(res.is_ok());
        assert!(req.metadata().contains_key("x-id"));
    }

    #[tokio::test]
    async fn value_built_elsewhere() {
        let value = MetadataValue::try_from("x").unwrap();
        let mut req = TonicRequest::new(HelloRequest::default());
        req.metadata_mut().insert("x-id", value);
        let res = call!(MyGreeter, say_hello, req).await;
        assert!(res.is_ok());
    }
}
