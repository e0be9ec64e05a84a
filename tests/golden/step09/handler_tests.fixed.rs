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
    use tonic::Response;

    #[tokio::test]
    async fn reply_through_a_chain() {
        let greeter = MyGreeter;
        let message = async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest {
                name: "Ferris".into(),
                ..Default::default()
            });
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            greeter.say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }
            .await
            .expect("say_hello failed")
            .body
            .message;
        assert_eq!(message, "Hello Ferris!");
    }

    #[tokio::test]
    async fn bindings_are_followed() {
        let greeter = MyGreeter;
        let result = async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest::default());
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            greeter.say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await;
        assert!(result.is_ok());
        let response = result.unwrap();
        assert_eq!(response.headers.get("x-id").unwrap().to_str().unwrap(), "1");
        assert!(response.headers.contains_key("x-id"));
        let name = &response.body.message;
        let reply = &response.body;
        assert_eq!(name, &reply.message);
        let reply = response.body;
        assert_eq!(reply.message, "Hello !");
    }

    #[tokio::test]
    async fn errors_and_question_marks() -> Result<(), ConnectError> {
        let view = MyGreeter;
        let err = async {
            let request_body = buffa::Message::encode_to_bytes(&HelloRequest::default());
            let request_view = buffa::view::MessageView::decode_view(&request_body).unwrap();
            view.say_many(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&request_view, &request_body)).await
        }
            .await
            .unwrap_err();
        assert_eq!(err.code, connectrpc::ErrorCode::Unimplemented);
        let reply = async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest::default());
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await?.body;
        assert!(reply.message.starts_with("Hello"));
        async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest::default());
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await.unwrap();
        let shared = std::sync::Arc::new(MyGreeter);
        let _ = async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest::default());
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            (*shared).say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await;
        Ok(())
    }

    #[tokio::test]
    async fn request_bound_just_before() {
        let reply = async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest { name: "Ada".into(), ..Default::default() });
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await.unwrap().body;
        assert_eq!(reply.message, "Hello Ada!");
    }

    #[tokio::test]
    async fn server_streams() {
        let mut stream = async {
            let body = buffa::Message::encode_to_bytes(&HelloRequest::default());
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_many(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }
            .await
            .unwrap()
            .body;
        while let Some(item) = stream.next().await {
            let _ = item;
        }
    }

    #[test]
    fn a_response_type_named_elsewhere() {
        let _: Option<Response<()>> = None;
    }
}
