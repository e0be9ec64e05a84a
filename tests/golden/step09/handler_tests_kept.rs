//! Handler tests step 9 cannot move off the shim (but the first two, whose requests it builds as a
//! context now): they keep `tonic_call_connect!` (or `tonic_call!`) and are listed.

use tonic::{Request, Response};

use crate::pb::{Greeter, HelloRequest};

pub struct MyGreeter;

macro_rules! tonic_call_connect {
    ($($t:tt)*) => {
        async { Ok::<(), ()>(()) }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_shim::tonic_call_connect;

    fn with_metadata(message: HelloRequest) -> Request<HelloRequest> {
        let mut request = Request::new(message);
        request.metadata_mut().insert("x-id", "1".parse().unwrap());
        request
    }

    #[tokio::test]
    async fn request_built_elsewhere() {
        let request = with_metadata(HelloRequest::default());
        let response = tonic_call_connect!(MyGreeter, say_hello, request).await.unwrap();
        assert_eq!(response.into_inner().message, "Hello !");
    }

    #[tokio::test]
    async fn request_with_metadata() {
        let mut request = Request::new(HelloRequest::default());
        request.metadata_mut().insert("x-id", "1".parse().unwrap());
        let reply = tonic_call_connect!(MyGreeter, say_hello, request).await.unwrap().into_inner();
        let _ = reply;
        let request = Request::new(HelloRequest::default());
        let reply = tonic_call_connect!(MyGreeter, say_hello, request).await.unwrap().into_inner();
        let _ = (reply, request);
    }

    #[tokio::test]
    async fn tonic_errors() {
        let status = connect_shim::tonic_call!(MyGreeter, say_hello, Request::new(HelloRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
    }

    #[tokio::test]
    async fn binary_metadata() {
        let response = tonic_call_connect!(MyGreeter, say_hello, Request::new(HelloRequest::default()))
            .await
            .unwrap();
        assert!(response.metadata().get_bin("x-trace-bin").is_some());
    }

    #[tokio::test]
    async fn passed_on_whole() {
        check(tonic_call_connect!(MyGreeter, say_hello, Request::new(HelloRequest::default())).await.unwrap());
        let result = tonic_call_connect!(MyGreeter, say_hello, Request::new(HelloRequest::default())).await;
        match result {
            Ok(r) => assert_eq!(r.into_inner().message, "Hello !"),
            Err(e) => panic!("{e}"),
        }
    }

    #[tokio::test]
    async fn typed_and_mapped() {
        let response: Response<_> = tonic_call_connect!(MyGreeter, say_hello, Request::new(HelloRequest::default())).await.unwrap();
        let _ = response;
        let reply = tonic_call_connect!(MyGreeter, say_hello, Request::new(HelloRequest::default()))
            .await
            .map(Response::into_inner)
            .unwrap();
        let _ = reply;
        let extensions = tonic_call_connect!(MyGreeter, say_hello, Request::new(HelloRequest::default()))
            .await
            .unwrap()
            .extensions()
            .len();
        let _ = extensions;
    }

    // Messages whose type only the handler's signature would say: the native call cannot
    // infer them.
    #[tokio::test]
    async fn untyped_messages() {
        let a = tonic_call_connect!(MyGreeter, say_hello, Request::new(Default::default())).await;
        let b = tonic_call_connect!(MyGreeter, say_hello, Request::new(name.into())).await;
        let _ = (a, b);
    }

    fn check(response: Response<crate::pb::HelloReply>) {
        let _ = response;
    }

    mod local {
        // A crate-local macro of the same name is not the shim's.
        #[tokio::test]
        async fn not_the_shim() {
            let _ = crate::tonic_call_connect!(x, y, z).await;
        }
    }
}
