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
    fn authed(hello: HelloRequest) -> (HelloRequest, connectrpc::RequestContext) {
        let mut req = connectrpc::RequestContext::new(Default::default());
        let mut extensions = req.extensions().clone();
        req.headers_mut()
            .insert("authorization", TOKEN.parse().unwrap());
        extensions.insert(Tenant("acme".into()));
        req.headers_mut()
            .insert("x-trace-bin", grpc_bin_encode(b"\x01\x02").parse().unwrap());
        (hello, req.with_extensions(extensions))
    }

    // A generic helper with a second parameter.
    fn with_tenant<M>(tenant: &str, message: M) -> (M, connectrpc::RequestContext) {
        let request = connectrpc::RequestContext::new(Default::default());
        let mut extensions = request.extensions().clone();
        extensions.insert(Tenant(tenant.into()));
        (message, request.with_extensions(extensions))
    }

    #[tokio::test]
    async fn tenant_helper() {
        let a = async {
            let (message, ctx) = with_tenant("a", HelloRequest::default());
            let body = buffa::Message::encode_to_bytes(&message);
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(ctx, connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await;
        let b = async {
            let (message, ctx) = with_tenant("b", HelloRequest { name: "b".into(), ..Default::default() });
            let body = buffa::Message::encode_to_bytes(&message);
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(ctx, connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await;
        assert!(a.is_ok() && b.is_ok());
    }

    #[tokio::test]
    async fn binary_metadata_on_the_chain() {
        let trace = grpc_bin_decode(async {
            let (message, ctx) = authed(HelloRequest::default());
            let body = buffa::Message::encode_to_bytes(&message);
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(ctx, connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }
            .await
            .unwrap()
            .headers
            .get("x-trace-bin")
            .unwrap())
            .unwrap();
        assert_eq!(&trace[..], b"\x01\x02");
    }

    // A helper that makes the message itself.
    fn hello_from(name: &str) -> (HelloRequest, connectrpc::RequestContext) {
        let (message, mut request) = (HelloRequest {
            name: name.into(),
            ..Default::default()
        }, connectrpc::RequestContext::new(Default::default()));
        request.headers_mut().insert("x-from", name.parse().unwrap());
        (message, request)
    }

    #[tokio::test]
    async fn message_made_by_the_helper() {
        let reply = async {
            let (message, ctx) = hello_from("ann");
            let body = buffa::Message::encode_to_bytes(&message);
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(ctx, connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await.unwrap();
        assert_eq!(reply.body.message, "Hello ann!");
    }

    // Used outside handler calls too: it stays, and so do the calls through it.
    fn traced<T>(message: T) -> tonic::Request<T> {
        let mut request = TonicRequest::new(message);
        request.extensions_mut().insert(7u32);
        request
    }

    #[tokio::test]
    async fn through_an_authed_helper() {
        let reply = async {
            let (message, ctx) = authed(HelloRequest::default());
            let body = buffa::Message::encode_to_bytes(&message);
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            MyGreeter.say_hello(ctx, connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }
            .await
            .unwrap()
            .body;
        assert_eq!(reply.message, "Hello !");
    }

    #[tokio::test]
    async fn local_request_with_extensions() {
        let svc = MyGreeter;
        let (req, mut ctx) = (HelloRequest {
            name: "x".into(),
            ..Default::default()
        }, connectrpc::RequestContext::new(Default::default()));
        let mut extensions = ctx.extensions().clone();
        extensions.insert(Tenant("local".into()));
        ctx.headers_mut().insert("x-id", "7".parse().expect("ascii"));
        let res = async {
            let body = buffa::Message::encode_to_bytes(&req);
            let view = buffa::view::MessageView::decode_view(&body).unwrap();
            svc.say_hello(ctx.with_extensions(extensions), connectrpc::ServiceRequest::from_parts(&view, &body)).await
        }.await.unwrap();
        let trace = grpc_bin_decode(res.headers.get("x-trace-bin").expect("trace")).unwrap();
        assert_eq!(&trace[..], b"\x01\x02");
        assert_eq!(res.headers.get("x-id").unwrap(), "7");
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

    /// gRPC binary metadata (a `-bin` header): standard base64, sent without padding.
    /// (Added by cargo connect-migrate: connectrpc takes headers as they go on the wire.)
    fn grpc_bin_encode(bytes: impl AsRef<[u8]>) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = bytes.as_ref();
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// The bytes of a gRPC binary metadata value (base64, padded or not).
    /// (Added by cargo connect-migrate.)
    fn grpc_bin_decode(value: impl AsRef<[u8]>) -> Result<Box<[u8]>, String> {
        let digits = value.as_ref().strip_suffix(b"==").or_else(|| value.as_ref().strip_suffix(b"="));
        let digits = digits.unwrap_or(value.as_ref());
        let mut out = Vec::with_capacity(digits.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for &c in digits {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' | b'-' => 62,
                b'/' | b'_' => 63,
                _ => return Err(format!("invalid base64 byte {c:#04x} in binary metadata")),
            };
            acc = acc << 6 | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Ok(out.into_boxed_slice())
    }
}
