//! Handler unit tests on the shim's `tonic_call_connect!` become native connectrpc calls
//! (`ServiceRequest::from_parts`), and what they read of the tonic Response reads the
//! connectrpc::Response.

use connectrpc::{ConnectError, RequestContext, ServiceRequest, ServiceResult, ServiceStream};

use crate::pb::{Greeter, HelloReply, HelloRequest};

pub struct MyGreeter;

impl Greeter for MyGreeter {
    async fn say_hello(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, HelloRequest>,
    ) -> ServiceResult<HelloReply> {
        Ok(connectrpc::Response::new(HelloReply {
            message: format!("Hello {}!", request.name),
            ..Default::default()
        })
        .with_header("x-id", "1"))
    }

    async fn say_many(
        &self,
        _ctx: RequestContext,
        _request: ServiceRequest<'_, HelloRequest>,
    ) -> ServiceResult<ServiceStream<HelloReply>> {
        Err(ConnectError::unimplemented("later"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use tonic::{Request, Response};

    #[tokio::test]
    async fn reply_through_a_chain() {
        let greeter = MyGreeter;
        let message = connect_shim::tonic_call_connect!(greeter, say_hello, Request::new(HelloRequest {
                name: "Ferris".into(),
                ..Default::default()
            }))
            .await
            .expect("say_hello failed")
            .into_inner()
            .message;
        assert_eq!(message, "Hello Ferris!");
    }

    #[tokio::test]
    async fn bindings_are_followed() {
        let greeter = MyGreeter;
        let result = connect_shim::tonic_call_connect!(&greeter, say_hello, Request::new(HelloRequest::default()),).await;
        assert!(result.is_ok());
        let response = result.unwrap();
        assert_eq!(response.metadata().get("x-id").unwrap().to_str().unwrap(), "1");
        assert!(response.metadata().contains_key("x-id"));
        let name = &response.get_ref().message;
        let reply = response.get_ref();
        assert_eq!(name, &reply.message);
        let reply = response.into_inner();
        assert_eq!(reply.message, "Hello !");
    }

    #[tokio::test]
    async fn errors_and_question_marks() -> Result<(), ConnectError> {
        let view = MyGreeter;
        let err = connect_shim::tonic_call_connect!(view, say_many, tonic::Request::new(HelloRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(err.code, connectrpc::ErrorCode::Unimplemented);
        let reply = connect_shim::tonic_call_connect!(MyGreeter, say_hello, ::tonic::Request::new(HelloRequest::default())).await?.into_inner();
        assert!(reply.message.starts_with("Hello"));
        connect_shim::tonic_call_connect!(MyGreeter, say_hello, Request::<HelloRequest>::new(HelloRequest::default())).await.unwrap();
        let shared = std::sync::Arc::new(MyGreeter);
        let _ = connect_shim::tonic_call_connect!(*shared, say_hello, Request::new(HelloRequest::default())).await;
        Ok(())
    }

    #[tokio::test]
    async fn request_bound_just_before() {
        let request = tonic::Request::new(HelloRequest { name: "Ada".into(), ..Default::default() });
        let reply = connect_shim::tonic_call_connect!(MyGreeter, say_hello, request).await.unwrap().into_inner();
        assert_eq!(reply.message, "Hello Ada!");
    }

    #[tokio::test]
    async fn server_streams() {
        use connect_shim::tonic_call_connect as call;
        use tonic::Request as TonicRequest;
        let mut stream = call!(MyGreeter, say_many, TonicRequest::new(HelloRequest::default()))
            .await
            .unwrap()
            .into_inner();
        while let Some(item) = stream.next().await {
            let _ = item;
        }
    }

    #[test]
    fn a_response_type_named_elsewhere() {
        let _: Option<Response<()>> = None;
    }
}
