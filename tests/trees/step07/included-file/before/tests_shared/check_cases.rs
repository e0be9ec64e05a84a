// Included by the tests of each service: `Code` and `Request` come from the including module.
#[tokio::test]
async fn unregistered_service_is_not_found() {
    let resp = HealthService.check(Request::new(())).await;
    // The status a tonic client would see.
    assert_eq!(resp.unwrap_err().code(), Code::NotFound);
}
