#[tokio::test]
async fn serves() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let incoming = Ok::<_, std::io::Error>(listener).unwrap();
    tokio::spawn(incoming_app::serve(incoming, std::future::pending()));
}
