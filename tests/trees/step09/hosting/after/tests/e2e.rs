#[tokio::test]
async fn serves() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            hosted_app::connect_compat::connect_app(connectrpc::Router::new())
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
}
