//! The tonic-shaped call helpers (`tonic_unary`, `tonic_client_stream`, `tonic_server_stream`,
//! `tonic_bidi`, and their `connect_errors` twins) over a native connect client, each awaited
//! inside `tokio::spawn`: code that spawned a tonic call keeps compiling (the future must be
//! `Send` with the client's concrete view types) and the call still works.
mod common;

use connect_shim::client as shim;
use connectrpc::Protocol;
use futures::StreamExt;

#[tokio::test]
async fn helpers_are_send_inside_spawned_tasks() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let client = common::connect_echo_client(addr, Protocol::Grpc);

    let c = client.clone();
    let unary = tokio::spawn(async move {
        let r = shim::tonic_unary(common::req("u", 1), |m, o| c.say_with_options(m, o)).await?;
        Ok::<_, tonic::Status>(r.into_inner().text)
    });
    let c = client.clone();
    let collect = tokio::spawn(async move {
        let up = futures::stream::iter(vec![common::req("a", 1), common::req("b", 1)]);
        let r = shim::tonic_client_stream(up, |s, o| c.collect_with_options(s, o)).await?;
        Ok::<_, tonic::Status>(r.into_inner().text)
    });
    let c = client.clone();
    let repeat = tokio::spawn(async move {
        let r = shim::tonic_server_stream(common::req("r", 2), |m, o| c.repeat_with_options(m, o))
            .await?;
        let mut s = r.into_inner();
        let mut out = Vec::new();
        while let Some(m) = s.message().await? {
            out.push(m.text);
        }
        Ok::<_, tonic::Status>(out.join(","))
    });
    let c = client.clone();
    let chat = tokio::spawn(async move {
        let up = futures::stream::iter(vec![common::req("x", 0), common::req("y", 0)]);
        let r = shim::tonic_bidi(up, |o| c.chat_with_options(o)).await?;
        let mut s = r.into_inner();
        let mut out = Vec::new();
        while let Some(m) = s.message().await? {
            out.push(m.text);
        }
        Ok::<_, tonic::Status>(out.join(","))
    });
    assert_eq!(unary.await.unwrap().unwrap(), "hello u");
    assert_eq!(collect.await.unwrap().unwrap(), "a,b");
    assert_eq!(repeat.await.unwrap().unwrap(), "r 0,r 1");
    assert_eq!(chat.await.unwrap().unwrap(), "echo x,echo y");

    // The `connect_errors` twins (after step 7: errors are `ConnectError`).
    let c = client.clone();
    let unary = tokio::spawn(async move {
        let r =
            shim::connect_errors::tonic_unary(common::req("v", 1), |m, o| c.say_with_options(m, o))
                .await?;
        Ok::<_, connectrpc::ConnectError>(r.into_inner().text)
    });
    let c = client.clone();
    let collect = tokio::spawn(async move {
        let up = futures::stream::iter(vec![common::req("c", 1), common::req("d", 1)]);
        let r = shim::connect_errors::tonic_client_stream(up, |s, o| c.collect_with_options(s, o))
            .await?;
        Ok::<_, connectrpc::ConnectError>(r.into_inner().text)
    });
    let c = client.clone();
    let repeat = tokio::spawn(async move {
        let r = shim::connect_errors::tonic_server_stream(common::req("s", 2), |m, o| {
            c.repeat_with_options(m, o)
        })
        .await?;
        let texts: Vec<String> = r
            .into_inner()
            .map(|m| m.map(|m| m.text))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        Ok::<_, connectrpc::ConnectError>(texts.join(","))
    });
    let c = client.clone();
    let chat = tokio::spawn(async move {
        let up = futures::stream::iter(vec![common::req("p", 0), common::req("q", 0)]);
        let r = shim::connect_errors::tonic_bidi(up, |o| c.chat_with_options(o)).await?;
        let texts: Vec<String> = r
            .into_inner()
            .map(|m| m.map(|m| m.text))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        Ok::<_, connectrpc::ConnectError>(texts.join(","))
    });
    assert_eq!(unary.await.unwrap().unwrap(), "hello v");
    assert_eq!(collect.await.unwrap().unwrap(), "c,d");
    assert_eq!(repeat.await.unwrap().unwrap(), "s 0,s 1");
    assert_eq!(chat.await.unwrap().unwrap(), "echo p,echo q");
}
