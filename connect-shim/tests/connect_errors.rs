//! `connect_shim::server::connect_errors` (the adapters step 3 moves bodies to) and
//! `tonic_call_connect!`: tonic-style bodies whose errors are `ConnectError`s.

use std::sync::Arc;

use connect_shim::server::connect_errors::{self, Inbound};
use connectrpc::{ConnectError, ErrorCode, InboundStream, RequestContext, StreamMessage};
use futures::StreamExt;
use testsvc::connect::{EchoReply, EchoRequest};
use testsvc::impls::{Bridged, TonicEcho};

fn req(text: &str, count: i32) -> EchoRequest {
    EchoRequest {
        text: text.into(),
        count,
        ..Default::default()
    }
}

fn inbound(items: Vec<Result<EchoRequest, ConnectError>>) -> InboundStream<EchoRequest> {
    Box::pin(futures::stream::iter(
        items
            .into_iter()
            .map(|r| r.map(|m| StreamMessage::from_message(&m))),
    ))
}

/// A client-stream body in step 3's shape: `message().await?` on the inbound stream, a
/// `ConnectError` returned as such.
async fn total(requests: InboundStream<EchoRequest>) -> connectrpc::ServiceResult<EchoReply> {
    connect_errors::client_stream(RequestContext::default(), requests, |request| async move {
        let mut points: Inbound<EchoRequest> = request.into_inner();
        let mut sum = 0;
        while let Some(p) = points.message().await? {
            sum += p.count;
        }
        if sum == 0 {
            return Err(ConnectError::failed_precondition("nothing to add"));
        }
        let mut response = tonic::Response::new(EchoReply {
            text: format!("sum {sum}"),
            ..Default::default()
        });
        response
            .metadata_mut()
            .insert("x-sum", sum.to_string().parse().unwrap());
        Ok(response)
    })
    .await
}

#[tokio::test]
async fn client_stream_reads_owned_messages_and_keeps_metadata() {
    let reply = total(inbound(vec![Ok(req("a", 2)), Ok(req("b", 3))]))
        .await
        .unwrap();
    assert_eq!(reply.body.text, "sum 5");
    assert_eq!(reply.headers.get("x-sum").unwrap(), "5");
}

#[tokio::test]
async fn errors_pass_through_unchanged() {
    // Returned by the body.
    let err = total(inbound(vec![])).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::FailedPrecondition);
    assert_eq!(err.message.as_deref(), Some("nothing to add"));
    // Raised by the upload, surfacing from `message().await?`.
    let err = total(inbound(vec![
        Ok(req("a", 1)),
        Err(ConnectError::data_loss("cut")),
    ]))
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::DataLoss);
}

#[tokio::test]
async fn bidi_stream_items_may_fail_with_status_or_connect_errors() {
    let out = connect_errors::bidi_stream(
        RequestContext::default(),
        inbound(vec![Ok(req("x", 1)), Ok(req("stop", 2))]),
        |request| async move {
            let stream = request.into_inner().map(|item| {
                let m = item.map_err(connect_shim::status::to_status)?;
                if m.text == "stop" {
                    // A tonic error from code that still produces them.
                    return Err(tonic::Status::aborted("stopped"));
                }
                Ok(EchoReply {
                    text: m.text,
                    ..Default::default()
                })
            });
            Ok(tonic::Response::new(stream))
        },
    )
    .await
    .unwrap();
    let items: Vec<_> = out.body.collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().text, "x");
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.code, ErrorCode::Aborted);
    assert_eq!(err.message.as_deref(), Some("stopped"));
}

#[tokio::test]
async fn tonic_call_connect_gives_connect_errors() {
    use testsvc::connect::Echo as _;
    let svc = Bridged(Arc::new(TonicEcho));
    let ok = connect_shim::tonic_call_connect!(svc, say, tonic::Request::new(req("hi", 2)))
        .await
        .unwrap();
    assert!(ok.into_inner().text.contains("hi"));
    let err: ConnectError =
        connect_shim::tonic_call_connect!(svc, say, tonic::Request::new(req("fail", 1)))
            .await
            .unwrap_err();
    assert_ne!(err.code, ErrorCode::Unknown);
}
